"""The estimators' hyperparameters checked at fit (sklearn forbids checking in __init__), and the bprop
network and optimizer they describe: built from hidden_layer_sizes, or cloned from a user's model."""
import numbers
import warnings

import numpy as np

from .. import nn, optim
from .._dtypes import resolve_dtype
from ..models import Sequential

# sklearn's activation names (what users of sklearn.neural_network write) and the bprop layer of each
ACTIVATIONS = {"identity": nn.Identity, "logistic": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
SOLVERS = ("adam", "sgd")


def _real(value, name, where, low, high=np.inf, low_open=False, high_open=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"[{where}] {name} must be a finite real number; got {value!r:.60}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open or high == np.inf else ']'}"
        raise ValueError(f"[{where}] {name} must be in {interval}; got {value!r}")
    return float(value)


def _count(value, name, where, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"[{where}] {name} must be an integer >= {minimum}; got {value!r:.60}")
    return int(value)


def hidden_sizes(value, where):
    """hidden_layer_sizes as a tuple of positive ints (an int n is (n,); () is a linear model)."""
    sizes = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"[{where}] hidden_layer_sizes must be a positive integer or a sequence of them; got "
                         f"{value!r:.60}") from None
    return tuple(_count(s, "each of hidden_layer_sizes", where) for s in sizes)


def check_hyperparameters(est, where):
    """Every hyperparameter of est checked (ValueError/TypeError naming the first bad one), before any work."""
    if est.activation not in ACTIVATIONS:
        raise ValueError(f"[{where}] unknown activation {est.activation!r}; expected one of {', '.join(ACTIVATIONS)}")
    if est.solver not in SOLVERS:
        raise ValueError(f"[{where}] unknown solver {est.solver!r}; expected one of {', '.join(SOLVERS)} "
                         "(lbfgs is not available)")
    hidden_sizes(est.hidden_layer_sizes, where)
    _real(est.alpha, "alpha", where, 0.0)
    if not (isinstance(est.batch_size, str) and est.batch_size == "auto"):
        _count(est.batch_size, "batch_size (or 'auto')", where)
    _real(est.learning_rate_init, "learning_rate_init", where, 0.0, low_open=True)
    _count(est.max_iter, "max_iter", where)
    _real(est.tol, "tol", where, 0.0)
    _count(est.n_iter_no_change, "n_iter_no_change", where)
    _real(est.momentum, "momentum", where, 0.0, 1.0)
    _real(est.beta_1, "beta_1", where, 0.0, 1.0, high_open=True)
    _real(est.beta_2, "beta_2", where, 0.0, 1.0, high_open=True)
    _real(est.epsilon, "epsilon", where, 0.0, low_open=True)
    if est.early_stopping:
        _real(est.validation_fraction, "validation_fraction", where, 0.0, 1.0, low_open=True, high_open=True)
    if est.model is not None and not isinstance(est.model, Sequential):
        raise TypeError(f"[{where}] model must be an uncompiled bprop.Sequential (or None); got "
                        f"{type(est.model).__name__}")
    network_dtype(est, where)


def network_dtype(est, where, data_dtype=None):
    """The dtype the network trains in: dtype, else the model's, else the data's (float32 data trains in
    float32, anything else in float64, as sklearn's MLP does)."""
    if est.dtype is not None:
        try:
            dtype = resolve_dtype(est.dtype, where)
        except (TypeError, ValueError):
            raise ValueError(f"[{where}] dtype must be 'float32', 'float64' or None; got {est.dtype!r:.60}") from None
        if est.model is not None and est.model.dtype != dtype:
            raise ValueError(f"[{where}] dtype={dtype.name} differs from the model's {est.model.dtype.name}; leave "
                             "dtype=None to train in the model's dtype")
        return dtype
    if est.model is not None:
        return est.model.dtype
    return np.dtype(np.float32) if data_dtype == np.float32 else np.dtype(np.float64)


def warn_if_compiled(model):
    """A compiled model's optimizer and loss are not what the estimator trains with: say so rather than let a
    user believe their compile settings apply."""
    if model is not None and model.__dict__.get("_trainer") is not None:
        warnings.warn("[bprop.sklearn] the model given is compiled, but only its architecture is used: the "
                      "estimator trains a clone with its own solver, learning_rate_init and loss", UserWarning,
                      stacklevel=4)


def _reseeded(config, rng):
    """config with every layer's "seed" replaced by a draw from rng, in a fixed traversal order: the
    estimator's random_state decides the initialisation, as in sklearn."""
    if isinstance(config, dict):
        return {k: int(rng.randint(0, 2**31 - 1)) if k == "seed" and v is not None else _reseeded(v, rng)
                for k, v in config.items()}
    if isinstance(config, list):
        return [_reseeded(v, rng) for v in config]
    return config


def build_network(est, n_features, n_outputs, dtype, rng, where):
    """A new Sequential for (n_features) inputs and n_outputs outputs: the user's model cloned through its
    config (never the object itself), or hidden_layer_sizes Linear layers with the activation between."""
    if est.model is not None:
        model = type(est.model).from_config(_reseeded(est.model.get_config(), rng))
        model.build((n_features,))
        if model.out_features != n_outputs:
            raise ValueError(f"[{where}] the model has {model.out_features} outputs; this data needs {n_outputs}")
        return model
    widths = (n_features, *hidden_sizes(est.hidden_layer_sizes, where), n_outputs)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        if i:
            layers.append(ACTIVATIONS[est.activation]())
        layers.append(nn.Linear(n_in, n_out, seed=int(rng.randint(0, 2**31 - 1)), dtype=dtype.name))
    return Sequential(layers, dtype=dtype.name)


def make_optimizer(est, weight_decay):
    """The solver as a bprop optimizer. L2 (alpha) is coupled weight decay: it enters the gradient before the
    update, as sklearn's penalty term does."""
    if est.solver == "sgd":
        return optim.SGD(lr=est.learning_rate_init, momentum=est.momentum, weight_decay=weight_decay,
                         nesterov=bool(est.nesterovs_momentum) and est.momentum > 0)
    return optim.Adam(lr=est.learning_rate_init, betas=(est.beta_1, est.beta_2), eps=est.epsilon,
                      weight_decay=weight_decay)
