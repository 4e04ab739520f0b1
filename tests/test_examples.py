"""The examples and the main job run to the end and reach what they promise (each asserts it)."""
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("name", ["xor", "digits", "digits_cnn", "shapes_resnet", "regression", "policy_gradient",
                                  "char_lm", "long_dependencies"])
def test_example(name):
    if name in ("digits", "digits_cnn"):
        pytest.importorskip("sklearn")
    process = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True,
                             timeout=600)
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-2000:]
