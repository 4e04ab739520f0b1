"""The Python package's shape: every module imports, no import hides inside a function to dodge a cycle, the
module-level import graph has no cycle, and dependencies point one way between the package's folders
(models -> training -> io -> nn/optim -> autograd -> the private helpers), never back.

Read from the source files of the bprop that is imported (an installed copy, or a source tree on the path).
"""
import ast
import importlib
import pathlib

import pytest

import bprop

PACKAGE_DIR = pathlib.Path(bprop.__file__).parent

# Where each folder (or top-level file) sits: a module may import its own area and areas of a lower rank.
RANKS = {
    "foundation": 0,        # _core, _checks, _dtypes, _mode, _version, _activation_table, runtime, random, linalg
    "autograd": 1,          # tensors, parameters, gradients
    "nn": 2, "optim": 2,    # layers and losses; optimizers (independent of each other)
    "callbacks": 3, "io": 3,  # hooks into fit; files (the trainer reaches them, not the other way)
    "training": 4,          # the fit loop: models are given to it, it never imports them
    "models": 5,            # Sequential, Module: they choose their training loop and register for loading
    "facade": 6,            # bprop/__init__.py, the bprop.tensor path, datasets, the command line
    "onnx": 6,              # export (optional extra): reads models and layers; nothing imports it
    "sklearn": 6,           # scikit-learn estimators over the models (an optional extra: bprop never imports it)
}
FOUNDATION = {"_core", "_checks", "_dtypes", "_mode", "_version", "_activation_table", "runtime", "random", "linalg"}
FACADE = {"", "tensor", "datasets", "__main__"}

# Imports a function may make: optional dependencies, loaded only when the feature that needs them runs.
OPTIONAL_LAZY_IMPORTS = {"tqdm", "matplotlib"}  # matplotlib: History.plot (the plot extra)


def _module_name(path):
    parts = list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["bprop", *parts])


MODULES = {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}
ALL_MODULES = set(MODULES) | {"bprop._core"}


def _area(module):
    first = module.split(".")[1] if "." in module else ""
    if first in FACADE:
        return "facade"
    if first in FOUNDATION:
        return "foundation"
    return first


def _imports(module):
    """(bprop module imported, line, inside a function?) for every import statement of `module`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, node.lineno, in_function))
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(part for part in (base, node.module) if part)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.append((submodule if submodule in ALL_MODULES else target, node.lineno, in_function))
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(path.read_text(), str(path)), False)
    return found


def _bprop(name):
    return name == "bprop" or name.startswith("bprop.")


def _module_level_graph():
    """{module: modules it needs loaded}: its module-level imports of bprop modules, and the packages those
    sit in (whose __init__ runs first), except its own enclosing packages and the root package."""
    graph = {}
    for module in MODULES:
        own_packages = {module.rsplit(".", i)[0] for i in range(module.count(".") + 1)}
        edges = set()
        for target, _, in_function in _imports(module):
            if in_function or not _bprop(target):
                continue
            parts = target.split(".")
            edges |= {".".join(parts[:i]) for i in range(2, len(parts) + 1)} - own_packages
        graph[module] = {edge for edge in edges if edge in MODULES}
    return graph


def test_the_package_is_laid_out_in_folders_by_architecture():
    folders = {p.name for p in PACKAGE_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert {"autograd", "nn", "optim", "callbacks", "training", "io", "models"} <= folders
    assert (PACKAGE_DIR / "nn" / "layers" / "__init__.py").exists()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports(module):
    assert importlib.import_module(module).__name__ == module


def test_no_function_imports_a_bprop_module():
    # An import inside a function is how a cycle hides; optional dependencies are the one reason for it.
    lazy = [(module, line, target) for module in MODULES for target, line, in_function in _imports(module)
            if in_function]
    assert [entry for entry in lazy if _bprop(entry[2])] == []
    assert {target.split(".")[0] for _, _, target in lazy} <= OPTIONAL_LAZY_IMPORTS, lazy


def _find_cycle(graph):
    """A list of modules [a, b, ..., a] each importing the next, or None."""
    state, path = {}, []

    def visit(module):
        state[module] = "open"
        path.append(module)
        for dependency in sorted(graph[module]):
            if state.get(dependency) == "open":
                return path[path.index(dependency):] + [dependency]
            if dependency not in state:
                cycle = visit(dependency)
                if cycle:
                    return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_the_module_level_import_graph_has_no_cycle():
    cycle = _find_cycle(_module_level_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_dependencies_point_one_way_between_folders():
    # models -> training -> io, never back: a lower area never imports a higher one, and areas of one rank
    # (nn and optim, callbacks and io) stay independent of each other.
    wrong = []
    for module in MODULES:
        for target, line, _ in _imports(module):
            if not _bprop(target) or target == "bprop":
                continue
            source_area, target_area = _area(module), _area(target)
            if source_area != target_area and RANKS[target_area] >= RANKS[source_area]:
                wrong.append(f"{module}:{line} ({source_area}) imports {target} ({target_area})")
    assert wrong == []


def test_the_checks_see_imports_as_they_are():
    # The helpers themselves, so the tests above cannot pass by finding nothing: the trainer's imports
    # resolve to modules, the graph holds the edges models -> training, and a planted cycle is found.
    imports = {target for target, _, _ in _imports("bprop.training.trainer")}
    assert {"bprop.callbacks", "bprop.io.saving", "bprop.nn.losses", "bprop.optim"} <= imports
    graph = _module_level_graph()
    assert "bprop.training.trainer" in graph["bprop.models.trainable"]
    assert "bprop.nn" in graph["bprop.io.saving"]  # the package whose __init__ runs first
    planted = {**graph, "bprop.training.trainer": graph["bprop.training.trainer"] | {"bprop.models.module"}}
    cycle = _find_cycle(planted)
    assert cycle is not None and "bprop.training.trainer" in cycle and "bprop.models.module" in cycle
