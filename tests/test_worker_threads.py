"""Each xdist worker's share of the cores (tests/worker_threads.py): what it sets, and when."""

import os

import pytest
from worker_threads import THREAD_VARIABLES, XLA_ONE_THREAD, share_the_cores, worker_cores


@pytest.mark.parametrize(("cores", "workers", "threads"), [(2, 2, 1), (16, 4, 4), (2, 4, 1)])
def test_each_worker_gets_its_share_of_the_cores_and_at_least_one(cores, workers, threads):
    environ = {"PYTEST_XDIST_WORKER_COUNT": str(workers)}
    assert share_the_cores(environ, cores) == threads
    assert {environ[name] for name in THREAD_VARIABLES} == {str(threads)}
    assert (environ.get("XLA_FLAGS") == XLA_ONE_THREAD) == (threads == 1)


@pytest.mark.parametrize(
    ("cores", "workers", "busy"), [(2, 2, 1), (16, 4, 4), (2, 4, 1), (8, 0, 8)]
)
def test_a_test_keeps_at_most_its_workers_share_busy(cores, workers, busy):
    environ = {"PYTEST_XDIST_WORKER_COUNT": str(workers)} if workers else {}
    assert worker_cores(environ, cores) == busy


def test_outside_xdist_nothing_is_set_and_a_users_setting_is_kept():
    environ = {}
    assert share_the_cores(environ, 2) == 0 and environ == {}
    environ = {"PYTEST_XDIST_WORKER_COUNT": "2", "OMP_NUM_THREADS": "3", "XLA_FLAGS": "--x"}
    share_the_cores(environ, 2)
    assert environ["OMP_NUM_THREADS"] == "3" and environ["XLA_FLAGS"] == "--x"
    assert environ["OPENBLAS_NUM_THREADS"] == "1"


def test_this_worker_runs_with_its_share():
    """Under ``make test`` (``-n auto``), this very process got its share before NumPy
    (conftest imports tests/worker_threads.py first)."""
    if "PYTEST_XDIST_WORKER_COUNT" not in os.environ:
        pytest.skip("not under pytest-xdist (make test runs -n auto)")
    assert all(name in os.environ for name in THREAD_VARIABLES)
