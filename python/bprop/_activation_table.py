"""The activation table of the C++ core (cpp/ops/activations.cpp) as Python sees it. Each entry's named
parameters and defaults make the signature of its layer class (nn.Softplus(beta=1.0, threshold=20.0)) and
of its tensor function, so an activation is declared once, in C++, and checked there."""
import inspect

from . import _core
from ._checks import real

# {name: (((parameter, default), ...), op)}, op the lower-case name of its graph node ("softplus").
TABLE = {name: (tuple((p, default) for p, default, _ in params), op) for name, params, op in _core.activation_table()}
# {name: {parameter: True where the core requires it to be > 0}}, for the docstrings of the layer classes.
POSITIVE = {name: {p: positive for p, _, positive in params} for name, params, _ in _core.activation_table()}


def docstring(entry, summary, class_name, parameter_docs):
    """The numpydoc docstring of the layer class of table entry `entry`: its `summary` (the class's own
    docstring), then a Parameters section, the Raises and an example made from the entry's parameters,
    defaults and domains, so the docstring cannot drift from the table. parameter_docs: {parameter: what it
    means}."""
    params = entry_params(entry)
    lines = [summary.strip(), "",
             f"Elementwise on samples of any shape; the output has the input's shape. As ``torch.nn.{class_name}``."]
    if params:
        lines += ["", "Parameters", "----------"]
        for p, default in params:
            domain = " Must be > 0." if POSITIVE[entry][p] else ""
            lines += [f"{p} : float, default {default!r}", f"    {parameter_docs[p]}{domain}"]
        positive = [p for p, _ in params if POSITIVE[entry][p]]
        lines += ["", "Raises", "------", "TypeError", "    If a parameter is not a real number."]
        if positive:
            lines += ["ValueError", f"    If {' or '.join(positive)} is not > 0."]
    config = ", ".join(f"{p}={default!r}" for p, default in params)
    lines += ["", "Examples", "--------", f">>> layer = nn.{class_name}()", ">>> layer", f"{class_name}({config})",
              ">>> layer.forward(np.zeros((2, 3), np.float32)).shape", "(2, 3)", ""]
    return "\n".join(lines)


def entry_params(entry):
    """((parameter, default), ...) of table entry `entry` ("Softplus")."""
    return TABLE[entry][0]


def signature(entry, leading=()):
    """The signature taking `leading` names (positional) and then the entry's parameters with defaults."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY) for name in leading] +
                             [inspect.Parameter(p, kind, default=default) for p, default in entry_params(entry)])


def parameter_values(entry, where, sig, args, kwargs):
    """{parameter: float} from a call's arguments bound to `sig`, checked by the core (ValueError for a value
    outside its domain); TypeError for arguments that do not fit or are not real numbers."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"[{where}] {error}") from None
    bound.apply_defaults()
    values = {p: real(bound.arguments[p], p, where) for p, _ in entry_params(entry)}
    _core.check_activation(entry, list(values.values()))
    return values
