"""A Sequential used as a layer, inside another Sequential or a Residual: it computes what the flat stack
with the same weights computes (forward, gradients, predict, fit), names its parameters under its index,
saves and loads, shows in summary, and takes the dtype of the stack it joins when it fixes none."""
import numpy as np
import pytest

import bprop
from bprop import nn, optim
from gradcheck import assert_gradients_close, numeric_parameter_gradient


def nested_and_flat(dtype="float64", seed=0):
    """Sequential([Linear, Sequential([ReLU, Linear, Residual([Sequential([Linear, Tanh])])])]) and the flat
    stack of the same layers (their own weights copied across)."""
    nested = bprop.Sequential([
        nn.Linear(4, 8, dtype=dtype, seed=seed),
        bprop.Sequential([nn.ReLU(), nn.Linear(8, 3, dtype=dtype, seed=seed + 1),
                          nn.Residual([bprop.Sequential([nn.Linear(3, 3, dtype=dtype, seed=seed + 2), nn.Tanh()])])]),
    ])
    flat = bprop.Sequential([nn.Linear(4, 8, dtype=dtype), nn.ReLU(), nn.Linear(8, 3, dtype=dtype),
                             nn.Residual([nn.Linear(3, 3, dtype=dtype), nn.Tanh()])])
    flat.set_weights(nested.get_weights())
    return nested, flat


def test_parameters_are_named_under_each_index_as_pytorch_names_them():
    nested, _ = nested_and_flat()
    assert [name for name, _ in nested.named_parameters()] == [
        "0.weight", "0.bias", "1.1.weight", "1.1.bias", "1.2.0.0.weight", "1.2.0.0.bias"]
    assert nested.count_params() == 4 * 8 + 8 + 8 * 3 + 3 + 3 * 3 + 3
    assert nested.in_features == 4 and nested.out_features == 3
    inner = nested.layers[1]
    assert inner.parameters()[0] is nested.parameters()[2]  # one storage: training the outer trains the inner


def test_forward_and_gradients_equal_the_flat_stack():
    rng = np.random.default_rng(1)
    nested, flat = nested_and_flat()
    x = rng.standard_normal((9, 4))
    y = nested.forward(x, training=True)
    np.testing.assert_allclose(y, flat.forward(x, training=True), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(nested.predict(x), flat.predict(x), rtol=1e-13, atol=1e-13)
    r = rng.standard_normal(y.shape)
    nested.backward(r)
    flat.forward(x, training=True)
    flat.backward(r)
    for (name, p), q in zip(nested.named_parameters(), flat.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-12, atol=1e-13, err_msg=name)
        numeric = numeric_parameter_gradient(p, lambda: float(np.sum(r * nested.forward(x, training=True))))
        assert_gradients_close(p.grad, numeric, name)


def test_on_tensors_the_nested_stack_is_one_node_with_the_flat_gradients():
    rng = np.random.default_rng(2)
    nested, flat = nested_and_flat()
    x = rng.standard_normal((5, 4))
    for model in (nested, flat):
        model.zero_grad()
        (model(bprop.tensor(x)) ** 2).sum().backward()
    for p, q in zip(nested.parameters(), flat.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-12, atol=1e-13)


def test_fit_trains_the_nested_stack_as_the_flat_one():
    rng = np.random.default_rng(3)
    nested, flat = nested_and_flat("float32")
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    histories = []
    for model in (nested, flat):
        model.compile(optim.Adam(lr=0.01), nn.CrossEntropy(), metrics=["accuracy"])
        histories.append(model.fit(x, y, epochs=3, batch_size=16, seed=4, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)
    assert histories[0][-1] < histories[0][0]
    for p, q in zip(nested.parameters(), flat.parameters()):
        np.testing.assert_allclose(p.value(), q.value(), rtol=1e-4, atol=1e-5)
    assert nested.evaluate(x, y)["loss"] == pytest.approx(flat.evaluate(x, y)["loss"], rel=1e-5)


def test_save_and_load_round_trip_the_nested_architecture(tmp_path):
    nested, _ = nested_and_flat("float32")
    x = np.random.default_rng(5).standard_normal((6, 4)).astype(np.float32)
    nested.compile(optim.SGD(lr=0.1), nn.MSE())
    nested.save(tmp_path / "nested.bprop")
    loaded = bprop.load(tmp_path / "nested.bprop")
    assert loaded.get_config() == nested.get_config()
    assert loaded.get_config()["layers"][1]["class"] == "Sequential"  # found again by its registered name
    assert type(loaded.layers[1]) is bprop.Sequential
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in nested.named_parameters()]
    np.testing.assert_array_equal(loaded.predict(x), nested.predict(x))
    nested.load_weights(tmp_path / "nested.bprop")  # the same architecture takes the file's weights
    flat = nested_and_flat("float32")[1]
    with pytest.raises(bprop.CheckpointError, match="do not fit this model"):
        flat.load_weights(tmp_path / "nested.bprop")  # the flat names (2.weight) are not the nested ones


def test_summary_lists_the_nested_layers_under_their_sequential():
    nested, flat = nested_and_flat("float32")
    texts = []
    for model in (nested, flat):
        model.summary(print_fn=texts.append)
    rows = [row.split() for row in texts[0].splitlines()[4:-2]]  # between the header's rule and the last rule
    assert rows == [["Linear", "(None,", "8)", "40"], ["Sequential", "(None,", "3)", str(8 * 3 + 3 + 3 * 3 + 3)],
                    ["ReLU()", "(None,", "8)", "0"], ["Linear", "(None,", "3)", "27"], ["Residual", "(None,", "3)", "12"]]
    assert "\n  ReLU()" in texts[0]  # the nested layers are indented under their Sequential
    assert texts[0].splitlines()[-1] == texts[1].splitlines()[-1] == f"Total params: {nested.count_params():,}"


def test_a_nested_stack_without_parameters_takes_the_outer_dtype():
    inner = bprop.Sequential([nn.ReLU(), nn.Tanh()])  # fixes no dtype: runs alone in float32
    assert inner.dtype == np.float32 and inner.get_config()["dtype"] is None
    outer = bprop.Sequential([nn.Linear(3, 3, dtype="float64"), inner])
    assert outer.dtype == np.float64
    x = np.random.default_rng(6).standard_normal((4, 3))
    np.testing.assert_allclose(outer.predict(x), np.tanh(np.maximum(outer.layers[0].forward(x), 0)), rtol=1e-13)
    with pytest.raises(TypeError, match=r"\[Sequential\] layers mix dtypes"):
        bprop.Sequential([nn.Linear(3, 3, dtype="float64"), bprop.Sequential([nn.ReLU()], dtype="float32")])


def test_a_sequential_in_a_module_trains_and_names_its_parameters():
    class Net(bprop.Module):
        def __init__(self):
            super().__init__()
            self.body = bprop.Sequential([nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)])

        def forward(self, x):
            return self.body(x)

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    x = np.random.default_rng(7).standard_normal((32, 4)).astype(np.float32)
    net.compile(optim.Adam(lr=0.05), nn.CrossEntropy())
    losses = net.fit(x, (x[:, 0] > 0).astype(np.int64), epochs=5, batch_size=8, verbose=0, seed=1).history["loss"]
    assert losses[-1] < losses[0]
