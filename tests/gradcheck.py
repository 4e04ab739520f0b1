"""Central-difference gradient checks in float64: the independent reference for every backward."""
import numpy as np

EPS = 1e-6
ATOL, RTOL = 1e-8, 1e-6  # |analytic - numeric| <= ATOL + RTOL·|numeric|, element by element


def numeric_gradient(f, x, eps=EPS):
    """∂f/∂x by central differences; f() reads x, which is perturbed in place and restored."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        up = f()
        flat[i] = original - eps
        down = f()
        flat[i] = original
        gflat[i] = (up - down) / (2 * eps)
    return grad


def assert_gradients_close(analytic, numeric, what):
    excess = np.abs(analytic - numeric) - (ATOL + RTOL * np.abs(numeric))
    if excess.size and excess.max() > 0:
        i = np.unravel_index(np.argmax(excess), excess.shape)
        raise AssertionError(f"{what}: at {i} analytic {analytic[i]!r} vs numeric {numeric[i]!r} "
                             f"(tolerance {ATOL} + {RTOL}·|numeric|)")


def numeric_parameter_gradient(param, loss):
    """∂loss/∂param by central differences; loss() runs the model. The parameter is left as it was."""
    value = param.value()

    def loss_at():
        param.set_value(value)
        return loss()

    try:
        return numeric_gradient(loss_at, value)
    finally:
        param.set_value(value)
