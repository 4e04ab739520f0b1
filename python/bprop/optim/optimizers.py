"""The optimizers: thin Python classes over the C++ fused updates, with PyTorch's formulas and defaults.

An optimizer is made with its parameters, as in PyTorch (``SGD(model.parameters(), lr=0.1)``), or without
them (``Adam(lr=1e-3)``), to be bound later by ``bind(parameters)`` (``Model.compile`` does that). The
parameters' dtype picks the C++ class (``Adam_float32`` or ``Adam_float64``); ``core`` is that object,
which the trainer steps without coming back to Python.
"""
import inspect
from collections.abc import Iterable, Mapping

import numpy as np

from .. import _core
from .._dtypes import core_class
from . import schedules as _schedules
from .._checks import flag, integer, optional_real, real, real_pair, reals

__all__ = ["Optimizer", "GradientHookHandle", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "deserialize"]

_PARAMETER_TYPES = (_core.Parameter_float32, _core.Parameter_float64)


def _parameter_list(parameters, where):
    """The parameters as a list of Parameter handles of one dtype; TypeError/ValueError otherwise."""
    if isinstance(parameters, _PARAMETER_TYPES):
        raise TypeError(f"[{where}] parameters must be a list of parameters; got one Parameter (put it in a list)")
    if isinstance(parameters, (str, bytes, Mapping, np.ndarray)) or not isinstance(parameters, Iterable):
        raise TypeError(f"[{where}] parameters must be a list of parameters; got {type(parameters).__name__}")
    parameters = list(parameters)
    if not parameters:
        raise ValueError(f"[{where}] the parameter list is empty; expected at least one parameter")
    for i, p in enumerate(parameters):
        if isinstance(p, Mapping):
            raise TypeError(f"[{where}] parameter groups (dicts) are not supported; pass one list of parameters")
        if isinstance(p, _core.Tensor):
            raise TypeError(f"[{where}] parameter {i} is a Tensor; optimizers update Parameters, whose storage "
                            "they own: make it with bprop.Parameter(array)")
        if not isinstance(p, _PARAMETER_TYPES):
            raise TypeError(f"[{where}] parameter {i} must be a bprop Parameter; got {type(p).__name__}")
        if p.dtype != parameters[0].dtype:
            raise TypeError(
                f"[{where}] parameters must all have one dtype; got {parameters[0].dtype} (parameter 0) "
                f"and {p.dtype} (parameter {i})"
            )
    return parameters


class GradientHookHandle:
    """What add_gradient_hook returns: ``remove()`` uninstalls the hook (a second call does nothing)."""

    def __init__(self, optimizer, hook):
        self._optimizer, self.hook, self._key = optimizer, hook, None

    def _install(self, core):
        self._key = core.add_gradient_hook(self.hook)

    def remove(self):
        optimizer = self._optimizer
        if optimizer is None:
            return
        if self._key is not None:
            optimizer.core.remove_gradient_hook(self._key)
        optimizer._hooks.remove(self)
        self._optimizer = None


class Optimizer:
    """What every optimizer shares: binding, ``step``, ``lr``, clipping, a schedule, state and config.

    Subclasses give their hyperparameters to ``__init__`` in signature order; ``_options`` turns them
    into the C++ options object (which validates them).
    """

    def __init__(self, parameters, hyperparameters, clipnorm, clipvalue, schedule):
        name = type(self).__name__
        self._hyperparameters = hyperparameters
        self._options = self._make_options(hyperparameters)
        self._clip = _core.ClipOptions(
            optional_real(clipnorm, "clipnorm", name), optional_real(clipvalue, "clipvalue", name), who=name
        )
        self._schedule = _schedules.check(schedule, name)
        self._core = None
        self._parameters = None
        self._hooks = []  # GradientHookHandles, installed in the core when it is made
        if parameters is not None:
            self._bind(parameters, name)

    # ---- for subclasses -----------------------------------------------------------------------
    def _make_options(self, hyperparameters):
        """The C++ options (``_core.SGDOptions``, ...), which check the ranges."""
        options_class = getattr(_core, f"{type(self).__name__}Options")
        return options_class(**hyperparameters, who=type(self).__name__)

    # ---- binding ------------------------------------------------------------------------------
    def bind(self, parameters):
        """Bind to ``parameters`` (Parameter handles of one dtype); returns self.

        Binding again to the same parameters does nothing; to other parameters is a ValueError.
        Binding moves the parameters' values and gradients, unchanged, into this optimizer's flat arena (one
        span each, so a step is one pass); their tensors follow, and NumPy views taken earlier keep the values
        they had. Another optimizer bound to some of them later takes those into its own arena; this one
        then updates parameter by parameter, with the same results (``core.flat`` says which).
        """
        return self._bind(parameters, f"{type(self).__name__}.bind")

    def _bind(self, parameters, where):
        parameters = _parameter_list(parameters, where)
        if self._core is not None:
            if len(parameters) == len(self._parameters) and all(a is b for a, b in zip(parameters, self._parameters)):
                return self
            raise ValueError(
                f"[{where}] this optimizer is already bound to other parameters; make a new "
                f"{type(self).__name__} for them"
            )
        cls = core_class(type(self).__name__, parameters[0].dtype)
        schedule = self._schedule.core if self._schedule is not None else None
        self._core = cls(parameters, self._options, self._clip, schedule)
        self._parameters = parameters
        for handle in self._hooks:
            handle._install(self._core)
        return self

    @property
    def bound(self):
        return self._core is not None

    @property
    def core(self):
        """The C++ optimizer (``_core.<Name>_<dtype>``) the trainer steps. ValueError if unbound."""
        if self._core is None:
            name = type(self).__name__
            raise ValueError(
                f"[{name}] the optimizer has no parameters yet; pass them when making it "
                f"({name}(model.parameters(), ...)) or call bind(parameters) (Model.compile does)"
            )
        return self._core

    def parameters(self):
        """The bound parameters (a new list), or [] before binding."""
        return list(self._parameters or [])

    @property
    def dtype(self):
        """'float32' or 'float64' once bound, else None."""
        return self._core.dtype if self._core is not None else None

    # ---- stepping -----------------------------------------------------------------------------
    def step(self):
        """Clip the gradients, take this step's rate from the schedule, update every parameter."""
        self.core.step()

    def zero_grad(self):
        """Set every parameter's gradient to zero."""
        self.core.zero_grad()

    def add_gradient_hook(self, hook):
        """Call ``hook(parameters, step)`` at the start of every step, after backward and before the update
        (and before clipping), in both fit engines and in custom loops alike. ``parameters`` are the bound
        Parameters in order and ``step`` the number of steps taken before this one; the hook may read and
        assign ``p.grad``. Where gradient statistics, a clipping policy or an all-reduce go (PyTorch's
        ``register_step_pre_hook``). Returns a handle whose ``remove()`` uninstalls the hook."""
        if not callable(hook):
            raise TypeError(f"[{type(self).__name__}.add_gradient_hook] hook must be callable; got "
                            f"{type(hook).__name__}")
        handle = GradientHookHandle(self, hook)
        self._hooks.append(handle)
        if self._core is not None:
            handle._install(self._core)
        return handle

    @property
    def lr(self):
        """The base learning rate: what was set; a schedule scales it (see ``current_lr``)."""
        return self._core.lr if self._core is not None else self._hyperparameters["lr"]

    @lr.setter
    def lr(self, value):
        value = real(value, "lr", type(self).__name__)
        if self._core is not None:
            self._core.lr = value
        else:
            self._options = self._make_options({**self._hyperparameters, "lr": value})
        self._hyperparameters["lr"] = value

    @property
    def current_lr(self):
        """The rate the next ``step()`` uses: the schedule applied to ``lr`` at ``step_count``."""
        if self._core is not None:
            return self._core.current_lr
        return self._schedule.rate(self.lr, 0) if self._schedule is not None else self.lr

    @property
    def epoch(self):
        """The index of the epoch being trained, which ``per="epoch"`` schedules read: fit sets it as each
        epoch begins; a custom loop sets it (``opt.epoch = e``) where torch code calls scheduler.step()."""
        return self._core.epoch if self._core is not None else 0

    @epoch.setter
    def epoch(self, value):
        value = integer(value, "epoch", f"{type(self).__name__}.epoch", minimum=0)
        self.core.epoch = value

    @property
    def step_count(self):
        """The number of steps taken (or restored); 0 before binding."""
        return self._core.step_count if self._core is not None else 0

    @property
    def schedule(self):
        return self._schedule

    @schedule.setter
    def schedule(self, schedule):
        self._schedule = _schedules.check(schedule, type(self).__name__)
        if self._core is not None:
            self._core.schedule = schedule.core if schedule is not None else None

    # ---- config and state ---------------------------------------------------------------------
    def get_config(self):
        """Hyperparameters (lr as it is now), clipping and the schedule, as plain data."""
        config = {**self._hyperparameters, "lr": self.lr}
        config.update(
            clipnorm=self._clip.max_norm, clipvalue=self._clip.max_value, schedule=_schedules.serialize(self._schedule)
        )
        return config

    @classmethod
    def from_config(cls, config):
        """A new, unbound optimizer from ``get_config()``'s output."""
        if not isinstance(config, Mapping):
            raise TypeError(f"[{cls.__name__}.from_config] config must be a dict (get_config()'s output); got "
                            f"{type(config).__name__}")
        config = dict(config)
        config["schedule"] = _schedules.deserialize(config.get("schedule"))
        try:
            inspect.signature(cls).bind(**config)
        except TypeError as error:  # an unknown or non-str keyword
            raise ValueError(f"[{cls.__name__}.from_config] the config does not fit {cls.__name__}: {error}") from None
        return cls(**config)

    def state_dict(self):
        """``{"name", "config", "step_count", "state"}``: the state arrays are numpy copies named as in
        torch (``"exp_avg.0"``, ``"exp_avg_sq.0"``, ``"exp_avg.1"``, ...: parameter by parameter)."""
        core = self.core
        return {"name": type(self).__name__, "config": self.get_config(), "step_count": core.step_count,
                "state": core.state()}

    def load_state_dict(self, state):
        """Restore ``state_dict()``'s output: the arrays, the step count and lr. Nothing changes on error.

        The other hyperparameters stay those this optimizer was made with; to get the saved ones, make it
        with ``from_config(state["config"])``.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"[{where}] state must be a dict from state_dict(); got {type(state).__name__}")
        missing = [key for key in ("name", "config", "step_count", "state") if key not in state]
        if missing:
            raise ValueError(f"[{where}] state is missing {', '.join(missing)}; expected the output of state_dict()")
        if state["name"] != name:
            raise ValueError(f"[{where}] the state is from {state['name']}; this optimizer is {name}")
        if not isinstance(state["state"], Mapping) or not isinstance(state["config"], Mapping):
            raise TypeError(f"[{where}] state['state'] and state['config'] must be dicts")
        lr = real(state["config"].get("lr"), "config['lr']", where)
        step_count = integer(state["step_count"], "step_count", where)
        self.core.load_state(dict(state["state"]), step_count=step_count, lr=lr)
        self._hyperparameters["lr"] = lr

    def __repr__(self):
        config = self.get_config()
        arguments = [f"{key}={config[key]!r}" for key in self._hyperparameters]
        arguments += [f"{key}={config[key]!r}" for key in ("clipnorm", "clipvalue") if config[key] is not None]
        if self._schedule is not None:
            arguments.append(f"schedule={self._schedule!r}")
        return f"{type(self).__name__}({', '.join(arguments)})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay
    (torch.optim.SGD). The first step's momentum buffer is the gradient itself, as in PyTorch."""

    def __init__(self, parameters=None, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, clipnorm=None, clipvalue=None, schedule=None):
        hyperparameters = {**reals("SGD", lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay),
                           "nesterov": flag(nesterov, "nesterov", "SGD")}
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)


class Adam(Optimizer):
    """Adam (torch.optim.Adam): ``weight_decay`` is coupled L2, added to the gradient; AMSGrad optional."""

    def __init__(self, parameters=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, clipnorm=None, clipvalue=None, schedule=None):
        w = type(self).__name__
        hyperparameters = {"lr": real(lr, "lr", w), "betas": real_pair(betas, "betas", w),
                           **reals(w, eps=eps, weight_decay=weight_decay), "amsgrad": flag(amsgrad, "amsgrad", w)}
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)

    def _make_options(self, hyperparameters):
        options = dict(hyperparameters)
        options["beta1"], options["beta2"] = options.pop("betas")
        return _core.AdamOptions(**options, who=type(self).__name__)


class AdamW(Adam):
    """AdamW (torch.optim.AdamW): Adam with decoupled weight decay, ``param *= 1 - lr * weight_decay``."""

    def __init__(self, parameters=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, clipnorm=None, clipvalue=None, schedule=None):
        super().__init__(parameters, lr, betas, eps, weight_decay, amsgrad,
                         clipnorm=clipnorm, clipvalue=clipvalue, schedule=schedule)


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop), plain or centered, with momentum and L2 weight decay."""

    def __init__(self, parameters=None, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, clipnorm=None, clipvalue=None, schedule=None):
        hyperparameters = {**reals("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum),
                           "centered": flag(centered, "centered", "RMSprop")}
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)


class Adagrad(Optimizer):
    """Adagrad (torch.optim.Adagrad) with learning-rate decay and L2 weight decay."""

    def __init__(self, parameters=None, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, clipnorm=None, clipvalue=None, schedule=None):
        hyperparameters = reals("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)


_OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}


def get(identifier):
    """An optimizer from a name (``"adam"``, any case, with defaults) or an Optimizer (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        for name, cls in _OPTIMIZERS.items():
            if name.lower() == identifier.lower():
                return cls()
        raise ValueError(f"[optim.get] unknown optimizer {identifier!r}; expected one of {', '.join(_OPTIMIZERS)}")
    raise TypeError(f"[optim.get] expected an optimizer or its name; got {type(identifier).__name__}")


def deserialize(data):
    """A new, unbound optimizer from ``{"name", "config"}`` (e.g. a ``state_dict()``)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str) or data["name"] not in _OPTIMIZERS:
        name = data.get("name") if isinstance(data, Mapping) else data
        raise ValueError(f"[optim.deserialize] unknown optimizer {name!r}; expected one of {', '.join(_OPTIMIZERS)}")
    return _OPTIMIZERS[data["name"]].from_config(data.get("config", {}))
