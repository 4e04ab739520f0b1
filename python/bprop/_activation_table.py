"""The activation table of the C++ core (cpp/ops/activations.cpp) as Python sees it. Each entry's named
parameters and defaults make the signature of its layer class (nn.Softplus(beta=1.0, threshold=20.0)) and
of its tensor function, so an activation is declared once, in C++, and checked there."""
import inspect

from . import _core
from ._checks import real

# {name: (((parameter, default), ...), op)}, op the lower-case name of its graph node ("softplus").
TABLE = {name: (tuple((p, default) for p, default, _ in params), op) for name, params, op in _core.activation_table()}


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
