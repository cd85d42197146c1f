"""The package stays readable top to bottom: small modules, and imports that never go in a circle."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kdcourse"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 350


def test_no_module_over_350_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these modules (one concept each, at most {MAX_LINES} lines): {long}"


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path) -> set[str]:
    """kdcourse modules imported when `path` is imported (module level only: imports inside functions wait)."""
    package = _name(path) if path.name == "__init__.py" else _name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {f"{target}.{a.name}" for a in node.names} | {target}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("kdcourse")}
    names = {_name(p) for p in MODULES}
    return {n for n in found if n in names} - {_name(path)}


def find_cycle(graph: dict[str, set[str]], packages: set[str]) -> list[str] | None:
    """A chain of module-level imports that comes back to where it started, or None."""
    def walk(start, node, seen):
        for nxt in graph.get(node, ()):
            if nxt == start:
                return [node, nxt]
            if nxt not in seen and not (nxt in packages and start.startswith(nxt + ".")):
                seen.add(nxt)
                path = walk(start, nxt, seen)
                if path:
                    return [node, *path]
        return None

    for module in graph:
        if module not in packages:  # a package's __init__ imports its own modules: that is how it exports them
            path = walk(module, module, {module})
            if path:
                return path
    return None


def test_no_import_cycles():
    graph = {_name(p): _top_level_imports(p) for p in MODULES}
    assert "kdcourse.trainer_tools" in graph["kdcourse.classify"]  # the graph is read, not empty
    path = find_cycle(graph, {_name(p) for p in MODULES if p.name == "__init__.py"})
    assert path is None, " -> ".join(path)


def test_a_cycle_is_found():
    graph = {"kdcourse.a": {"kdcourse.b"}, "kdcourse.b": {"kdcourse.c"}, "kdcourse.c": {"kdcourse.a"}}
    assert find_cycle(graph, set()) == ["kdcourse.a", "kdcourse.b", "kdcourse.c", "kdcourse.a"]


def test_every_helper_that_needs_the_profile_asks_for_it():
    """No helper falls back to a profile of its own choosing: a `profile` argument has no default."""
    import importlib
    import inspect

    optional = []
    for path in MODULES:
        if path.name == "__main__.py":
            continue  # importing it runs the command
        module = importlib.import_module(_name(path))
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and "profile" in inspect.signature(fn).parameters:
                if inspect.signature(fn).parameters["profile"].default is not inspect.Parameter.empty:
                    optional.append(f"{module.__name__}.{name}")
    assert not optional, optional
    from kdcourse import profiles

    assert not hasattr(profiles, "active_profile")


def test_distillation_builds_on_the_trainer_toolbox_not_on_notebook_02s_lesson():
    """Only the command reaches into `classify`, for the sentiment teacher it distils (notebook 02 builds it)."""
    allowed = {"kdcourse.distill.command": {"load_sentiment_teacher", "sentiment_teacher_dir"}}
    for path in sorted((PACKAGE / "distill").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "classify":
                names = {a.name for a in node.names}
                assert names <= allowed.get(_name(path), set()), f"{_name(path)} imports {names} from classify"
