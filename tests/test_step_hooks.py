"""Gradient hooks: the point of every training step between backward and the update, in both fit engines
(the C++ trainer of a Sequential, a Module's loop) and in custom loops."""
import numpy as np
import pytest

import bprop
from bprop import nn, optim

from test_module import MLP  # a Module running its layers in order


def _layers(seed=0):
    return [nn.Linear(5, 7, seed=seed), nn.Tanh(), nn.Linear(7, 3, seed=seed + 1)]


def _data(rows=37):
    rng = np.random.default_rng(3)
    return rng.standard_normal((rows, 5)).astype(np.float32), rng.integers(0, 3, rows)


def _halve(parameters, step):
    for p in parameters:
        p.grad = p.grad * np.float32(0.5)


@pytest.mark.parametrize("engine", [bprop.Sequential, MLP])
def test_halving_every_gradient_is_sgd_at_half_the_rate(engine):
    # Halving is exact in floating point, so the two trajectories agree bit for bit.
    x, y = _data()
    weights = []
    for lr, hook in ((0.2, _halve), (0.1, None)):
        model = engine(_layers())
        opt = optim.SGD(lr=lr)
        if hook:
            opt.add_gradient_hook(hook)  # before compile binds it: installed at bind
        model.compile(opt, nn.CrossEntropy())
        model.fit(x, y, epochs=3, batch_size=8, seed=5, verbose=0)
        weights.append([p.value() for p in model.parameters()])
    for hooked, half in zip(*weights):
        assert hooked.tobytes() == half.tobytes()


def test_a_hook_sees_every_parameter_once_per_step_in_a_custom_loop():
    model = bprop.Sequential(_layers())
    opt = optim.Adam(model.parameters(), lr=1e-2)
    calls = []
    opt.add_gradient_hook(lambda parameters, step: calls.append((step, [p.name for p in parameters])))
    x, y = _data(8)
    for _ in range(3):
        out = model.forward(x, training=True)
        _, grad = nn.CrossEntropy().forward_backward(out, y)
        model.backward(grad)
        opt.step()
    names = [p.name for p in model.parameters()]
    assert calls == [(0, names), (1, names), (2, names)]


def test_a_failing_hook_stops_the_step_before_any_update():
    model = bprop.Sequential(_layers())
    opt = optim.SGD(model.parameters(), lr=0.5)
    before = [p.value() for p in model.parameters()]

    def fail(parameters, step):
        raise RuntimeError("hook says no")

    opt.add_gradient_hook(fail)
    for p in model.parameters():
        p.grad = np.ones(p.shape, np.float32)
    with pytest.raises(RuntimeError, match="hook says no"):
        opt.step()
    assert opt.step_count == 0
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.value(), b)


def test_a_removed_hook_runs_no_more_and_the_hook_must_be_callable():
    model = bprop.Sequential(_layers())
    opt = optim.SGD(model.parameters(), lr=0.1)
    calls = []
    handle = opt.add_gradient_hook(lambda parameters, step: calls.append(step))
    opt.step()
    handle.remove()
    handle.remove()  # a second remove does nothing
    opt.step()
    assert calls == [0]
    with pytest.raises(TypeError, match="hook must be callable"):
        opt.add_gradient_hook(3)


def test_a_hook_runs_before_clipping():
    # The hook scales the gradients up by 10; clipping by norm then sees the scaled ones.
    model = bprop.Sequential([nn.Linear(2, 1, bias=False, seed=0)])
    opt = optim.SGD(model.parameters(), lr=1.0, clipnorm=1.0)
    opt.add_gradient_hook(lambda parameters, step: [setattr(p, "grad", p.grad * np.float32(10)) for p in parameters])
    w0 = model.parameters()[0].value()
    model.parameters()[0].grad = np.array([[0.03], [0.04]], np.float32)  # norm 0.05, 0.5 after the hook
    opt.step()
    np.testing.assert_allclose(w0 - model.parameters()[0].value(), [[0.3], [0.4]], rtol=1e-6)
