"""The optimizers: thin Python classes over the C++ fused updates, with PyTorch's formulas and defaults.

An optimizer is made with its parameters, as in PyTorch (``SGD(model.parameters(), lr=0.1)``), or without
them (``Adam(lr=1e-3)``), to be bound later by ``bind(parameters)`` (``Model.compile`` does that). The
parameters' dtype picks the C++ class (``Adam_float32`` or ``Adam_float64``); ``core`` is that object,
which the trainer steps without coming back to Python.
"""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union
from collections.abc import Iterable, Mapping

import numpy as np

from .. import _core
from .._dtypes import core_class
from . import schedules as _schedules
from .._checks import flag, integer, optional_real, real, real_pair, reals

if TYPE_CHECKING:
    from .._core import Parameter_float32, Parameter_float64
    from .schedules import Schedule

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes
    _Self = TypeVar("_Self", bound="Optimizer")
    _Hook = Callable[[List[Parameter], int], Any]

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
    """What `Optimizer.add_gradient_hook` returns: ``remove()`` uninstalls the hook.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer the hook is installed in.
    hook : callable
        The hook, ``hook(parameters, step)``.

    Examples
    --------
    >>> opt = optim.SGD([bprop.Parameter(np.zeros(2, np.float32))], lr=0.1)
    >>> handle = opt.add_gradient_hook(lambda parameters, step: None)
    >>> handle.remove()
    """

    _optimizer: Optional[Optimizer]  # None once removed

    def __init__(self, optimizer: Optimizer, hook: _Hook) -> None:
        self._optimizer, self.hook, self._key = optimizer, hook, None

    def _install(self, core):
        self._key = core.add_gradient_hook(self.hook)

    def remove(self) -> None:
        """Uninstall the hook; a second call does nothing.

        Examples
        --------
        >>> opt = optim.SGD([bprop.Parameter(np.zeros(2, np.float32))], lr=0.1)
        >>> handle = opt.add_gradient_hook(lambda parameters, step: None)
        >>> handle.remove()
        >>> handle.remove()
        """
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
    into the C++ options object (which validates them). Use a subclass (SGD, Adam, ...).

    Parameters
    ----------
    parameters : iterable of Parameter or None
        The parameters to update, of one dtype, or None to bind later.
    hyperparameters : dict
        The subclass's hyperparameters, lr first, as its C++ options take them.
    clipnorm : float or None
        The largest global L2 norm of the gradients, or None.
    clipvalue : float or None
        The largest absolute value of a gradient element, or None.
    schedule : Schedule or None
        A learning-rate schedule, or None.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If a hyperparameter is out of its range or the parameter list is empty.

    Examples
    --------
    >>> isinstance(optim.Adam(lr=1e-3), optim.Optimizer)
    True
    """

    def __init__(self, parameters: Optional[Any], hyperparameters: Dict[str, Any], clipnorm: Optional[float],
                 clipvalue: Optional[float], schedule: Optional[Schedule]) -> None:
        name = type(self).__name__
        self._hyperparameters = hyperparameters
        self._options = self._make_options(hyperparameters)
        self._clip = _core.ClipOptions(
            optional_real(clipnorm, "clipnorm", name), optional_real(clipvalue, "clipvalue", name), who=name
        )
        self._schedule = _schedules.check(schedule, name)
        self._core = None
        self._parameters = None
        self._hooks: List[GradientHookHandle] = []  # GradientHookHandles, installed in the core when it is made
        if parameters is not None:
            self._bind(parameters, name)

    # ---- for subclasses -----------------------------------------------------------------------
    def _make_options(self, hyperparameters):
        """The C++ options (``_core.SGDOptions``, ...), which check the ranges."""
        options_class = getattr(_core, f"{type(self).__name__}Options")
        return options_class(**hyperparameters, who=type(self).__name__)

    # ---- binding ------------------------------------------------------------------------------
    def bind(self: _Self, parameters: Any) -> _Self:
        """Bind to the parameters it will update.

        Binding again to the same parameters does nothing; to other parameters is a ValueError.
        Binding moves the parameters' values and gradients, unchanged, into this optimizer's flat arena (one
        span each, so a step is one pass); their tensors follow, and NumPy views taken earlier keep the values
        they had. Another optimizer bound to some of them later takes those into its own arena; this one
        then updates parameter by parameter, with the same results (``core.flat`` says which).

        Parameters
        ----------
        parameters : iterable of Parameter
            Parameter handles of one dtype (``model.parameters()``).

        Returns
        -------
        Optimizer
            The optimizer itself.

        Raises
        ------
        TypeError
            If `parameters` is not a list of Parameters of one dtype.
        ValueError
            If the list is empty, or the optimizer is already bound to other parameters.

        Examples
        --------
        >>> layer = nn.Linear(4, 2)
        >>> opt = optim.Adam(lr=1e-3).bind(layer.parameters())
        >>> opt.bound, len(opt.parameters())
        (True, 2)
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
    def bound(self) -> bool:
        """Whether the optimizer has its parameters (made with them, or bound)."""
        return self._core is not None

    @property
    def core(self) -> Any:
        """The C++ optimizer (``_core.<Name>_<dtype>``) the trainer steps. ValueError if unbound."""
        if self._core is None:
            name = type(self).__name__
            raise ValueError(
                f"[{name}] the optimizer has no parameters yet; pass them when making it "
                f"({name}(model.parameters(), ...)) or call bind(parameters) (Model.compile does)"
            )
        return self._core

    def parameters(self) -> List[Parameter]:
        """The bound parameters.

        Returns
        -------
        list of Parameter
            A new list of the parameters, or [] before binding.

        Examples
        --------
        >>> optim.SGD(lr=0.1).parameters()
        []
        """
        return list(self._parameters or [])

    @property
    def dtype(self) -> Optional[str]:
        """'float32' or 'float64' once bound, else None."""
        return self._core.dtype if self._core is not None else None

    # ---- stepping -----------------------------------------------------------------------------
    def step(self) -> None:
        """Take one step: run the gradient hooks, clip the gradients, take the rate from the schedule, update.

        Raises
        ------
        ValueError
            If the optimizer has no parameters yet.

        Examples
        --------
        >>> p = bprop.Parameter(np.array([1.0, 2.0], np.float32))
        >>> opt = optim.SGD([p], lr=0.1)
        >>> p.grad = np.array([1.0, 1.0], np.float32)
        >>> opt.step()
        >>> p.numpy(), opt.step_count
        (array([0.9, 1.9], dtype=float32), 1)
        """
        self.core.step()

    def zero_grad(self) -> None:
        """Set every bound parameter's gradient to zero.

        Raises
        ------
        ValueError
            If the optimizer has no parameters yet.

        Examples
        --------
        >>> p = bprop.Parameter(np.array([1.0, 2.0], np.float32))
        >>> p.grad = np.array([1.0, 1.0], np.float32)
        >>> optim.SGD([p], lr=0.1).zero_grad()
        >>> p.grad
        array([0., 0.], dtype=float32)
        """
        self.core.zero_grad()

    def add_gradient_hook(self, hook: _Hook) -> GradientHookHandle:
        """Install a hook called at the start of every step, after backward and before clipping and the update.

        It runs in both fit engines and in custom loops alike: where gradient statistics, a clipping policy
        or an all-reduce go (PyTorch's ``register_step_pre_hook``).

        Parameters
        ----------
        hook : callable
            ``hook(parameters, step)``: ``parameters`` are the bound Parameters in order and ``step`` the
            number of steps taken before this one; the hook may read and assign ``p.grad``.

        Returns
        -------
        GradientHookHandle
            A handle whose ``remove()`` uninstalls the hook.

        Raises
        ------
        TypeError
            If `hook` is not callable.

        Examples
        --------
        >>> p = bprop.Parameter(np.ones(2, np.float32))
        >>> opt = optim.SGD([p], lr=0.1)
        >>> seen = []
        >>> handle = opt.add_gradient_hook(lambda parameters, step: seen.append(step))
        >>> p.grad = np.ones(2, np.float32)
        >>> opt.step(); opt.step()
        >>> seen
        [0, 1]
        >>> handle.remove()
        """
        if not callable(hook):
            raise TypeError(f"[{type(self).__name__}.add_gradient_hook] hook must be callable; got "
                            f"{type(hook).__name__}")
        handle = GradientHookHandle(self, hook)
        self._hooks.append(handle)
        if self._core is not None:
            handle._install(self._core)
        return handle

    @property
    def lr(self) -> float:
        """The base learning rate: what was set; a schedule scales it (see ``current_lr``)."""
        return self._core.lr if self._core is not None else self._hyperparameters["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        value = real(value, "lr", type(self).__name__)
        if self._core is not None:
            self._core.lr = value
        else:
            self._options = self._make_options({**self._hyperparameters, "lr": value})
        self._hyperparameters["lr"] = value

    @property
    def current_lr(self) -> float:
        """The rate the next ``step()`` uses: the schedule applied to ``lr`` at ``step_count``."""
        if self._core is not None:
            return self._core.current_lr
        return self._schedule.rate(self.lr, 0) if self._schedule is not None else self.lr

    @property
    def epoch(self) -> int:
        """The index of the epoch being trained, which ``per="epoch"`` schedules read: fit sets it as each
        epoch begins; a custom loop sets it (``opt.epoch = e``) where torch code calls scheduler.step()."""
        return self._core.epoch if self._core is not None else 0

    @epoch.setter
    def epoch(self, value: int) -> None:
        value = integer(value, "epoch", f"{type(self).__name__}.epoch", minimum=0)
        self.core.epoch = value

    @property
    def step_count(self) -> int:
        """The number of steps taken (or restored); 0 before binding."""
        return self._core.step_count if self._core is not None else 0

    @property
    def schedule(self) -> Optional[Schedule]:
        """The learning-rate schedule, or None; assigning one (or None) replaces it, also mid-training."""
        return self._schedule

    @schedule.setter
    def schedule(self, schedule: Optional[Schedule]) -> None:
        self._schedule = _schedules.check(schedule, type(self).__name__)
        if self._core is not None:
            self._core.schedule = schedule.core if schedule is not None else None

    # ---- config and state ---------------------------------------------------------------------
    def get_config(self) -> Dict[str, Any]:
        """The hyperparameters (lr as it is now), clipping and the schedule, as plain data.

        Returns
        -------
        dict
            The constructor's keywords but the parameters; `from_config` makes an equal optimizer.

        Examples
        --------
        >>> optim.SGD(lr=0.1, momentum=0.9).get_config()
        {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.0, 'weight_decay': 0.0, 'nesterov': False,
         'clipnorm': None, 'clipvalue': None, 'schedule': None}
        """
        config = {**self._hyperparameters, "lr": self.lr}
        config.update(
            clipnorm=self._clip.max_norm, clipvalue=self._clip.max_value, schedule=_schedules.serialize(self._schedule)
        )
        return config

    @classmethod
    def from_config(cls: Type[_Self], config: Dict[str, Any]) -> _Self:
        """Make a new, unbound optimizer from `get_config`'s output.

        Parameters
        ----------
        config : dict
            The constructor's keywords (the schedule serialized).

        Returns
        -------
        Optimizer
            A new optimizer of this class, not bound to any parameters.

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If the config does not fit the class or holds a value out of range.

        Examples
        --------
        >>> optim.Adam.from_config(optim.Adam(lr=0.01).get_config())
        Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False)
        """
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

    def state_dict(self) -> Dict[str, Any]:
        """The optimizer's state, to save or to restore with `load_state_dict`.

        Returns
        -------
        dict
            ``{"name", "config", "step_count", "state"}``: the state arrays are numpy copies named as in
            torch (``"exp_avg.0"``, ``"exp_avg_sq.0"``, ``"exp_avg.1"``, ...: parameter by parameter).

        Raises
        ------
        ValueError
            If the optimizer has no parameters yet.

        Examples
        --------
        >>> opt = optim.Adam([bprop.Parameter(np.zeros(3, np.float32))])
        >>> state = opt.state_dict()
        >>> state["name"], state["step_count"], sorted(state["state"])
        ('Adam', 0, ['exp_avg.0', 'exp_avg_sq.0'])
        """
        core = self.core
        return {"name": type(self).__name__, "config": self.get_config(), "step_count": core.step_count,
                "state": core.state()}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore `state_dict`'s output: the arrays, the step count and lr. Nothing changes on error.

        The other hyperparameters stay those this optimizer was made with; to get the saved ones, make it
        with ``from_config(state["config"])``.

        Parameters
        ----------
        state : dict
            The output of `state_dict` of an optimizer of the same class over parameters of the same shapes.

        Raises
        ------
        TypeError
            If `state` or its parts are not dicts.
        ValueError
            If `state` is missing keys, comes from another optimizer class, or its arrays do not fit, or the
            optimizer has no parameters yet.

        Examples
        --------
        >>> p = bprop.Parameter(np.ones(3, np.float32))
        >>> opt = optim.Adam([p])
        >>> p.grad = np.ones(3, np.float32)
        >>> opt.step()
        >>> other = optim.Adam([bprop.Parameter(np.ones(3, np.float32))])
        >>> other.load_state_dict(opt.state_dict())
        >>> other.step_count
        1
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
    """Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay.

    As torch.optim.SGD; the first step's momentum buffer is the gradient itself, as in PyTorch.

    Parameters
    ----------
    parameters : iterable of Parameter, optional
        The parameters to update, of one dtype (``model.parameters()``); None to bind later with `bind`
        (``Model.compile`` does).
    lr : float, default 1e-3
        The learning rate (>= 0).
    momentum : float, default 0.0
        The momentum factor (>= 0).
    dampening : float, default 0.0
        Dampening of the momentum.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (coupled).
    nesterov : bool, default False
        Nesterov momentum (needs momentum > 0 and dampening 0).
    clipnorm : float, optional
        Keyword-only. Scale the gradients so that their global L2 norm is at most this (> 0).
    clipvalue : float, optional
        Keyword-only. Clamp each gradient element to [-clipvalue, clipvalue] (> 0).
    schedule : Schedule, optional
        Keyword-only. A learning-rate schedule evaluated at every step (see `bprop.optim.Schedule`).

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type, `parameters` is not a list of Parameters of one dtype, or
        `schedule` is not a schedule.
    ValueError
        If a hyperparameter is out of its range, nesterov comes without momentum > 0 and dampening 0, or the parameter list is empty.

    Examples
    --------
    >>> layer = nn.Linear(4, 2)
    >>> optim.SGD(layer.parameters(), lr=0.1, momentum=0.9, clipnorm=1.0)
    SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, clipnorm=1.0)
    """

    def __init__(self, parameters: Optional[Any] = None, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 clipnorm: Optional[float] = None, clipvalue: Optional[float] = None,
                 schedule: Optional[Schedule] = None) -> None:
        hyperparameters = {**reals("SGD", lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay),
                           "nesterov": flag(nesterov, "nesterov", "SGD")}
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)


class Adam(Optimizer):
    """Adam, as torch.optim.Adam: ``weight_decay`` is coupled L2, added to the gradient; AMSGrad optional.

    Parameters
    ----------
    parameters : iterable of Parameter, optional
        The parameters to update, of one dtype (``model.parameters()``); None to bind later with `bind`
        (``Model.compile`` does).
    lr : float, default 1e-3
        The learning rate (>= 0).
    betas : tuple of float, default (0.9, 0.999)
        The decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient (coupled; see AdamW for decoupled decay).
    amsgrad : bool, default False
        Use the maximum of the second moment estimates so far (AMSGrad).
    clipnorm : float, optional
        Keyword-only. Scale the gradients so that their global L2 norm is at most this (> 0).
    clipvalue : float, optional
        Keyword-only. Clamp each gradient element to [-clipvalue, clipvalue] (> 0).
    schedule : Schedule, optional
        Keyword-only. A learning-rate schedule evaluated at every step (see `bprop.optim.Schedule`).

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type, `parameters` is not a list of Parameters of one dtype, or
        `schedule` is not a schedule.
    ValueError
        If a hyperparameter is out of its range, or the parameter list is empty.

    Examples
    --------
    >>> opt = optim.Adam(nn.Linear(4, 2).parameters(), lr=1e-3)
    >>> opt.lr, opt.bound
    (0.001, True)
    """

    def __init__(self, parameters: Optional[Any] = None, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 clipnorm: Optional[float] = None, clipvalue: Optional[float] = None,
                 schedule: Optional[Schedule] = None) -> None:
        w = type(self).__name__
        hyperparameters = {"lr": real(lr, "lr", w), "betas": real_pair(betas, "betas", w),
                           **reals(w, eps=eps, weight_decay=weight_decay), "amsgrad": flag(amsgrad, "amsgrad", w)}
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)

    def _make_options(self, hyperparameters):
        options = dict(hyperparameters)
        options["beta1"], options["beta2"] = options.pop("betas")
        return _core.AdamOptions(**options, who=type(self).__name__)


class AdamW(Adam):
    """AdamW, as torch.optim.AdamW: Adam with decoupled weight decay, ``param *= 1 - lr * weight_decay``.

    Parameters
    ----------
    parameters : iterable of Parameter, optional
        The parameters to update, of one dtype (``model.parameters()``); None to bind later with `bind`
        (``Model.compile`` does).
    lr : float, default 1e-3
        The learning rate (>= 0).
    betas : tuple of float, default (0.9, 0.999)
        The decay rates of the first and second moment estimates, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 1e-2
        The decoupled weight decay, applied to the parameters rather than the gradient.
    amsgrad : bool, default False
        Use the maximum of the second moment estimates so far (AMSGrad).
    clipnorm : float, optional
        Keyword-only. Scale the gradients so that their global L2 norm is at most this (> 0).
    clipvalue : float, optional
        Keyword-only. Clamp each gradient element to [-clipvalue, clipvalue] (> 0).
    schedule : Schedule, optional
        Keyword-only. A learning-rate schedule evaluated at every step (see `bprop.optim.Schedule`).

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type, `parameters` is not a list of Parameters of one dtype, or
        `schedule` is not a schedule.
    ValueError
        If a hyperparameter is out of its range, or the parameter list is empty.

    Examples
    --------
    >>> optim.AdamW(lr=1e-3)
    AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)
    """

    def __init__(self, parameters: Optional[Any] = None, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 clipnorm: Optional[float] = None, clipvalue: Optional[float] = None,
                 schedule: Optional[Schedule] = None) -> None:
        super().__init__(parameters, lr, betas, eps, weight_decay, amsgrad,
                         clipnorm=clipnorm, clipvalue=clipvalue, schedule=schedule)


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop: plain or centered, with momentum and L2 weight decay.

    Parameters
    ----------
    parameters : iterable of Parameter, optional
        The parameters to update, of one dtype (``model.parameters()``); None to bind later with `bind`
        (``Model.compile`` does).
    lr : float, default 1e-2
        The learning rate (>= 0).
    alpha : float, default 0.99
        The smoothing constant of the squared-gradient average, in [0, 1].
    eps : float, default 1e-8
        Added to the denominator.
    weight_decay : float, default 0.0
        L2 penalty added to the gradient.
    momentum : float, default 0.0
        The momentum factor (>= 0).
    centered : bool, default False
        Normalise by an estimate of the gradient's variance rather than its second moment.
    clipnorm : float, optional
        Keyword-only. Scale the gradients so that their global L2 norm is at most this (> 0).
    clipvalue : float, optional
        Keyword-only. Clamp each gradient element to [-clipvalue, clipvalue] (> 0).
    schedule : Schedule, optional
        Keyword-only. A learning-rate schedule evaluated at every step (see `bprop.optim.Schedule`).

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type, `parameters` is not a list of Parameters of one dtype, or
        `schedule` is not a schedule.
    ValueError
        If a hyperparameter is out of its range, or the parameter list is empty.

    Examples
    --------
    >>> optim.RMSprop(lr=0.01, centered=True)
    RMSprop(lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0.0, momentum=0.0, centered=True)
    """

    def __init__(self, parameters: Optional[Any] = None, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 clipnorm: Optional[float] = None, clipvalue: Optional[float] = None,
                 schedule: Optional[Schedule] = None) -> None:
        hyperparameters = {**reals("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum),
                           "centered": flag(centered, "centered", "RMSprop")}
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad, with learning-rate decay and L2 weight decay.

    Parameters
    ----------
    parameters : iterable of Parameter, optional
        The parameters to update, of one dtype (``model.parameters()``); None to bind later with `bind`
        (``Model.compile`` does).
    lr : float, default 1e-2
        The learning rate (>= 0).
    lr_decay : float, default 0.0
        The rate at step t is lr / (1 + t·lr_decay) (>= 0).
    weight_decay : float, default 0.0
        L2 penalty added to the gradient.
    initial_accumulator_value : float, default 0.0
        The starting value of the sum of squared gradients.
    eps : float, default 1e-10
        Added to the denominator.
    clipnorm : float, optional
        Keyword-only. Scale the gradients so that their global L2 norm is at most this (> 0).
    clipvalue : float, optional
        Keyword-only. Clamp each gradient element to [-clipvalue, clipvalue] (> 0).
    schedule : Schedule, optional
        Keyword-only. A learning-rate schedule evaluated at every step (see `bprop.optim.Schedule`).

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type, `parameters` is not a list of Parameters of one dtype, or
        `schedule` is not a schedule.
    ValueError
        If a hyperparameter is out of its range, or the parameter list is empty.

    Examples
    --------
    >>> optim.Adagrad(lr=0.1)
    Adagrad(lr=0.1, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10)
    """

    def __init__(self, parameters: Optional[Any] = None, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 clipnorm: Optional[float] = None, clipvalue: Optional[float] = None,
                 schedule: Optional[Schedule] = None) -> None:
        hyperparameters = reals("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(parameters, hyperparameters, clipnorm, clipvalue, schedule)


_OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}


def get(identifier: Union[str, Optimizer]) -> Optimizer:
    """An optimizer from its name (with its defaults), or an Optimizer returned as is.

    Parameters
    ----------
    identifier : str or Optimizer
        A class name in any case (``"adam"``, ``"SGD"``), or an optimizer.

    Returns
    -------
    Optimizer
        A new, unbound optimizer with its defaults, or `identifier` itself.

    Raises
    ------
    ValueError
        If the name is not one of bprop's optimizers.
    TypeError
        If `identifier` is neither a str nor an Optimizer.

    Examples
    --------
    >>> optim.get("adamw")
    AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False)
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        for name, cls in _OPTIMIZERS.items():
            if name.lower() == identifier.lower():
                return cls()
        raise ValueError(f"[optim.get] unknown optimizer {identifier!r}; expected one of {', '.join(_OPTIMIZERS)}")
    raise TypeError(f"[optim.get] expected an optimizer or its name; got {type(identifier).__name__}")


def deserialize(data: Dict[str, Any]) -> Optimizer:
    """A new, unbound optimizer from ``{"name", "config"}`` (a ``state_dict()`` will do).

    Parameters
    ----------
    data : dict
        ``{"name": class name, "config": get_config()'s output}``.

    Returns
    -------
    Optimizer
        A new optimizer, not bound to any parameters (its state is not restored: see `load_state_dict`).

    Raises
    ------
    ValueError
        If the name is not one of bprop's optimizers or the config does not fit it.

    Examples
    --------
    >>> optim.deserialize({"name": "SGD", "config": {"lr": 0.5}})
    SGD(lr=0.5, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str) or data["name"] not in _OPTIMIZERS:
        name = data.get("name") if isinstance(data, Mapping) else data
        raise ValueError(f"[optim.deserialize] unknown optimizer {name!r}; expected one of {', '.join(_OPTIMIZERS)}")
    return _OPTIMIZERS[data["name"]].from_config(data.get("config", {}))
