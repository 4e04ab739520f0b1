"""What the callbacks that watch a logged value share: a finite threshold, and the rule saying whether a
value improved on the best so far."""
import math

from .._checks import real


def finite(value, name, where):
    """value as a finite float; TypeError/ValueError naming it otherwise."""
    value = real(value, name, where)
    if not math.isfinite(value):
        raise ValueError(f"[{where}] {name} must be finite; got {value}")
    return value


def improvement_rule(monitor, mode, min_delta, where):
    if not isinstance(monitor, str):
        raise TypeError(f"[{where}] monitor must be the name of a logged value (a str); got {type(monitor).__name__}")
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"[{where}] mode must be 'auto', 'min' or 'max'; got {mode!r}")
    if mode == "auto":
        mode = "max" if monitor.endswith(("accuracy", "acc")) else "min"
    if mode == "min":
        return lambda current, best: current < best - min_delta, math.inf
    return lambda current, best: current > best + min_delta, -math.inf
