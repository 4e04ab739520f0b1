"""bprop's autograd against torch.autograd on random expression graphs built by hypothesis.

A program is a list of steps `(op, refs, params)`: step i defines value v{i} from earlier values (refs,
so one value can feed several later steps: fan-out) and constants (params). Inputs are float64 leaves
of small random shapes, many of them broadcastable against each other. The same program runs in bprop
and in torch; the values left unused at the end are reduced to a scalar with random weights, and every
value, every input's gradient and (for the twice-differentiable ops) every Hessian-vector product must
agree: |bprop − torch| ≤ 1e-10 + 1e-8·|torch|, element by element.

How the programs stay inside the domain where that comparison is meaningful:
- each value carries a conservative interval [lo, hi]; log, sqrt, division and powers with a
  fractional or tensor exponent only see values ≥ 0.25 (the generator inserts abs(x) + 0.5, exp(x)
  or x·x + 0.5 in front when needed), and a step whose |value| could pass 1e4 becomes a tanh instead;
- non-smooth ops (relu, abs, maximum, clip, where, max) must have their argument either exactly on the
  kink in both libraries (a tie made by fan-out, e.g. maximum(v, v); both then follow the same
  convention) or at least 1e-8 away from it; the rare draw that lands in between is rejected.
"""
import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import bprop

torch = pytest.importorskip("torch")
F = torch.nn.functional

ATOL, RTOL = 1e-10, 1e-8  # the bar: |a − t| ≤ ATOL + RTOL·|t|
CAP = 1e4                 # the generator keeps every |value| below this bound
KINK = 1e-8               # a non-smooth op's argument is exactly on its kink or this far from it
MAX_SIZE = 48             # elements per value
POSITIVE = 0.25           # the least value log, sqrt, division and fractional powers see
SCALARS = (-2.0, -0.5, 0.5, 1.5, 3.0)
EXPONENTS = (2.0, 3.0, 1.0, 0.0, -1.0, 0.5, 1.5, -0.5)  # the last three need a positive base
BASES = (0.5, 2.0, 3.0)
THRESHOLDS = (-1.0, -0.25, 0.0, 0.3, 1.0)
CLIPS = ((-0.5, 0.5), (-1.0, 0.25), (0.0, 1.0), (-2.0, -0.1))


# -- the ops: (bprop, torch) implementations, parameter names, kink arguments --------------------------
def _torch_index(t, index):
    # torch has no negative-step slices; along one axis x[::-s] equals flip(x)[::s].
    entries = index[1:] if index[0] is Ellipsis else index
    first = t.dim() - sum(e is not None for e in entries) if index[0] is Ellipsis else 0
    axis, flips, fixed = first, [], []
    for e in entries:
        if isinstance(e, slice) and e.step is not None and e.step < 0:
            flips.append(axis)
            e = slice(None, None, -e.step)
        fixed.append(e)
        axis += e is not None
    if flips:
        t = torch.flip(t, flips)
    return t[(Ellipsis, *fixed) if index[0] is Ellipsis else tuple(fixed)]


def _torch_reduce_dims(t, axis):
    return tuple(range(t.dim())) if axis is None else axis


@dataclass(frozen=True)
class Op:
    bprop: object
    torch: object
    params: tuple = ()          # names of the constants, for printing
    kinks: object = None        # (values..., params...) -> arrays that are 0 on the kinks (numpy)
    second_order: bool = True   # bprop has its second derivative


OPS = {
    "add": Op(lambda a, b: a + b, lambda a, b: a + b),
    "sub": Op(lambda a, b: a - b, lambda a, b: a - b),
    "mul": Op(lambda a, b: a * b, lambda a, b: a * b),
    "div": Op(lambda a, b: a / b, lambda a, b: a / b),
    "pow": Op(lambda a, b: a ** b, lambda a, b: a ** b),
    "add_scalar": Op(lambda a, c: a + c, lambda a, c: a + c, ("c",)),
    "rsub_scalar": Op(lambda a, c: c - a, lambda a, c: c - a, ("c",)),
    "mul_scalar": Op(lambda a, c: c * a, lambda a, c: c * a, ("c",)),
    "div_scalar": Op(lambda a, c: a / c, lambda a, c: a / c, ("c",)),
    "rdiv_scalar": Op(lambda a, c: c / a, lambda a, c: c / a, ("c",)),
    "pow_scalar": Op(lambda a, k: a ** k, lambda a, k: a ** k, ("k",)),
    "rpow_scalar": Op(lambda a, c: c ** a, lambda a, c: c ** a, ("c",)),
    "neg": Op(lambda a: -a, lambda a: -a),
    "maximum": Op(bprop.maximum, torch.maximum, kinks=lambda a, b: [a - b]),
    "maximum_scalar": Op(bprop.maximum, lambda a, c: torch.maximum(a, torch.tensor(c, dtype=a.dtype)), ("c",),
                         kinks=lambda a, c: [a - c]),
    "where": Op(lambda x, a, b, thr: bprop.where(x > thr, a, b), lambda x, a, b, thr: torch.where(x > thr, a, b),
                ("threshold",), kinks=lambda x, a, b, thr: [x - thr]),
    "where_scalar": Op(lambda x, a, thr, c: bprop.where(x > thr, a, c), lambda x, a, thr, c: torch.where(x > thr, a, c),
                       ("threshold", "c"), kinks=lambda x, a, thr, c: [x - thr]),
    "clip": Op(bprop.clip, torch.clamp, ("low", "high"), kinks=lambda x, low, high: [x - low, x - high]),
    "exp": Op(lambda a: a.exp(), torch.exp),
    "log": Op(lambda a: a.log(), torch.log),
    "sqrt": Op(lambda a: a.sqrt(), torch.sqrt),
    "abs": Op(abs, torch.abs, kinks=lambda a: [a]),
    "relu": Op(lambda a: a.relu(), torch.relu, kinks=lambda a: [a]),
    "sigmoid": Op(lambda a: a.sigmoid(), torch.sigmoid),
    "tanh": Op(lambda a: a.tanh(), torch.tanh),
    "gelu": Op(lambda a, approximate: a.gelu(approximate), lambda a, approximate: F.gelu(a, approximate=approximate),
               ("approximate",), second_order=False),
    "softmax": Op(lambda a, axis: a.softmax(axis), lambda a, axis: torch.softmax(a, axis), ("axis",)),
    "log_softmax": Op(lambda a, axis: a.log_softmax(axis), lambda a, axis: torch.log_softmax(a, axis), ("axis",)),
    "sum": Op(lambda a, axis, keepdims: a.sum(axis=axis, keepdims=keepdims),
              lambda a, axis, keepdims: a.sum(dim=axis, keepdim=keepdims), ("axis", "keepdims")),
    "mean": Op(lambda a, axis, keepdims: a.mean(axis=axis, keepdims=keepdims),
               lambda a, axis, keepdims: a.mean(dim=axis, keepdim=keepdims), ("axis", "keepdims")),
    "max": Op(lambda a, axis, keepdims: a.max(axis=axis, keepdims=keepdims),
              lambda a, axis, keepdims: torch.amax(a, dim=_torch_reduce_dims(a, axis), keepdim=keepdims),
              ("axis", "keepdims"), kinks=lambda a, axis, keepdims: [a - np.max(a, axis=axis, keepdims=True)]),
    "reshape": Op(lambda a, shape: a.reshape(shape), lambda a, shape: a.reshape(shape), ("shape",)),
    "transpose": Op(lambda a, axes: a.transpose(axes), lambda a, axes: a.permute(axes), ("axes",)),
    "T": Op(lambda a: a.T, lambda a: a.permute(tuple(reversed(range(a.dim()))))),
    "index": Op(lambda a, index: a[index], _torch_index, ("index",)),
    "concatenate": Op(lambda *args: bprop.concatenate(args[:-1], axis=args[-1]),
                      lambda *args: torch.cat(args[:-1], dim=args[-1]), ("axis",)),
    "stack": Op(lambda *args: bprop.stack(args[:-1], axis=args[-1]),
                lambda *args: torch.stack(args[:-1], dim=args[-1]), ("axis",)),
    "matmul": Op(lambda a, b: a @ b, lambda a, b: a @ b),
}
FIRST_ORDER_OPS = list(OPS)
SECOND_ORDER_OPS = [name for name, op in OPS.items() if op.second_order]
NDIMS = {"softmax": (1, 4), "log_softmax": (1, 4), "index": (1, 4), "concatenate": (1, 4), "transpose": (2, 4),
         "matmul": (1, 4)}  # the ranks each op takes; others take any


# -- programs -------------------------------------------------------------------------------------------
class Program:
    """steps: (op, refs, params), op "input" with params (shape,); seed: the input values and the
    weights of the final reduction. Printed as a listing, for falsifying examples."""

    def __init__(self, steps, seed):
        self.steps, self.seed = steps, seed

    def __repr__(self):
        lines = []
        for i, (op, refs, params) in enumerate(self.steps):
            if op == "input":
                lines.append(f"v{i} = input(shape={params[0]})")
                continue
            names = OPS[op].params
            args = [f"v{r}" for r in refs] + [f"{n}={p!r}" for n, p in zip(names, params)]
            lines.append(f"v{i} = {op}({', '.join(args)})")
        return f"Program(seed={self.seed}):\n    " + "\n    ".join(lines)

    def inputs(self):
        return [i for i, step in enumerate(self.steps) if step[0] == "input"]

    def sinks(self):
        used = {r for _, refs, _ in self.steps for r in refs}
        return [i for i in range(len(self.steps)) if i not in used]


def _broadcast(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _matmul_shape(a, b):
    if not a or not b:
        return None
    try:
        return np.matmul(np.zeros(a), np.zeros(b)).shape
    except ValueError:
        return None


def _corners(lo1, hi1, lo2, hi2, f):
    values = [f(a, b) for a in (lo1, hi1) for b in (lo2, hi2)]
    return min(values), max(values)


class Builder:
    """Grows a program one step at a time, keeping each value's shape and interval [lo, hi]."""

    def __init__(self, draw):
        self.draw = draw
        self.steps, self.shapes, self.bounds = [], [], []

    def emit(self, op, refs, params, shape, bound):
        self.steps.append((op, tuple(refs), tuple(params)))
        self.shapes.append(tuple(shape))
        self.bounds.append((float(bound[0]), float(bound[1])))
        return len(self.steps) - 1

    def size(self, i):
        return math.prod(self.shapes[i])

    def magnitude(self, i):
        return max(abs(self.bounds[i][0]), abs(self.bounds[i][1]))

    def new_input(self, shape):
        return self.emit("input", (), (tuple(shape),), shape, (-2.0, 2.0))

    def random_shape(self, low=0, high=3):
        ndim = self.draw(st.integers(low, min(high, 3)))
        return tuple(self.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))

    # partners -------------------------------------------------------------------------------------
    def partner(self, candidates, make_shape):
        """An earlier value from candidates (x itself included: fan-out), or a new input."""
        choice = self.draw(st.sampled_from(["new"] + sorted(candidates)))
        return self.new_input(make_shape()) if choice == "new" else choice

    def broadcast_partner(self, *with_):
        shape = _broadcast(*(self.shapes[i] for i in with_))
        fits = [j for j in range(len(self.steps))
                if (s := _broadcast(shape, self.shapes[j])) is not None and math.prod(s) <= MAX_SIZE]

        def make():  # drop leading axes, set some axes to 1, maybe put one new axis in front
            dims = [d if self.draw(st.booleans()) else 1 for d in shape[self.draw(st.integers(0, len(shape))):]]
            if len(dims) == len(shape) < 3 and self.draw(st.booleans()):
                lead = self.draw(st.integers(1, 3))
                if lead * math.prod(shape) <= MAX_SIZE:
                    dims = [lead] + dims
            return tuple(dims)

        return self.partner(fits, make)

    def positive(self, x):
        """x, or a new value ≥ POSITIVE made from it."""
        lo, hi = self.bounds[x]
        if lo >= POSITIVE:
            return x
        kinds = ["abs"] + (["exp"] if -1.38 <= lo and hi <= 6 else []) + (["square"] if self.magnitude(x) <= 50 else [])
        kind = self.draw(st.sampled_from(kinds))
        shape = self.shapes[x]
        if kind == "exp":
            return self.emit("exp", [x], [], shape, (math.exp(lo), math.exp(hi)))
        if kind == "square":
            top = self.magnitude(x) ** 2
            x = self.emit("mul", [x, x], [], shape, (-top, top))  # conservative: the interval of a·b
            return self.emit("add_scalar", [x], [0.5], shape, (0.5, top + 0.5))
        x = self.emit("abs", [x], [], shape, (0.0, self.magnitude(x)))
        return self.emit("add_scalar", [x], [0.5], shape, (0.5, self.magnitude(x) + 0.5))

    # one step -------------------------------------------------------------------------------------
    def accepts(self, op, x):
        low, high = NDIMS.get(op, (0, 4))
        return low <= len(self.shapes[x]) <= high

    def step(self, op, x):
        """Emits op applied to value x (and partners it chooses); returns the new value's index."""
        shape, (lo, hi) = self.shapes[x], self.bounds[x]
        draw = self.draw
        if op in ("add", "sub", "mul", "maximum"):
            y = self.broadcast_partner(x)
            out = _broadcast(shape, self.shapes[y])
            (lo2, hi2) = self.bounds[y]
            bound = {"add": (lo + lo2, hi + hi2), "sub": (lo - hi2, hi - lo2),
                     "mul": _corners(lo, hi, lo2, hi2, lambda a, b: a * b),
                     "maximum": (max(lo, lo2), max(hi, hi2))}[op]
            refs = [x, y] if draw(st.booleans()) else [y, x]
            return self.emit(op, refs, [], out, bound)
        if op == "maximum_scalar":  # the scalar becomes a 0-d tensor (bprop.tensor of a Python float)
            c = draw(st.sampled_from(THRESHOLDS))
            return self.emit(op, [x], [c], shape, (max(lo, c), max(hi, c)))
        if op == "div":
            y = self.positive(self.broadcast_partner(x))
            lo2, hi2 = self.bounds[y]
            return self.emit(op, [x, y], [], _broadcast(shape, self.shapes[y]),
                             _corners(lo, hi, lo2, hi2, lambda a, b: a / b))
        if op == "pow":
            base = self.positive(x)
            e = self.broadcast_partner(base)
            if self.magnitude(e) > 3:
                e = self.emit("tanh", [e], [], self.shapes[e], (-1.0, 1.0))
            lo1, hi1 = self.bounds[base]
            lo2, hi2 = self.bounds[e]
            return self.emit(op, [base, e], [], _broadcast(self.shapes[base], self.shapes[e]),
                             _corners(lo1, hi1, lo2, hi2, lambda a, b: a ** b))
        if op in ("add_scalar", "rsub_scalar", "mul_scalar", "div_scalar"):
            c = draw(st.sampled_from(SCALARS))
            bound = {"add_scalar": (lo + c, hi + c), "rsub_scalar": (c - hi, c - lo),
                     "mul_scalar": _corners(lo, hi, c, c, lambda a, b: a * b),
                     "div_scalar": _corners(lo, hi, c, c, lambda a, b: a / b)}[op]
            return self.emit(op, [x], [c], shape, bound)
        if op == "rdiv_scalar":
            x = self.positive(x)
            c = draw(st.sampled_from(SCALARS))
            lo, hi = self.bounds[x]
            return self.emit(op, [x], [c], shape, _corners(c, c, lo, hi, lambda a, b: a / b))
        if op == "pow_scalar":
            k = draw(st.sampled_from(EXPONENTS))
            if k != int(k) or k < 0:
                x = self.positive(x)
                lo, hi = self.bounds[x]
                return self.emit(op, [x], [k], shape, _corners(lo, hi, k, k, lambda a, b: a ** b))
            m = self.magnitude(x) ** k
            return self.emit(op, [x], [k], shape, (0.0 if k % 2 == 0 else -m, m))
        if op == "rpow_scalar":
            c = draw(st.sampled_from(BASES))
            clamped = (max(lo, -50.0), min(hi, 50.0))  # no float overflow; still past CAP when it should be
            return self.emit(op, [x], [c], shape, _corners(c, c, *clamped, lambda a, b: a ** b))
        if op == "neg":
            return self.emit(op, [x], [], shape, (-hi, -lo))
        if op == "where":
            a = self.broadcast_partner(x)
            b = self.broadcast_partner(x, a)
            out = _broadcast(shape, self.shapes[a], self.shapes[b])
            bound = (min(self.bounds[a][0], self.bounds[b][0]), max(self.bounds[a][1], self.bounds[b][1]))
            return self.emit(op, [x, a, b], [draw(st.sampled_from(THRESHOLDS))], out, bound)
        if op == "where_scalar":
            a = self.broadcast_partner(x)
            c = draw(st.sampled_from(SCALARS))
            bound = (min(self.bounds[a][0], c), max(self.bounds[a][1], c))
            params = [draw(st.sampled_from(THRESHOLDS)), c]
            return self.emit(op, [x, a], params, _broadcast(shape, self.shapes[a]), bound)
        if op == "clip":
            low, high = draw(st.sampled_from(CLIPS))
            return self.emit(op, [x], [low, high], shape, (min(max(lo, low), high), max(min(hi, high), low)))
        if op == "exp":
            return self.emit(op, [x], [], shape, (math.exp(min(lo, 700)), math.exp(min(hi, 700))))
        if op in ("log", "sqrt"):
            x = self.positive(x)
            f = math.log if op == "log" else math.sqrt
            return self.emit(op, [x], [], shape, (f(self.bounds[x][0]), f(self.bounds[x][1])))
        if op == "abs":
            inner = 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
            return self.emit(op, [x], [], shape, (inner, self.magnitude(x)))
        if op == "relu":
            return self.emit(op, [x], [], shape, (max(lo, 0.0), max(hi, 0.0)))
        if op == "sigmoid":
            return self.emit(op, [x], [], shape, (0.0, 1.0))
        if op == "tanh":
            return self.emit(op, [x], [], shape, (-1.0, 1.0))
        if op == "gelu":
            return self.emit(op, [x], [draw(st.sampled_from(["none", "tanh"]))], shape, (-0.2, max(hi, 0.0)))
        if op in ("softmax", "log_softmax"):
            axis = draw(st.integers(-len(shape), len(shape) - 1))
            bound = (0.0, 1.0) if op == "softmax" else (lo - hi - math.log(shape[axis]), 0.0)
            return self.emit(op, [x], [axis], shape, bound)
        if op in ("sum", "mean", "max"):
            axis = None
            if shape and draw(st.booleans()):
                axes = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                                     unique_by=lambda a: a % len(shape)))
                axis = axes[0] if len(axes) == 1 and draw(st.booleans()) else tuple(axes)
            keepdims = draw(st.booleans())
            reduced = range(len(shape)) if axis is None else [a % len(shape) for a in np.atleast_1d(axis)]
            out = tuple(1 if d in reduced else n for d, n in enumerate(shape) if keepdims or d not in reduced)
            count = math.prod(shape[d] for d in reduced)
            bound = (count * lo, count * hi) if op == "sum" else (lo, hi)
            return self.emit(op, [x], [axis, keepdims], out, bound)
        if op == "reshape":
            given, out = self.new_shape(self.size(x))
            return self.emit(op, [x], [given], out, (lo, hi))
        if op == "transpose":
            axes = tuple(draw(st.permutations(range(len(shape)))))
            given = tuple(a - len(shape) if draw(st.booleans()) else a for a in axes)  # negative axes too
            return self.emit(op, [x], [given], tuple(shape[a] for a in axes), (lo, hi))
        if op == "T":
            return self.emit(op, [x], [], tuple(reversed(shape)), (lo, hi))
        if op == "index":
            index, out = self.new_index(shape)
            return self.emit(op, [x], [index], out, (lo, hi))
        if op in ("concatenate", "stack"):
            return self.join(op, x)
        if op == "matmul":
            return self.matmul(x)
        raise AssertionError(op)

    def new_shape(self, size):
        """A shape of `size` elements as reshape is given it (maybe with one -1), and as it comes out."""
        ndim = self.draw(st.integers(1 if size > 1 else 0, 3))
        dims, left = [], size
        for _ in range(ndim - 1):
            d = self.draw(st.sampled_from([d for d in range(1, left + 1) if left % d == 0]))
            dims.append(d)
            left //= d
        if ndim:
            dims.append(left)
        given = list(dims)
        if dims and self.draw(st.booleans()):
            given[self.draw(st.integers(0, ndim - 1))] = -1
        return tuple(given), tuple(dims)

    def new_index(self, shape):
        """A NumPy index torch reads the same way (advanced entries next to each other), and the result's shape."""
        draw = self.draw
        ellipsis = draw(st.booleans())
        count = draw(st.integers(1, len(shape)))
        axes = range(len(shape) - count, len(shape)) if ellipsis else range(count)
        lists = 0
        entries = []
        for axis in axes:
            n = shape[axis]
            kind = draw(st.sampled_from(["int", "slice", "reverse", "list", "mask"]))
            if kind == "mask" and lists == 0:  # a boolean mask: one advanced index on its own
                mask = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any))
                entries.append(np.array(mask))
                lists = 2
            elif kind == "list" and lists < 2 and (lists == 0 or isinstance(entries[-1], list)):
                length = len(entries[-1]) if lists else draw(st.integers(1, 4))
                entries.append(draw(st.lists(st.integers(-n, n - 1), min_size=length, max_size=length)))
                lists += 1
            elif kind == "int":
                entries.append(draw(st.integers(-n, n - 1)))
            elif kind == "reverse":
                entries.append(slice(None, None, -draw(st.integers(1, 2))))
            else:  # a slice, also where a list or mask cannot go
                start = draw(st.integers(0, n - 1))
                entries.append(slice(start, draw(st.integers(start + 1, n)), draw(st.integers(1, 2))))
        if lists:  # numpy and torch place the result's axes differently when an int sits apart from a list
            entries = [slice(None) if isinstance(e, int) else e for e in entries]
        if draw(st.booleans()):
            entries.insert(draw(st.integers(0, len(entries))), None)
        index = (Ellipsis, *entries) if ellipsis else tuple(entries)
        if lists == 2 and any(e is None for e in entries):
            index = tuple(e for e in index if e is not None)  # keep the two lists adjacent
        out = np.zeros(shape)[index].shape
        return index, out

    def join(self, op, x):
        shape = self.shapes[x]
        if op == "stack":
            axis = self.draw(st.integers(-len(shape) - 1, len(shape)))
            same = [j for j in range(len(self.steps)) if self.shapes[j] == shape]
            pieces = [x] + [self.partner(same, lambda: shape) for _ in range(self.draw(st.integers(1, 2)))]
            out = list(shape)
            out.insert(axis % (len(shape) + 1), len(pieces))
        else:
            axis = self.draw(st.integers(-len(shape), len(shape) - 1))
            a = axis % len(shape)

            def fits(j):
                s = self.shapes[j]
                return len(s) == len(shape) and all(s[d] == shape[d] for d in range(len(s)) if d != a)

            def make():
                return tuple(self.draw(st.integers(1, 3)) if d == a else n for d, n in enumerate(shape))

            pieces = [x] + [self.partner([j for j in range(len(self.steps)) if fits(j)], make)
                            for _ in range(self.draw(st.integers(1, 2)))]
            out = list(shape)
            out[a] = sum(self.shapes[p][a] for p in pieces)
        if self.draw(st.booleans()):
            pieces.reverse()
        if math.prod(out) > MAX_SIZE:
            return self.emit("tanh", [x], [], shape, (-1.0, 1.0))
        bound = (min(self.bounds[p][0] for p in pieces), max(self.bounds[p][1] for p in pieces))
        return self.emit(op, pieces, [axis], out, bound)

    def matmul(self, x):
        """x @ y or y @ x as numpy.matmul: 1-D operands promoted, batch axes (all but the last two) broadcast."""
        shape = self.shapes[x]
        left = self.draw(st.booleans())
        k = shape[-1] if left else shape[-2 if len(shape) > 1 else 0]

        def make():
            if self.draw(st.booleans()):
                return (k,)
            batch = [d if self.draw(st.booleans()) else 1 for d in shape[self.draw(st.integers(0, len(shape[:-2]))):-2]]
            if len(shape) < 3 and self.draw(st.booleans()):
                batch = [self.draw(st.integers(1, 3))] + batch
            n = self.draw(st.integers(1, 4))
            return (*batch, k, n) if left else (*batch, n, k)

        fits = [j for j in range(len(self.steps))
                if (s := _matmul_shape(*((shape, self.shapes[j]) if left else (self.shapes[j], shape)))) is not None
                and math.prod(s) <= MAX_SIZE]
        y = self.partner(fits, make)
        a, b = (x, y) if left else (y, x)
        out = _matmul_shape(self.shapes[a], self.shapes[b])
        assert out is not None, (self.shapes[a], self.shapes[b])
        top = k * self.magnitude(a) * self.magnitude(b)
        return self.emit("matmul", [a, b], [], out, (-top, top))


@st.composite
def programs(draw, ops, max_steps=10):
    """Programs of 1 to 3 inputs and up to max_steps of the named ops (plus the guards they insert)."""
    builder = Builder(draw)
    for _ in range(draw(st.integers(1, 3))):
        builder.new_input(builder.random_shape())
    # The ops first, then operands they accept: each op is drawn about equally often.
    for op in draw(st.lists(st.sampled_from(ops), min_size=1, max_size=max_steps)):
        latest = len(builder.steps) - 1
        usable = [i for i in range(latest + 1) if builder.accepts(op, i)]
        if not usable:
            usable = [builder.new_input(builder.random_shape(*NDIMS[op]))]
        x = draw(st.one_of(st.just(usable[-1]), st.sampled_from(usable)))  # deep chains, and fan-out
        made = builder.step(op, x)
        if builder.magnitude(made) > CAP or builder.size(made) > MAX_SIZE:
            builder.steps[made] = ("tanh", (x,), ())  # too large: squash x instead
            builder.shapes[made], builder.bounds[made] = builder.shapes[x], (-1.0, 1.0)
    return Program(builder.steps, draw(st.integers(0, 2**32 - 1)))


# -- running a program in both libraries ----------------------------------------------------------------
def input_values(program):
    rng = np.random.default_rng(program.seed)
    values = {}
    for i in program.inputs():
        shape = program.steps[i][2][0]
        values[i] = rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)  # away from 0
    return values, rng


def evaluate(program, leaves, library):
    values = []
    for i, (op, refs, params) in enumerate(program.steps):
        if op == "input":
            values.append(leaves[i])
        else:
            values.append(getattr(OPS[op], library)(*[values[r] for r in refs], *params))
    return values


def as_numpy(value):
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, bprop.Tensor):
        return np.asarray(value.numpy())
    return np.asarray(value)


def assert_close(actual, expected, what):
    actual, expected = as_numpy(actual), as_numpy(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, torch {expected.shape}"
    assert actual.dtype == np.float64, f"{what}: dtype {actual.dtype}"
    excess = np.abs(actual - expected) - (ATOL + RTOL * np.abs(expected))
    if excess.size and not (excess <= 0).all():  # NaN fails too
        i = tuple(int(k) for k in np.unravel_index(np.argmax(np.where(np.isnan(excess), np.inf, excess)), excess.shape))
        raise AssertionError(f"{what}: at {i} bprop {float(actual[i])!r}, torch {float(expected[i])!r} "
                             f"(tolerance {ATOL} + {RTOL}·|torch|)")


def reject_near_kinks(program, ours, theirs):
    """Rejects a draw where a non-smooth op's argument is near its kink in either library, unless it is
    exactly on it in both: there the two may rightly take different sides."""
    for i, (op, refs, params) in enumerate(program.steps):
        if op == "input" or OPS[op].kinks is None:
            continue
        mine = OPS[op].kinks(*[as_numpy(ours[r]) for r in refs], *params)
        reference = OPS[op].kinks(*[as_numpy(theirs[r]) for r in refs], *params)
        for a, t in zip(mine, reference):
            assume(np.array_equal(a == 0, t == 0))
            assume(np.all((t == 0) | (np.abs(t) > KINK)) and np.all((a == 0) | (np.abs(a) > KINK)))


def build(program):
    """Runs program in both libraries and compares the values; returns both libraries' leaves and losses
    (Σ over the unused values of sum(value·weights)), and the generator, for more random weights."""
    arrays, rng = input_values(program)
    ours = {i: bprop.tensor(a, requires_grad=True) for i, a in arrays.items()}
    theirs = {i: torch.tensor(a, requires_grad=True) for i, a in arrays.items()}
    our_values, their_values = evaluate(program, ours, "bprop"), evaluate(program, theirs, "torch")
    reject_near_kinks(program, our_values, their_values)
    for i, (a, t) in enumerate(zip(our_values, their_values)):
        assert_close(a, t, f"forward v{i}")
    our_loss, their_loss = 0.0, 0.0
    for i in program.sinks():
        weights = rng.standard_normal(np.shape(as_numpy(their_values[i])))
        our_loss = our_loss + (our_values[i] * bprop.tensor(weights)).sum()
        their_loss = their_loss + (their_values[i] * torch.tensor(weights)).sum()
    assert_close(our_loss, their_loss, "loss")
    return ours, theirs, our_loss, their_loss, rng


def assert_gradients_close(ours, theirs, what):
    for i in ours:
        a, t = ours[i], theirs[i]
        assert (a is None) == (t is None), f"{what} of v{i}: bprop {a!r}, torch {t!r}"
        if t is not None:
            assert_close(a, t, f"{what} of v{i}")


SETTINGS = dict(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=500, **SETTINGS)
@given(program=programs(FIRST_ORDER_OPS))
def test_backward_matches_torch_on_random_graphs(program):
    ours, theirs, our_loss, their_loss, _ = build(program)
    our_loss.backward()
    their_loss.backward()
    assert_gradients_close({i: t.grad for i, t in ours.items()}, {i: t.grad for i, t in theirs.items()}, "gradient")


@settings(max_examples=300, **SETTINGS)
@given(program=programs(SECOND_ORDER_OPS, max_steps=8))
def test_double_backward_matches_torch_on_random_graphs(program):
    ours, theirs, our_loss, their_loss, rng = build(program)
    keys = list(ours)
    our_grads = bprop.grad(our_loss, [ours[i] for i in keys], create_graph=True)
    their_grads = torch.autograd.grad(their_loss, [theirs[i] for i in keys], create_graph=True, allow_unused=True)
    assert_gradients_close(dict(zip(keys, our_grads)), dict(zip(keys, their_grads)), "gradient")
    # loss + Σ <u, ∂loss/∂x>: its gradient is ∂loss/∂x + H·u, so .grad checks the Hessian-vector products.
    our_total, their_total = our_loss, their_loss
    for g, t in zip(our_grads, their_grads):
        if t is not None:
            u = rng.standard_normal(tuple(t.shape))
            our_total = our_total + (g * bprop.tensor(u)).sum()
            their_total = their_total + (t * torch.tensor(u)).sum()
    our_total.backward()
    their_total.backward()
    assert_gradients_close({i: t.grad for i, t in ours.items()}, {i: t.grad for i, t in theirs.items()},
                           "gradient of loss + <u, gradient>")


def test_programs_cover_every_op():
    """The generator reaches each op (a guard against an op silently never drawn)."""
    seen = set()

    @settings(max_examples=300, **SETTINGS)
    @given(program=programs(FIRST_ORDER_OPS))
    def collect(program):
        seen.update(step[0] for step in program.steps)

    collect()
    assert seen >= set(OPS), f"never drawn: {sorted(set(OPS) - seen)}"


def test_exact_kinks_follow_torch():
    """On a kink itself both libraries take the same side: relu'(0) = abs'(0) = 0, maximum and max share
    ties equally, clip passes the gradient at its bounds. (The random graphs reach kinks only by fan-out.)"""
    x0 = np.array([[0.0, 1.5, -0.5, 1.5], [0.5, 0.5, 0.0, -1.0]])
    y0 = np.array([[0.0, 1.5, 0.25, -2.0], [0.5, 0.5, -1.0, -1.0]])
    weights = np.random.default_rng(0).standard_normal((6, 2, 4))

    def run(x, y, lib):
        maximum, amax, clip = ((bprop.maximum, lambda t: t.max(axis=1, keepdims=True), bprop.clip) if lib == "bprop"
                               else (torch.maximum, lambda t: torch.amax(t, dim=1, keepdim=True), torch.clamp))
        outs = [x.relu(), x.abs(), maximum(x, y), amax(x) + 0.0 * x, clip(x, -0.5, 0.5), amax(y) + 0.0 * y]
        return sum((o * (bprop.tensor(w) if lib == "bprop" else torch.tensor(w))).sum() for o, w in zip(outs, weights))

    x, y = bprop.tensor(x0, requires_grad=True), bprop.tensor(y0, requires_grad=True)
    tx, ty = torch.tensor(x0, requires_grad=True), torch.tensor(y0, requires_grad=True)
    run(x, y, "bprop").backward()
    run(tx, ty, "torch").backward()
    assert_close(x.grad, tx.grad, "gradient of x")
    assert_close(y.grad, ty.grad, "gradient of y")
