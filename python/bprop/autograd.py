"""Reverse-mode differentiation helpers: grad(), gradcheck() and to_dot(). The engine itself is C++
(cpp/autograd/engine.cpp)."""
import numpy as np

from . import _core
from .tensor import Tensor, no_grad, tensor

__all__ = ["grad", "gradcheck", "to_dot"]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """Gradients of outputs with respect to inputs, returned as tensors (not accumulated in .grad), as
    torch.autograd.grad. create_graph=True records them, for gradients of gradients."""
    single = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    retain = create_graph if retain_graph is None else retain_graph
    result = _core.ag_grad(outputs, list(grad_outputs), inputs, bool(retain), bool(create_graph))
    return result[0] if single else tuple(result)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares the gradients backward() gives for sum(fn(*inputs) * v), v random, with float64 central
    differences. inputs: tensors (those with requires_grad are checked; they are used in float64).
    Returns True, or raises ValueError (or returns False with raise_exception=False) with a report of the
    worst element."""
    originals = list(inputs)
    values = [np.array(t.numpy(), dtype=np.float64) for t in originals]
    wanted = [t.requires_grad for t in originals]
    if not any(wanted):
        raise ValueError("[gradcheck] no input requires grad")

    def run(arrays):
        with no_grad():
            out = fn(*[tensor(a, dtype="float64") for a in arrays])
        return np.array(out.numpy(), dtype=np.float64)

    out = run(values)
    weights = np.random.default_rng(0).standard_normal(out.shape)
    leaves = [tensor(a, requires_grad=w, dtype="float64") for a, w in zip(values, wanted)]
    result = fn(*leaves)
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
