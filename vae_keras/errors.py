"""The project's error for a mistake of the user's, which a script reports in one line.

A bad argument, a missing or malformed data set, a damaged, busy or foreign run
directory, statistics that a distance cannot be computed from: each raises a
subclass of :class:`UserError` with a message that says what was wrong and how
to fix it, and :func:`vae_keras.cli.guarded` prints that message alone (exit
code 2). Any other exception is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A mistake in what the user asked for or gave; its message says how to fix it."""


class ConfigError(UserError, ValueError):
    """Options that do not fit together or do not fit this machine's backend."""


class RunError(UserError, RuntimeError):
    """A run directory is missing, damaged, busy or does not match the request."""


class FIDInputError(UserError, ValueError):
    """Statistics or images that a Frechet distance cannot be computed from."""
