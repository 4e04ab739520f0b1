"""Small data sets generated in code, for the demo, the examples and the tests."""
import numpy as np

__all__ = ["two_spirals", "xor"]


def two_spirals(n_per_class=500, turns=1.75, noise=0.03, seed=0):
    """The classic two interleaved spirals: x of shape (2n, 2) float32, y of 0/1 labels (int64).

    A linear model gets ~50%; it takes a few hidden layers to separate them."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n_per_class)) * turns * 2 * np.pi
    radius = t / (turns * 2 * np.pi)
    arm = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
    x = np.concatenate([arm, -arm]) + rng.normal(0, noise, (2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class, np.int64), np.ones(n_per_class, np.int64)])
    order = rng.permutation(2 * n_per_class)
    return x[order].astype(np.float32), y[order]


def xor():
    """The four XOR patterns and their 0/1 targets, as float32 (4, 2) and (4, 1)."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    return x, np.array([[0], [1], [1], [0]], np.float32)
