"""The flat parameter store (cpp/optim/arena.h): binding an optimizer moves its parameters into one 64-byte
aligned arena for values and one for gradients, unchanged; every view of a parameter follows; updates over
the arena are bit-identical to the parameter-by-parameter loops (which an optimizer falls back to once a
second optimizer takes its parameters), and names in state and checkpoints stay per parameter.

The parameter-by-parameter reference is the same optimizer after another one has moved its parameters away
(`flat` is then False): the loops it runs are the ones every optimizer ran before the arena.
"""
import numpy as np
import pytest

import bprop
from bprop import _core, nn, optim
from test_optim import (CLIPS, SHAPES, assert_trajectories_close, assert_trajectories_equal, make_parameters,
                        optimizer_cases, problem, run_bprop, run_torch)

# Odd sizes, a size-0 parameter and one above the parallel threshold: padding after each, threads inside.
ARENA_SHAPES = [(3, 5), (0, 3), (17,), (1,), (_core.optim_parallel_min_elements() + 5,), (2, 2)]


def address(array):
    return array.__array_interface__["data"][0]


def expected_offsets(shapes, itemsize):
    line = 64 // itemsize
    offsets, at = [], 0
    for shape in shapes:
        offsets.append(at)
        at += -(-int(np.prod(shape)) // line) * line
    return offsets, at


def give_away(params):
    """Moves `params` into a throwaway optimizer's arena: an optimizer bound to them before falls back."""
    return optim.SGD(params, lr=0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameters_lie_end_to_end_in_one_aligned_arena_with_their_values_and_grads(dtype):
    values, grads = problem(seed=1, dtype=dtype, shapes=ARENA_SHAPES, steps=1)
    params = make_parameters(values)
    for p, g in zip(params, grads[0]):
        p.set_grad(g)
    views = [p.tensor for p in params]  # autograd leaves made before binding
    opt = optim.Adam(params)
    itemsize = np.dtype(dtype).itemsize
    offsets, span = expected_offsets(ARENA_SHAPES, itemsize)
    assert opt.core.flat
    assert opt.core.layout() == [(f"p{i}", offsets[i], int(np.prod(s))) for i, s in enumerate(ARENA_SHAPES)]
    value_base, grad_base, got_span = opt.core.arena_addresses()
    assert got_span == span and value_base % 64 == 0 and grad_base % 64 == 0
    for i, (p, view) in enumerate(zip(params, views)):
        np.testing.assert_array_equal(p.value(), values[i])  # the move kept every value and gradient
        np.testing.assert_array_equal(p.grad, grads[0][i])
        if p.size:  # the leaf made before binding now views the arena too
            assert address(view.numpy()) == address(p.tensor.numpy()) == value_base + offsets[i] * itemsize
            assert address(view.grad_tensor.numpy()) == grad_base + offsets[i] * itemsize


def test_views_made_before_binding_follow_the_parameter_and_old_numpy_views_stay_valid():
    values, grads = problem(seed=2, shapes=SHAPES, steps=1)
    params = make_parameters(values)
    leaf = params[0].tensor
    old = np.asarray(params[0])  # a zero-copy view of the storage before the move
    opt = optim.SGD(params, lr=0.5)
    (leaf * bprop.tensor(grads[0][0])).sum().backward()  # backward through the old leaf adds into the arena
    np.testing.assert_array_equal(params[0].grad, grads[0][0])
    opt.step()
    np.testing.assert_array_equal(leaf.numpy(), values[0] - 0.5 * grads[0][0])
    np.testing.assert_array_equal(params[0].value(), values[0] - 0.5 * grads[0][0])
    np.testing.assert_array_equal(old, values[0])  # kept alive: the values at the move, never freed memory
    del opt, leaf
    np.testing.assert_array_equal(old, values[0])


@pytest.mark.parametrize("name, hyperparameters, clip", optimizer_cases(CLIPS))
def test_updates_over_the_arena_are_bit_identical_to_parameter_by_parameter_updates(name, hyperparameters, clip):
    values, grads = problem(seed=7, shapes=ARENA_SHAPES, steps=4)
    trajectories = []
    for flat in (True, False):
        params = make_parameters(values)
        opt = getattr(optim, name)(params, **hyperparameters, **clip)
        if not flat:
            give_away(params)
        assert opt.core.flat is flat
        trajectories.append(run_bprop(opt, params, grads)[0])
    assert_trajectories_equal(trajectories[0], trajectories[1])


@pytest.mark.parametrize("name, hyperparameters, clip", optimizer_cases([{"clipnorm": 1.0}]))
def test_frozen_parameters_split_the_arena_and_stay_as_they_are(name, hyperparameters, clip):
    # Freezing parameters 1 and 4 leaves three runs; their gradients are zero so the norm is the others'.
    values, grads = problem(seed=8, shapes=ARENA_SHAPES, steps=4)
    for step_grads in grads:
        step_grads[1][...] = 0
        step_grads[4][...] = 0
    params = make_parameters(values)
    for i in (1, 4):
        params[i].requires_grad = False
    opt = getattr(optim, name)(params, **hyperparameters, **clip)
    got = run_bprop(opt, params, grads)[0]
    trainable = [0, 2, 3, 5]
    reference = make_parameters([values[i] for i in trainable])
    expected = run_bprop(getattr(optim, name)(reference, **hyperparameters, **clip), reference,
                         [[g[i] for i in trainable] for g in grads])[0]
    assert_trajectories_equal([[step[i] for i in trainable] for step in got], expected)
    for i in (1, 4):
        np.testing.assert_array_equal(got[-1][i], values[i])


def test_a_second_optimizer_over_the_same_parameters_takes_them_and_both_stay_correct():
    values, grads = problem(seed=11, shapes=SHAPES, steps=6)
    params = make_parameters(values)
    adam = optim.Adam(params, lr=0.01, weight_decay=0.1)
    sgd = optim.SGD(params[1:], lr=0.05, momentum=0.9)
    assert not adam.core.flat and sgd.core.flat
    assert adam.core.arena_addresses() is None
    got = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.set_grad(g)
        adam.step()
        sgd.step()
        got.append([p.value() for p in params])

    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(v, requires_grad=True) for v in values]
    torch_adam = torch.optim.Adam(tensors, lr=0.01, weight_decay=0.1, foreach=False)
    torch_sgd = torch.optim.SGD(tensors[1:], lr=0.05, momentum=0.9, foreach=False)
    expected = []
    for step_grads in grads:
        for t, g in zip(tensors, step_grads):
            t.grad = torch.tensor(g)
        torch_adam.step()
        torch_sgd.step()
        expected.append([t.detach().numpy().copy() for t in tensors])
    assert_trajectories_close(got, expected, rtol=1e-12, atol=1e-12)

    adam.zero_grad()  # parameter by parameter now: still every gradient
    assert all(not p.grad.any() for p in params)
    assert list(adam.state_dict()["state"]) == [f"{k}.{i}" for i in range(3) for k in ("exp_avg", "exp_avg_sq")]


def test_zero_grad_clears_every_gradient_in_one_pass():
    values, grads = problem(seed=3, shapes=ARENA_SHAPES, steps=1)
    params = make_parameters(values)
    params[2].requires_grad = False  # zero_grad clears frozen gradients too, as before
    opt = optim.RMSprop(params)
    for p, g in zip(params, grads[0]):
        p.set_grad(g)
    opt.zero_grad()
    assert all(not p.grad.any() for p in params)
    np.testing.assert_array_equal(params[0].value(), values[0])


def test_state_views_its_slot_of_the_flat_span_and_loads_back_into_it():
    values, grads = problem(seed=4, shapes=ARENA_SHAPES, steps=3)
    params = make_parameters(values)
    opt = optim.Adam(params, amsgrad=True)
    run_bprop(opt, params, grads)
    saved = opt.state_dict()
    names = [f"{k}.{i}" for i in range(len(ARENA_SHAPES)) for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")]
    assert list(saved["state"]) == names
    assert [saved["state"][f"exp_avg.{i}"].shape for i in range(len(ARENA_SHAPES))] == ARENA_SHAPES
    other = optim.Adam(make_parameters(values), amsgrad=True)
    other.load_state_dict(saved)
    for name in names:
        assert other.state_dict()["state"][name].tobytes() == saved["state"][name].tobytes(), name


@pytest.mark.parametrize("model_kind", ["Sequential", "Module"])
def test_fitting_over_the_arena_is_bit_identical_to_parameter_by_parameter(model_kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 6)).astype(np.float32)
    y = (x[:, 0] - x[:, 3] > 0).astype(np.int64)
    weights = []
    for flat in (True, False):
        bprop.manual_seed(4)
        if model_kind == "Sequential":
            model = bprop.Sequential([nn.Linear(6, 24), nn.LayerNorm(24), nn.ReLU(), nn.Linear(24, 2)])
        else:
            model = _Net()
        model.compile(optim.Adam(lr=0.01, clipnorm=1.0), nn.CrossEntropy())
        if not flat:
            give_away(model.parameters())
        assert model._trainer.optimizer.core.flat is flat
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=1)
        weights.append([p.value() for p in model.parameters()])
    for a, b in zip(*weights):
        assert a.tobytes() == b.tobytes()


class _Net(bprop.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 24), nn.Linear(24, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def test_checkpoint_names_stay_per_parameter(tmp_path):
    from bprop.io.checkpoint_file import load_file

    x = np.random.default_rng(0).standard_normal((40, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = bprop.Sequential([nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2)])
    model.compile(optim.Adam(lr=0.01), nn.CrossEntropy())
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, seed=0)
    model.save(tmp_path / "m.bprop", include_optimizer=True)
    tensors, _ = load_file(tmp_path / "m.bprop")
    assert list(tensors) == ["model/0.weight", "model/0.bias", "model/2.weight", "model/2.bias"] + [
        f"optimizer/{k}.{i}" for i in range(4) for k in ("exp_avg", "exp_avg_sq")]
    loaded = bprop.load(tmp_path / "m.bprop")
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert p.value().tobytes() == q.value().tobytes()
    assert loaded._trainer.optimizer.core.flat
