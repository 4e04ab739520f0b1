"""History.plot: one subplot per quantity, training and validation lines whose data are the history's."""
import builtins

import numpy as np
import pytest

import bprop
from bprop import callbacks, nn, optim

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fitted_history(**fit_kwargs):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    bprop.manual_seed(0)
    model = bprop.Sequential([nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)])
    model.compile(optim.Adam(lr=1e-2), nn.CrossEntropy(), metrics=["accuracy"])
    return model.fit(x, y, epochs=3, batch_size=8, verbose=0, **fit_kwargs)


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_each_quantity_has_a_subplot_with_its_training_and_validation_lines():
    history = fitted_history(validation_split=0.25)
    fig = history.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, quantity in zip(fig.axes, ["loss", "accuracy"]):
        lines = lines_by_label(ax)
        assert sorted(lines) == sorted([quantity, "val_" + quantity])
        for name, line in lines.items():
            np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
            np.testing.assert_array_equal(line.get_ydata(), history.history[name])
        assert ax.get_legend() is not None


def test_without_validation_only_training_lines():
    history = fitted_history()
    fig = history.plot()
    assert [sorted(lines_by_label(ax)) for ax in fig.axes] == [["loss"], ["accuracy"]]


def test_given_axes_are_drawn_on_and_their_figure_returned():
    history = fitted_history(validation_split=0.25)
    fig, axes = plt.subplots(2, 1)
    assert history.plot(axes=axes) is fig
    np.testing.assert_array_equal(lines_by_label(axes[1])["val_accuracy"].get_ydata(),
                                  history.history["val_accuracy"])


def test_figsize_sizes_the_new_figure():
    fig = fitted_history().plot(figsize=(6, 2))
    np.testing.assert_allclose(fig.get_size_inches(), (6, 2))


@pytest.mark.parametrize("figsize, error", [((0, 2), ValueError), ((float("nan"), 2), ValueError),
                                             ((float("inf"), 2), ValueError), ((3,), TypeError), ("ab", TypeError),
                                             (3.0, TypeError), ((True, 2), TypeError)])
def test_bad_figsize_is_refused(figsize, error):
    with pytest.raises(error, match="figsize"):
        fitted_history().plot(figsize=figsize)


def test_a_validation_only_quantity_and_a_late_key():
    history = callbacks.History()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_epoch_end(1, {"loss": 0.5, "val_top": 0.2})
    fig = history.plot()
    line = lines_by_label(fig.axes[1])["val_top"]
    assert fig.axes[1].get_title() == "top"
    np.testing.assert_array_equal(line.get_xdata(), [2])
    np.testing.assert_array_equal(line.get_ydata(), [0.2])


def test_empty_history_is_a_clear_error():
    with pytest.raises(ValueError, match="history is empty"):
        callbacks.History().plot()


def test_wrong_axes_and_both_axes_and_figsize_are_refused():
    history = fitted_history()
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="2 matplotlib Axes"):
        history.plot(axes=ax)
    with pytest.raises(ValueError, match="2 matplotlib Axes"):
        history.plot(axes=[ax, "nope"])
    with pytest.raises(ValueError, match="not both"):
        history.plot(axes=[ax, ax], figsize=(3, 3))


def test_without_matplotlib_the_error_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    history = callbacks.History()
    history.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ImportError, match=r'pip install "bprop\[plot\]"'):
        history.plot()


def test_import_bprop_does_not_import_matplotlib():
    import subprocess
    import sys
    code = "import sys, bprop; from bprop import callbacks; print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
