"""bprop's global seed source: where a layer or a fit gets its seed when none is given.

``bprop.manual_seed(s)`` makes everything after it reproducible (layer initialisation, dropout masks,
shuffles), as ``torch.manual_seed`` does. Without it, seeds come from the operating system's entropy.
"""
import numpy as np

_source = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the global source: the same seed gives the same layers and the same training run.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Raises
    ------
    ValueError
        If ``seed`` is not a non-negative integer (a bool included).

    Examples
    --------
    >>> bprop.manual_seed(0)
    >>> first = bprop.nn.Linear(2, 3).weight.numpy().copy()
    >>> bprop.manual_seed(0)
    >>> bool(np.array_equal(first, bprop.nn.Linear(2, 3).weight.numpy()))
    True
    """
    global _source
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"[manual_seed] seed must be a non-negative integer; got {seed!r}")
    _source = np.random.default_rng(int(seed))


def next_seed():
    """A fresh 64-bit seed from the global source."""
    return int(_source.integers(0, 2**63))


def resolve_seed(seed, where, none_allowed=True):
    """The seed to use: the one given (checked: an integer in [0, 2**64), what C++ takes), or the next
    from the global source when it is None."""
    if seed is None and none_allowed:
        return next_seed()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"[{where}] seed must be an integer in [0, 2**64){' or None' if none_allowed else ''}; "
                         f"got {seed!r:.60}")
    return int(seed)
