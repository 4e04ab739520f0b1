"""Flat positions selected by a NumPy index of a row-major shape, for Tensor.__getitem__'s gather.

The cost is O(output size), never O(tensor size): every axis of the tensor contributes to the output's
index grid a constant (an integer), start + step·i (a slice) or an index array, times its stride, and
the contributions are summed with broadcasting. The rules are NumPy's
(https://numpy.org/doc/stable/user/basics.indexing.html); tests/test_autograd_indexing.py checks them against it.
"""
import operator

import numpy as np

__all__ = ["flat_positions"]

_KINDS = ("integers, slices, ellipsis (...), None, and integer or boolean arrays (or lists, or "
          "tensors of integer values)")


def flat_positions(shape, index):
    """The int64 positions (in the flattened tensor) that tensor[index] reads, in the result's shape."""
    shape = tuple(int(n) for n in shape)
    entries = _expand(shape, [_parse(item) for item in (index if isinstance(index, tuple) else (index,))])
    strides, stride = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d], stride = stride, stride * shape[d]

    # basic: (size, positions along it or None) per output axis of a slice or None; advanced: the index
    # arrays' terms; advanced_at: (place in the index, output axes before it) of each array given.
    offset, basic, advanced, advanced_at, given = 0, [], [], [], []
    dim = 0
    for position, (kind, value) in enumerate(entries):
        if kind == "new":
            basic.append((1, None))
        elif kind == "slice":
            start, stop, step = value.indices(shape[dim])
            # A zero stride means a later axis is empty, and so is the output: any positions will do.
            along = np.arange(start * strides[dim], stop * strides[dim], step * strides[dim], dtype=np.int64) \
                if strides[dim] else np.zeros(len(range(start, stop, step)), dtype=np.int64)
            basic.append((along.size, along))
            dim += 1
        elif kind == "int":
            offset += _in_range(value, shape, dim) * strides[dim]
            dim += 1
        else:
            advanced_at.append((position, len(basic)))
            given.append(value.shape)
            if value.dtype == np.bool_:
                advanced.extend(_mask_terms(value, shape, strides, dim))
                dim += value.ndim
            else:
                advanced.append(_wrapped(value, shape, dim) * strides[dim])
                dim += 1

    out_shape = [size for size, _ in basic]
    where, block = 0, ()
    if advanced:
        try:
            block = np.broadcast_shapes(*[term.shape for term in advanced])
        except ValueError:
            shapes = " and ".join(str(shape) for shape in given)
            raise ValueError(f"[Tensor] index arrays of shapes {shapes} do not broadcast together") from None
        # NumPy puts the broadcast index arrays' axes where the arrays were when they were next to each
        # other in the index, and first otherwise.
        next_to_each_other = advanced_at[-1][0] - advanced_at[0][0] == len(advanced_at) - 1
        where = advanced_at[0][1] if next_to_each_other else 0
        out_shape[where:where] = block
    rank = len(out_shape)

    # Terms in output-axis order, each shaped to broadcast along its axes: the sum grows to the full
    # output only at the last addition, so the whole costs about one pass over the output.
    terms = [(axis + (len(block) if axis >= where else 0), (size,), along)
             for axis, (size, along) in enumerate(basic) if along is not None]
    for term in advanced:  # right-aligned within the block, as broadcasting reads them
        terms.append((where, (1,) * (len(block) - term.ndim) + term.shape, term))
    terms.sort(key=lambda term: term[0])
    positions = np.int64(offset)
    for axis, sizes, values in terms:
        positions = positions + values.reshape((1,) * axis + tuple(sizes) + (1,) * (rank - axis - len(sizes)))
    if np.shape(positions) != tuple(out_shape):  # axes no term covers (None's, or no term at all)
        positions = np.broadcast_to(positions, out_shape).copy()
    return positions


def _parse(item):
    """(kind, value): ("new", None), ("ellipsis", None), ("slice", s), ("int", i) or ("array", a)."""
    if item is None:
        return "new", None
    if item is Ellipsis:
        return "ellipsis", None
    if isinstance(item, slice):
        return "slice", item
    if isinstance(item, (bool, np.bool_)):
        return "array", np.asarray(item)  # NumPy: a boolean scalar is a 0-d mask, not the integer 0 or 1
    if isinstance(item, (list, tuple, np.ndarray)):
        array = np.asarray(item)
        if array.size == 0 and not isinstance(item, np.ndarray):
            array = array.astype(np.int64)  # [] is an empty integer index, as in NumPy
        if array.dtype != np.bool_ and array.dtype.kind not in "iu":
            raise TypeError(f"[Tensor] index arrays must hold integers or booleans; got {array.dtype}")
        if array.ndim == 0 and array.dtype != np.bool_:
            return "int", int(array)
        return "array", array
    try:
        return "int", operator.index(item)
    except TypeError:
        raise TypeError(f"[Tensor] indices must be {_KINDS}; got {type(item).__name__}") from None


def _expand(shape, entries):
    """The entries with the ellipsis (or the unindexed trailing axes) written out as full slices, and the
    integers made 0-d arrays when arrays are present (NumPy then treats them as index arrays)."""
    ellipses = sum(kind == "ellipsis" for kind, _ in entries)
    if ellipses > 1:
        raise ValueError("[Tensor] an index can only have a single ellipsis (...)")
    used = sum(_axes_read(kind, value) for kind, value in entries)
    if used > len(shape):
        raise ValueError(f"[Tensor] too many indices for shape {shape}: {used} axes indexed, the tensor has "
                         f"{len(shape)}")
    fill = [("slice", slice(None))] * (len(shape) - used)
    if ellipses:
        at = next(i for i, (kind, _) in enumerate(entries) if kind == "ellipsis")
        entries = entries[:at] + fill + entries[at + 1:]
    else:
        entries = entries + fill
    if any(kind == "array" for kind, _ in entries):
        entries = [("array", np.asarray(value)) if kind == "int" else (kind, value) for kind, value in entries]
    return entries


def _axes_read(kind, value):
    """How many of the tensor's axes an entry indexes: a boolean mask one per dimension, None none."""
    if kind == "array" and value.dtype == np.bool_:
        return value.ndim
    return 1 if kind in ("int", "slice", "array") else 0


def _in_range(i, shape, dim):
    if not -shape[dim] <= i < shape[dim]:
        raise IndexError(f"[Tensor] index {i} is out of range for axis {dim} of size {shape[dim]} (shape {shape})")
    return i + shape[dim] if i < 0 else i


def _wrapped(array, shape, dim):
    """An integer index array as int64 positions along axis dim, negatives counted from the end."""
    array = array.astype(np.int64, copy=False)
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < -shape[dim] or high >= shape[dim]:
            _in_range(low if low < -shape[dim] else high, shape, dim)  # raises, naming the first bad end
        array = np.where(array < 0, array + shape[dim], array)
    return array


def _mask_terms(mask, shape, strides, dim):
    """A boolean mask's terms: one index array per axis it covers (its nonzero()), as NumPy reads it."""
    if mask.ndim == 0:
        # A 0-d mask adds an axis of size 1 (True) or 0 (False) and reads no axis of the tensor.
        return [np.zeros(1 if mask else 0, dtype=np.int64)]
    covered = shape[dim:dim + mask.ndim]
    if mask.shape != covered:
        raise ValueError(f"[Tensor] boolean index of shape {mask.shape} does not match axes {dim}.."
                         f"{dim + mask.ndim - 1} of shape {shape}; expected {covered}")
    return [positions.astype(np.int64) * strides[dim + j] for j, positions in enumerate(mask.nonzero())]
