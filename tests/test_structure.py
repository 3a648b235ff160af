"""The package's shape: no import cycle (lazy imports inside functions count), small modules."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vae_keras"
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of vae_keras -> the modules of vae_keras it imports, anywhere in its code."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found |= {t for t in targets if t in modules}
        # a package's own __init__ is imported before any of its modules: not an edge
        graph[name] = {t for t in found if t != name and not name.startswith(f"{t}.")}
    return graph


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph[node]:
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_module_imports_itself_back():
    graph = imports()
    assert "vae_keras.fid" in graph and "vae_keras.runs.checkpoint" in graph
    cycles = [c for c in (cycle_through(graph, m) for m in sorted(graph)) if c]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_a_cycle():
    assert cycle_through({"a": {"b"}, "b": {"c"}, "c": {"a"}}, "a") == ["a", "b", "c", "a"]
    assert cycle_through({"a": {"b"}, "b": set()}, "a") is None


def test_no_module_is_over_450_lines():
    long = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_leaf_modules_import_no_backend_and_nothing_of_ours():
    """atomic, batching, variants and errors: what every module may import, so they import
    neither Keras nor a backend nor another module of vae_keras."""
    for leaf in ("atomic", "batching", "variants", "errors"):
        tree = ast.parse((PACKAGE / f"{leaf}.py").read_text())
        roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                 for a in n.names}  # fmt: skip
        roots |= {n.module.split(".")[0] for n in ast.walk(tree)
                  if isinstance(n, ast.ImportFrom) and n.module}  # fmt: skip
        assert not roots & {"keras", "tensorflow", "jax", "torch", "vae_keras"}, (leaf, roots)
