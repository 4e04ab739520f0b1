"""Every ```python block of README.md runs as written: each in a fresh namespace and a temporary working
directory (blocks that save files write there), as a reader who copies one block would run it."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks():
    """[(first line number of the block's code, code)] in the README's order."""
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in FENCE.finditer(text)]


BLOCKS = python_blocks()


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 5   # the extraction found them (a broken pattern would make every test vanish)


@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_block_runs(line, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for needs, package in (("bprop.sklearn", "sklearn"), ("bprop.onnx", "onnx")):  # optional extras
        if needs in code:
            pytest.importorskip(package)
    if "plot(" in code:
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
    namespace = {"__name__": f"readme_block_{line}"}
    try:
        exec(compile(code, f"README.md:{line}", "exec"), namespace)
    finally:
        if "plot(" in code:
            import matplotlib.pyplot as plt
            plt.close("all")
