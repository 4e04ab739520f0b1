"""Reverse-mode differentiation helpers: grad(), gradcheck() and to_dot(). The engine itself is C++
(cpp/autograd/engine.cpp)."""
from typing import Any, Callable, Sequence

import numpy as np

from .. import _core
from .._checks import flag, real
from .tensor import Tensor, as_input, no_grad, tensor

__all__ = ["grad", "gradcheck", "to_dot"]


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False) -> Any:
    """Return the gradients of outputs with respect to inputs, as torch.autograd.grad does.

    The gradients are returned as tensors, not accumulated in the inputs' ``grad``.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
        What is differentiated.
    inputs : Tensor or sequence of Tensor
        What it is differentiated with respect to.
    grad_outputs : Tensor, array_like or sequence of them, optional
        The gradient of the final result with respect to each output (None: 1 for a one-element output).
    retain_graph : bool, optional
        Keep the graph for another backward pass (default: the value of create_graph).
    create_graph : bool, default False
        Record the gradient computation, for gradients of gradients.

    Returns
    -------
    Tensor or tuple of Tensor
        One gradient per input: a tensor when inputs is one tensor, else a tuple.

    Raises
    ------
    TypeError
        If outputs or inputs are not tensors.
    ValueError
        If they are empty, or grad_outputs has the wrong length.

    Examples
    --------
    >>> x = bprop.tensor([1.0, 2.0], requires_grad=True)
    >>> bprop.grad((x ** 3).sum(), x).numpy()
    array([ 3., 12.])
    >>> (dx,) = bprop.grad((x * x).sum(), [x], create_graph=True)
    >>> bprop.grad(dx.sum(), x).numpy()
    array([2., 2.])
    """
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


def gradcheck(fn: Callable[..., Tensor], inputs: Tensor | Sequence[Tensor], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check the gradients of fn against float64 central differences.

    Compares the gradients backward() gives for ``sum(fn(*inputs) * v)``, v random, with central
    differences, element by element: ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Parameters
    ----------
    fn : callable
        Takes the tensors of inputs and returns a Tensor.
    inputs : Tensor or sequence of Tensor
        The arguments; those with requires_grad are checked (they are used in float64).
    eps : float, default 1e-6
        The finite-difference step.
    atol, rtol : float
        The absolute (default 1e-5) and relative (default 1e-3) tolerances.
    raise_exception : bool, default True
        Raise on a mismatch rather than return False.

    Returns
    -------
    bool
        True when every gradient agrees; False on a mismatch with ``raise_exception=False``.

    Raises
    ------
    ValueError
        On a mismatch (with a report of the first input's worst element), when no input requires grad,
        or for a non-positive eps or negative tolerances.
    TypeError
        If fn is not callable or does not return a Tensor.

    Examples
    --------
    >>> x = bprop.tensor([0.5, -1.0], requires_grad=True)
    >>> bprop.gradcheck(lambda t: (t * t.sigmoid()).sum(), [x])
    True
    """
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


def _sequence(values: Any, name: str, where: str = "grad") -> list[Any]:
    """values as a list; TypeError for what is not a list or tuple."""
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"[{where}] {name} must be a Tensor or a list of Tensors; got {type(values).__name__}")
    return list(values)


def _tensors(values: Any, name: str, where: str = "grad") -> list[Tensor]:
    """One Tensor or a non-empty list of them, as a list; TypeError/ValueError naming the argument."""
    values = [values] if isinstance(values, Tensor) else _sequence(values, name, where)
    if not values:
        raise ValueError(f"[{where}] {name} is empty")
    for i, value in enumerate(values):
        if not isinstance(value, Tensor):
            raise TypeError(f"[{where}] {name}[{i}] must be a Tensor; got {type(value).__name__}")
    return values


def to_dot(root: Tensor) -> str:
    """Return the graph that produced a tensor, in Graphviz's dot language (render with ``dot -Tpng``).

    Parameters
    ----------
    root : Tensor
        The tensor whose graph is drawn (as a method: the tensor itself).

    Returns
    -------
    str
        The dot source.

    Examples
    --------
    >>> x = bprop.tensor([1.0], requires_grad=True)
    >>> print((x * 2).sum().to_dot())  # doctest: +ELLIPSIS
    digraph bprop {
    ...
    }
    """
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


setattr(Tensor, "to_dot", to_dot)  # the stub declares it as a method of Tensor
