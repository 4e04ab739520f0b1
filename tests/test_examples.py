"""The examples and the main job run to the end and reach what they promise (each asserts it)."""
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


# The recurrent examples train for tens of seconds here and take over ten minutes under ASan (-O1, instrumented
# kernels), beyond the timeout; the sanitizer pass covers their layers through test_recurrent and the fuzz sweep.
_LONG_UNDER_SANITIZER = pytest.mark.no_sanitizer


@pytest.mark.parametrize("name", ["xor", "digits", "digits_cnn", "shapes_resnet", "regression", "policy_gradient",
                                  pytest.param("char_lm", marks=_LONG_UNDER_SANITIZER),
                                  pytest.param("long_dependencies", marks=_LONG_UNDER_SANITIZER)])
def test_example(name):
    if name in ("digits", "digits_cnn"):
        pytest.importorskip("sklearn")
    process = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True,
                             timeout=600)
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-2000:]
