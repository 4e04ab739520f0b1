"""Small data sets generated in code, for the demo, the examples and the tests."""
import numpy as np

__all__ = ["two_spirals", "xor"]


def two_spirals(n_per_class: int = 500, turns: float = 1.75, noise: float = 0.03,
                seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Make the classic two interleaved spirals, a small classification problem.

    A linear model gets ~50%; it takes a few hidden layers to separate them.

    Parameters
    ----------
    n_per_class : int, default 500
        Points on each spiral.
    turns : float, default 1.75
        How many times each arm winds around the centre.
    noise : float, default 0.03
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : int or None, default 0
        Seed of the NumPy generator (None: fresh entropy).

    Returns
    -------
    x : numpy.ndarray
        The points, float32 of shape ``(2 * n_per_class, 2)``, shuffled.
    y : numpy.ndarray
        Their labels, 0 or 1, int64 of shape ``(2 * n_per_class,)``.

    Examples
    --------
    >>> x, y = bprop.datasets.two_spirals(n_per_class=10)
    >>> x.shape, x.dtype, y.shape, int(y.sum())
    ((20, 2), dtype('float32'), (20,), 10)
    """
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n_per_class)) * turns * 2 * np.pi
    radius = t / (turns * 2 * np.pi)
    arm = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
    x = np.concatenate([arm, -arm]) + rng.normal(0, noise, (2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class, np.int64), np.ones(n_per_class, np.int64)])
    order = rng.permutation(2 * n_per_class)
    return x[order].astype(np.float32), y[order]


def xor() -> tuple[np.ndarray, np.ndarray]:
    """Make the four XOR patterns and their 0/1 targets.

    Returns
    -------
    x : numpy.ndarray
        The inputs, float32 of shape (4, 2).
    y : numpy.ndarray
        The targets, float32 of shape (4, 1).

    Examples
    --------
    >>> x, y = bprop.datasets.xor()
    >>> y.ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    return x, np.array([[0], [1], [1], [0]], np.float32)
