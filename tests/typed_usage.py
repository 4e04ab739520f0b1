"""bprop used as a user would, fully annotated: what tests/test_typing.py type-checks with mypy (and runs).

Every variable's declared type is what the API promises; a wrong annotation here is a mypy error, so this
file pins the public signatures (Sequential, Module, tensors and grad, save/load, callbacks).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
import numpy.typing as npt

import bprop
from bprop import callbacks, nn, optim
from bprop.datasets import two_spirals


class TwoLayer(bprop.Module):
    """A Module subclass: layers assigned in __init__, forward written on tensors."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(2, hidden)
        self.out = nn.Linear(hidden, 2)
        self.scale = bprop.Parameter(np.ones(2, np.float32), name="scale")

    def forward(self, x: bprop.Tensor) -> bprop.Tensor:
        h: bprop.Tensor = self.hidden(x).relu()
        return self.out(h) * self.scale


class CountEpochs(callbacks.Callback):
    """A user's callback: counts the epochs it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs += 1


def sequential_round_trip(x: npt.NDArray[np.float32], y: npt.NDArray[np.int64], directory: str) -> float:
    model: bprop.Sequential = bprop.Sequential([nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)])
    model.compile(optimizer=optim.Adam(lr=0.01), loss=nn.CrossEntropy(), metrics=["accuracy"])
    counter = CountEpochs()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0,
              callbacks=[counter, callbacks.EarlyStopping(monitor="loss", patience=2)])
    assert counter.epochs == 2
    scores: dict[str, float] = model.evaluate(x, y)
    predictions: npt.NDArray[Any] = model.predict(x)
    assert predictions.shape == (len(x), 2)

    path = os.path.join(directory, "model.bprop")
    model.save(path)
    restored: bprop.Sequential = bprop.load(path)
    assert np.array_equal(restored.predict(x), predictions)
    config: dict[str, Any] = model.get_config()
    assert bprop.Sequential.from_config(config).output_shape == (None, 2)
    return scores["loss"]


def module_training(x: npt.NDArray[np.float32], y: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    net = TwoLayer(hidden=8)
    net.compile(optimizer=optim.SGD(net.parameters(), lr=0.1), loss=nn.CrossEntropy())
    net.fit(x, y, epochs=1, batch_size=64, verbose=0)
    names: list[str] = [name for name, _ in net.named_parameters()]
    assert names[-1] == "scale"
    return net.predict(x)


def autograd() -> float:
    w: bprop.Tensor = bprop.tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)
    x: bprop.Tensor = bprop.tensor([1.0, 2.0])
    loss: bprop.Tensor = ((w @ x).tanh() ** 2).sum()
    (dw,) = bprop.grad(loss, [w], create_graph=True)
    assert isinstance(dw, bprop.Tensor)
    with bprop.no_grad():
        shifted: bprop.Tensor = w - 0.1 * dw
    assert not shifted.requires_grad
    loss.backward()
    gradient: npt.NDArray[Any] | None = w.grad
    assert gradient is not None
    ok: bool = bprop.gradcheck(lambda t: (t * t).mean(), [bprop.tensor([0.5, -1.0], requires_grad=True)])
    assert ok
    return loss.item()


def main() -> None:
    bprop.manual_seed(0)
    x, y = two_spirals(n_per_class=64)
    with tempfile.TemporaryDirectory() as directory:
        sequential_round_trip(x, y, directory)
    module_training(x, y)
    autograd()


if __name__ == "__main__":
    main()
