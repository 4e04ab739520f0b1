"""Reverse-mode differentiation helpers: grad(), gradcheck() and to_dot(). The engine itself is C++
(cpp/autograd/engine.cpp)."""
import numpy as np

from .. import _core
from .._checks import flag, real
from .tensor import Tensor, as_input, no_grad, tensor

__all__ = ["grad", "gradcheck", "to_dot"]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """Gradients of outputs with respect to inputs, returned as tensors (not accumulated in .grad), as
    torch.autograd.grad. create_graph=True records them, for gradients of gradients."""
    single = isinstance(inputs, Tensor)
    outputs = _tensors(outputs, "outputs")
    inputs = _tensors(inputs, "inputs")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = [None if g is None else as_input(g, "grad") for g in
                        ([grad_outputs] if isinstance(grad_outputs, Tensor) else _sequence(grad_outputs, "grad_outputs"))]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"[grad] {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    create_graph = flag(create_graph, "create_graph", "grad")
    retain = create_graph if retain_graph is None else flag(retain_graph, "retain_graph", "grad")
    result = _core.ag_grad(outputs, grad_outputs, inputs, retain, create_graph)
    return result[0] if single else tuple(result)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares the gradients backward() gives for sum(fn(*inputs) * v), v random, with float64 central
    differences. inputs: tensors (those with requires_grad are checked; they are used in float64).
    Returns True, or raises ValueError (or returns False with raise_exception=False) with a report of the
    worst element."""
    if not callable(fn):
        raise TypeError(f"[gradcheck] fn must be callable; got {type(fn).__name__}")
    originals = _tensors(inputs, "inputs", where="gradcheck")
    eps, atol, rtol = (real(v, name, "gradcheck") for v, name in ((eps, "eps"), (atol, "atol"), (rtol, "rtol")))
    if not (eps > 0 and atol >= 0 and rtol >= 0):
        raise ValueError(f"[gradcheck] needs eps > 0, atol >= 0 and rtol >= 0; got {eps}, {atol}, {rtol}")
    values = [np.array(t.numpy(), dtype=np.float64) for t in originals]
    wanted = [t.requires_grad for t in originals]
    if not any(wanted):
        raise ValueError("[gradcheck] no input requires grad")

    def output(tensors):
        out = fn(*tensors)
        if not isinstance(out, Tensor):
            raise TypeError(f"[gradcheck] fn must return a Tensor; it returned {type(out).__name__}")
        return out

    def run(arrays):
        with no_grad():
            out = output([tensor(a, dtype="float64") for a in arrays])
        return np.array(out.numpy(), dtype=np.float64)

    out = run(values)
    weights = np.random.default_rng(0).standard_normal(out.shape)
    leaves = [tensor(a, requires_grad=w, dtype="float64") for a, w in zip(values, wanted)]
    result = output(leaves)
    (result * tensor(weights, dtype="float64")).sum().backward()

    worst = None
    for i, (leaf, value) in enumerate(zip(leaves, values)):
        if not wanted[i]:
            continue
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(value)
        numeric = np.zeros_like(value)
        flat = value.reshape(-1)
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + eps
            plus = np.sum(run(values) * weights)
            flat[j] = saved - eps
            minus = np.sum(run(values) * weights)
            flat[j] = saved
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if excess.size and excess.max() > 0:
            j = int(np.argmax(excess))
            report = (f"[gradcheck] input {i}, element {np.unravel_index(j, value.shape)}: backward gives "
                      f"{analytic.reshape(-1)[j]!r}, central differences {numeric.reshape(-1)[j]!r} "
                      f"(atol={atol}, rtol={rtol})")
            worst = worst or report
    if worst is None:
        return True
    if raise_exception:
        raise ValueError(worst)
    return False


def _sequence(values, name, where="grad"):
    """values as a list; TypeError for what is not a list or tuple."""
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"[{where}] {name} must be a Tensor or a list of Tensors; got {type(values).__name__}")
    return list(values)


def _tensors(values, name, where="grad"):
    """One Tensor or a non-empty list of them, as a list; TypeError/ValueError naming the argument."""
    values = [values] if isinstance(values, Tensor) else _sequence(values, name, where)
    if not values:
        raise ValueError(f"[{where}] {name} is empty")
    for i, value in enumerate(values):
        if not isinstance(value, Tensor):
            raise TypeError(f"[{where}] {name}[{i}] must be a Tensor; got {type(value).__name__}")
    return values


def to_dot(root):
    """The graph that produced root, in Graphviz's dot language (render with `dot -Tpng`)."""
    lines = ["digraph bprop {", "  rankdir=BT;", '  node [shape=box, fontname="Helvetica"];',
             f'  out [label="output {root.shape}", shape=ellipse];']
    nodes = _core.ag_graph(root)
    for ident, name, children in nodes:
        lines.append(f'  n{ident} [label="{name}"];')
        for child in children:
            lines.append(f"  n{child} -> n{ident};")
    if nodes:
        lines.append(f"  n{nodes[0][0]} -> out;")
    lines.append("}")
    return "\n".join(lines)


Tensor.to_dot = to_dot
