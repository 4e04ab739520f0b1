"""bprop's type information (py.typed, annotations, the _core stub) as mypy sees it from a user's code.

mypy runs in this process, so it finds bprop where `import bprop` does (the package under test) and reads
it as an installed, typed package: through its py.typed marker, with errors inside bprop not reported.
Flags: --check-untyped-defs, because the examples' functions are unannotated and mypy would otherwise skip
their bodies; --strict-equality and --warn-unused-ignores, cheap checks a typed user would turn on; and
for tests/typed_usage.py --disallow-untyped-defs, which keeps it fully annotated. Only scikit-learn (no
stubs) may be missing; a global --ignore-missing-imports would hide bprop itself turning into Any.
"""
import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

import bprop  # noqa: E402  (after the skip: nothing to check without mypy)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.py"))
TYPED_USAGE = str(ROOT / "tests" / "typed_usage.py")

CONFIG = """\
[mypy]
cache_dir = {cache}
check_untyped_defs = True
strict_equality = True
warn_unused_ignores = True

[mypy-sklearn.*]
ignore_missing_imports = True
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """A mypy config file whose cache lives in a temporary directory, shared by this module's runs."""
    directory = tmp_path_factory.mktemp("mypy")
    path = directory / "mypy.ini"
    path.write_text(CONFIG.format(cache=directory / "cache"))
    return str(path)


def run_mypy(config, *args):
    stdout, stderr, status = mypy_api.run(["--config-file", config, "--no-error-summary", *args])
    assert "internal error" not in stderr.lower(), stderr
    return stdout, status


def test_package_is_typed():
    """The marker and the stub are where mypy looks for them, next to the modules they describe."""
    package = Path(bprop.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_core.pyi").is_file()


def test_examples_type_check(config):
    stdout, status = run_mypy(config, *EXAMPLES)
    assert status == 0, stdout


def test_typed_usage_type_checks(config):
    stdout, status = run_mypy(config, "--disallow-untyped-defs", TYPED_USAGE)
    assert status == 0, stdout


def test_typed_usage_runs():
    """The annotated script is also a working one: its types describe code that runs."""
    namespace = {"__name__": "typed_usage"}
    exec(compile(Path(TYPED_USAGE).read_text(), TYPED_USAGE, "exec"), namespace)
    namespace["main"]()


# Each line is wrong in a way only bprop's own type information can tell: were bprop seen as Any (no
# py.typed, a missing stub), mypy would accept them all.
WRONG = {
    "tensor_is_not_int": "n: int = bprop.tensor([1.0]).sum()",
    "numpy_gives_an_array": "s: str = bprop.tensor([1.0]).numpy()",
    "item_is_float": "t: bprop.Tensor = bprop.tensor([1.0]).item()",
    "matmul_returns_ndarray": "m: list[float] = bprop.matmul(np.ones((2, 2)), np.ones((2, 2)))",
    "load_takes_a_path": "bprop.load(3)",
    "forward_training_is_bool": "bprop.Sequential([nn.Linear(2, 1)]).forward(np.ones((1, 2)), training='yes')",
    "grad_enabled_is_bool": "g: str = bprop.is_grad_enabled()",
    "layer_names_exist": "nn.NoSuchLayer()",
}


def test_wrong_usage_is_reported(config, tmp_path):
    source = "import numpy as np\nimport bprop\nfrom bprop import nn\n\n" + "\n".join(WRONG.values()) + "\n"
    path = tmp_path / "wrong_usage.py"
    path.write_text(source)
    stdout, status = run_mypy(config, str(path))
    assert status == 1, stdout
    assert "import-untyped" not in stdout and "import-not-found" not in stdout, stdout
    lines_with_errors = {int(line.split(":")[1]) for line in stdout.splitlines() if ": error:" in line}
    missed = [name for i, name in enumerate(WRONG, start=5) if i not in lines_with_errors]
    assert not missed, f"mypy accepted {missed}:\n{stdout}"


def test_layer_names_are_listed_for_type_checkers():
    """nn.layers lists the activations literally (type checkers cannot follow a computed __all__); the
    list must keep up with the activation classes, which register themselves."""
    from bprop.nn.layers import __all__ as layer_names
    from bprop.nn.layers.activations import __all__ as activation_names
    assert set(activation_names) <= set(layer_names)


def test_stub_covers_what_the_package_uses_of_the_core():
    """Every name of bprop._core the stub declares exists, and every public callable of the core is in it."""
    stub = (Path(bprop.__file__).parent / "_core.pyi").read_text()
    declared = set(_stub_names(stub))
    actual = {name for name in dir(bprop._core) if not name.startswith("_")}
    assert declared - actual == set(), "the stub declares names the core lacks"
    assert actual - declared == set(), "names of the core missing from the stub (regenerate it)"


def _stub_names(text):
    for line in textwrap.dedent(text).splitlines():
        for keyword in ("class ", "def "):
            if line.startswith(keyword):
                yield line[len(keyword):].split("(")[0].split(":")[0].strip()
