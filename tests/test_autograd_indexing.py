"""Tensor.__getitem__ (python/bprop/autograd/_indexing.py) against NumPy: the values and shape of x[index], and the
gradient (gather's vjp, scatter_add) against adding the upstream gradient at NumPy's positions."""
import numpy as np
import pytest

import bprop
from bprop import tensor
from bprop.autograd._indexing import flat_positions

SHAPE = (3, 4, 5)
X = np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE)
MASK_0 = np.array([True, False, True])
MASK_01 = (np.arange(12).reshape(3, 4) % 3) == 0

INDICES = {
    "int": 1,
    "negative_int": -1,
    "ints": (1, 2),
    "all_ints": (-1, -2, -3),
    "full_slice": slice(None),
    "slice_from": slice(1, None),
    "reversed": slice(None, None, -1),
    "negative_step": (slice(None), slice(3, 0, -2)),
    "negative_start": (slice(-2, None), slice(None, -1)),
    "empty_slice": slice(10, 20),
    "step": (slice(None), slice(None), slice(None, None, 3)),
    "mixed_basic": (1, slice(None, None, -1), slice(1, 4, 2)),
    "ellipsis_last": (Ellipsis, 1),
    "ellipsis_first": (1, Ellipsis),
    "ellipsis_alone": Ellipsis,
    "ellipsis_middle": (0, Ellipsis, slice(1, 3)),
    "none": None,
    "nones": (None, 1, None),
    "ellipsis_none": (Ellipsis, None),
    "none_ellipsis_int": (slice(None), None, Ellipsis, 0),
    "list": [0, 2, 0],
    "list_2d": [[0, 1], [2, 0]],
    "negative_array": np.array([-1, 0]),
    "empty_list": [],
    "empty_array": np.array([], dtype=np.int64),
    "arrays_adjacent_first": ([0, 2], [1, 3]),
    "arrays_adjacent_middle": (slice(None), [0, 2], [1, 3]),
    "arrays_apart": ([0, 2], slice(None), [1, 3]),
    "int_and_array_apart": (1, slice(None), [0, 2]),
    "int_and_array_adjacent": (slice(None), 1, [0, 2]),
    "arrays_broadcast": ([[0], [2]], [1, 3]),
    "arrays_apart_by_none": ([0], None, [0]),
    "array_then_none": ([0, 1], [1, 2], None),
    "array_reversed_slice": (slice(None, None, -1), [3, 0]),
    "mask_axis_0": MASK_0,
    "mask_all": X % 7 < 3,
    "mask_two_axes": MASK_01,
    "mask_after_slice": (slice(None), np.array([True, False, False, True])),
    "mask_and_array": (MASK_0, slice(None), [0, 4]),
    "mask_then_array": (MASK_0, [1, 3]),
    "mask_empty": np.zeros(3, dtype=bool),
    "true": True,
    "false": False,
    "true_after_slice": (slice(None), True),
    "true_with_array": (True, [0, 1]),
    "array_slice_true": ([0], slice(None), True),
    "zero_d_mask": np.array(True),
    "zero_d_int_array": np.array(2),
    "numpy_integers": (np.int64(2), np.int32(-1)),
    "tuple_in_tuple": ((0, 2), 1),
}


def reference_positions(shape, index):
    """NumPy's own answer, from indexing an array of every position (O(tensor size), fine here)."""
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[index]


@pytest.mark.parametrize("name", INDICES)
def test_indexing_matches_numpy(name):
    index = INDICES[name]
    expected = X[index]
    out = tensor(X, requires_grad=True)[index]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(flat_positions(SHAPE, index), reference_positions(SHAPE, index))


@pytest.mark.parametrize("name", INDICES)
def test_indexing_gradient_adds_at_the_selected_positions(rng, name):
    index = INDICES[name]
    x = tensor(X, requires_grad=True)
    out = x[index]
    weights = rng.standard_normal(out.shape)
    (out * tensor(weights)).sum().backward()
    expected = np.zeros(X.size)
    np.add.at(expected, reference_positions(SHAPE, index).reshape(-1), weights.reshape(-1))  # repeats add up
    np.testing.assert_array_equal(x.grad, expected.reshape(SHAPE))


@pytest.mark.parametrize("name", ["negative_step", "list", "arrays_apart", "mask_and_array", "true_with_array",
                                  "none_ellipsis_int"])
def test_indexing_gradcheck(rng, name):
    x = tensor(rng.standard_normal(SHAPE), requires_grad=True, dtype="float64")
    assert bprop.gradcheck(lambda x: x[INDICES[name]] * x[INDICES[name]], [x], atol=1e-8, rtol=1e-6)


def test_indexing_with_tensors_and_zero_d_tensors():
    x = tensor(X)
    np.testing.assert_array_equal(x[tensor([2, 0])].numpy(), X[[2, 0]])
    np.testing.assert_array_equal(x[tensor([2, 0]), 1, tensor([4, 4])].numpy(), X[[2, 0], 1, [4, 4]])
    scalar = x.sum()
    assert scalar.shape == ()
    for index in [(), Ellipsis, None, (None, Ellipsis, None)]:
        assert scalar[index].shape == np.float64(0)[index].shape
        np.testing.assert_array_equal(scalar[index].numpy(), X.sum())


@pytest.mark.parametrize("index", [slice(1, None), (slice(None, None, -1), slice(None), 1), [0, 2], (1, Ellipsis),
                                   (None, slice(None), []), np.zeros((3, 0), dtype=bool)])
def test_indexing_empty_tensors_matches_numpy(index):
    empty = np.zeros((3, 0, 2))
    assert tensor(empty)[index].shape == empty[index].shape


def test_indexing_agrees_with_torch(rng):
    torch = pytest.importorskip("torch")
    values = rng.standard_normal(SHAPE)
    x, tx = tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    index = ([0, 2, 2], slice(None, None, 2), [4, 0, 4])
    out, tout = x[index], tx[index]
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    (out ** 2).sum().backward()
    (tout ** 2).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


def test_position_cost_follows_the_output_not_the_tensor():
    # 10^12 positions in the tensor: building them all would fail; the output needs six.
    huge = (10**6, 10**6)
    np.testing.assert_array_equal(flat_positions(huge, (7, slice(0, 3))), 7 * 10**6 + np.arange(3))
    np.testing.assert_array_equal(flat_positions(huge, ([1, 2], -1)), [2 * 10**6 - 1, 3 * 10**6 - 1])
    assert flat_positions(huge, (slice(None, None, 10**5), slice(5, 6))).shape == (10, 1)


@pytest.mark.parametrize("index, error, message", [
    (3, IndexError, r"index 3 is out of range for axis 0 of size 3"),
    ((0, -6), IndexError, r"index -6 is out of range for axis 1 of size 4"),
    ((slice(None), [0, 4]), IndexError, r"index 4 is out of range for axis 1 of size 4"),
    (([0, -4],), IndexError, r"index -4 is out of range for axis 0 of size 3"),
    ((0, 0, 0, 0), ValueError, r"too many indices for shape \(3, 4, 5\): 4 axes indexed"),
    ((Ellipsis, 0, Ellipsis), ValueError, r"single ellipsis"),
    (np.array([True, False]), ValueError, r"boolean index of shape \(2,\) does not match axes 0..0 of shape "
                                          r"\(3, 4, 5\); expected \(3,\)"),
    (([0, 1], [0, 1, 2]), ValueError, r"index arrays of shapes \(2,\) and \(3,\) do not broadcast"),
    (1.0, TypeError, r"indices must be integers, slices.*got float"),
    ("a", TypeError, r"indices must be integers, slices.*got str"),
    (np.array([0.0, 1.0]), TypeError, r"index arrays must hold integers or booleans; got float64"),
    (slice(None, None, 0), ValueError, r"slice step cannot be zero"),
])
def test_bad_indices_say_what_is_wrong(index, error, message):
    with pytest.raises(error, match=message):
        tensor(X)[index]


def test_zero_d_data_makes_a_zero_d_tensor():
    t = bprop.tensor(3.0, requires_grad=True)
    assert t.shape == () and t.item() == 3.0
    (t * t).backward()
    assert t.grad == 6.0


def test_out_of_range_is_an_index_error_so_iteration_stops():
    t = bprop.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = [row for row in t]  # Python's iteration protocol stops at IndexError
    assert len(rows) == 3
    sum(row.sum() for row in rows).backward()
    np.testing.assert_array_equal(t.grad, np.ones((3, 2)))
