"""Learning-rate schedules. An optimizer evaluates its schedule in C++ at every step.

Every schedule says what it counts, ``per="epoch"`` or ``per="step"``; there is no default, because the
two differ by the number of batches in an epoch (``ExponentialDecay(0.95, per="step")`` over 400 batches an
epoch has decayed the rate 10^-9-fold after 1 epoch, where ``per="epoch"`` has multiplied it by 0.95):

* ``per="epoch"``: t is the index of the epoch being trained (0 for the first). fit sets it as each
  epoch begins; a custom loop sets ``optimizer.epoch = e``. This is torch.optim's usual use, with the
  scheduler's ``step()`` called after each epoch.
* ``per="step"``: t is the number of optimizer steps taken (0 for the first ``step()`` call), torch.optim's
  scheduler stepped after every optimizer step.

Each schedule is the closed form of the matching PyTorch scheduler:

=========================================  =========================================================
``StepDecay(step_size, gamma)``             ``lr * gamma ** (t // step_size)`` (StepLR)
``ExponentialDecay(gamma)``                 ``lr * gamma ** t`` (ExponentialLR)
``CosineDecay(t_max, eta_min)``             ``eta_min + (lr - eta_min) * (1 + cos(pi * t / t_max)) / 2``
                                            (CosineAnnealingLR; periodic: it rises again after t_max)
``LinearWarmup(w, start_factor, then)``     ``t < w``: ``lr * (start_factor + (1 - start_factor) * t / w)``
                                            (LinearLR), then ``then`` from its t = 0, or ``lr``
                                            (SequentialLR with ``milestones=[w]``); ``then`` counts in
                                            the same unit
=========================================  =========================================================

``lr`` is the optimizer's base rate (its ``lr`` property), so changing it rescales the whole schedule.
"""
from __future__ import annotations

import inspect
from typing import Any, Dict, Optional

from .. import _core
from .._checks import integer, real

__all__ = ["Schedule", "StepDecay", "ExponentialDecay", "CosineDecay", "LinearWarmup", "serialize", "deserialize"]

_UNITS = ("epoch", "step")


def _unit(per, where):
    """per checked: "epoch" or "step", given explicitly."""
    if per is None:
        raise TypeError(f"[{where}] say what the schedule counts: per='epoch' (t is the epoch index; fit sets it) or "
                        "per='step' (t counts optimizer steps)")
    if per not in _UNITS:
        raise ValueError(f"[{where}] per must be 'epoch' or 'step'; got {per!r}")
    return per


class Schedule:
    """A learning-rate schedule: ``rate(lr, t)``, ``per``, ``get_config()``; ``core`` is the C++ object.

    The base of the schedules; use a subclass (StepDecay, ExponentialDecay, CosineDecay, LinearWarmup) and
    give it to an optimizer (``schedule=``).

    Parameters
    ----------
    config : dict
        The subclass's constructor keywords, ``per`` included.
    core : object
        The C++ schedule that computes the rates.

    Examples
    --------
    >>> schedule = optim.StepDecay(10, 0.5, per="epoch")
    >>> isinstance(schedule, optim.Schedule), schedule.per
    (True, 'epoch')
    """

    def __init__(self, config: Dict[str, Any], core: Any) -> None:
        self._config = config
        self.core = core

    @property
    def per(self) -> str:
        """What t counts: "epoch" or "step"."""
        return self._config["per"]

    def rate(self, lr: float, t: int) -> float:
        """The learning rate at t for base rate `lr`.

        Parameters
        ----------
        lr : float
            The optimizer's base rate.
        t : int
            The epoch index or the number of steps taken, as ``per`` says (0 for the first), >= 0.

        Returns
        -------
        float
            The rate the optimizer uses at t.

        Raises
        ------
        TypeError
            If `lr` is not a real number or `t` not an integer.
        ValueError
            If `t` is negative.

        Examples
        --------
        >>> optim.StepDecay(10, 0.5, per="epoch").rate(1.0, 25)
        0.25
        >>> optim.CosineDecay(10, per="step").rate(1.0, 5)
        0.5
        """
        name = type(self).__name__
        return self.core.rate(real(lr, "lr", f"{name}.rate"), integer(t, "t", f"{name}.rate", minimum=0))

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        Returns
        -------
        dict
            A copy of the schedule's settings, ``per`` included.

        Examples
        --------
        >>> optim.StepDecay(10, 0.5, per="epoch").get_config()
        {'step_size': 10, 'gamma': 0.5, 'per': 'epoch'}
        """
        return dict(self._config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self._config.items())
        return f"{type(self).__name__}({arguments})"


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs or steps (torch's StepLR).

    The rate at t is ``lr * gamma ** (t // step_size)``.

    Parameters
    ----------
    step_size : int
        The epochs or steps between decays (>= 1).
    gamma : float, default 0.1
        The factor of each decay.
    per : {"epoch", "step"}
        Keyword-only and required: what t counts, the epoch index or the optimizer steps (see the module).

    Raises
    ------
    TypeError
        If `per` is not given, `step_size` is not an integer or `gamma` not a real number.
    ValueError
        If `per` is neither "epoch" nor "step", or a value is out of range.

    Examples
    --------
    >>> schedule = optim.StepDecay(10, 0.5, per="epoch")
    >>> [schedule.rate(1.0, t) for t in (0, 9, 10, 25)]
    [1.0, 1.0, 0.5, 0.25]
    """

    def __init__(self, step_size: int, gamma: float = 0.1, *, per: Optional[str] = None) -> None:
        config = {"step_size": integer(step_size, "step_size", "StepDecay"), "gamma": real(gamma, "gamma", "StepDecay"),
                  "per": _unit(per, "StepDecay")}
        super().__init__(config, _core.StepDecay(**config))


class ExponentialDecay(Schedule):
    """Multiply the rate by ``gamma`` every epoch or step (torch's ExponentialLR).

    The rate at t is ``lr * gamma ** t``.

    Parameters
    ----------
    gamma : float
        The factor per epoch or step (> 0).
    per : {"epoch", "step"}
        Keyword-only and required: what t counts, the epoch index or the optimizer steps (see the module).

    Raises
    ------
    TypeError
        If `per` is not given or `gamma` is not a real number.
    ValueError
        If `per` is neither "epoch" nor "step", or `gamma` is out of range.

    Examples
    --------
    >>> round(optim.ExponentialDecay(0.9, per="step").rate(1.0, 2), 6)
    0.81
    """

    def __init__(self, gamma: float, *, per: Optional[str] = None) -> None:
        config = {"gamma": real(gamma, "gamma", "ExponentialDecay"), "per": _unit(per, "ExponentialDecay")}
        super().__init__(config, _core.ExponentialDecay(**config))


class CosineDecay(Schedule):
    """Cosine from the base rate down to ``eta_min`` over ``t_max`` epochs or steps (CosineAnnealingLR).

    The rate at t is ``eta_min + (lr - eta_min) * (1 + cos(pi * t / t_max)) / 2``: periodic, it rises again
    after t_max, as torch's.

    Parameters
    ----------
    t_max : int
        The epochs or steps from the base rate down to eta_min (>= 1).
    eta_min : float, default 0.0
        The lowest rate (an absolute rate, not a factor).
    per : {"epoch", "step"}
        Keyword-only and required: what t counts, the epoch index or the optimizer steps (see the module).

    Raises
    ------
    TypeError
        If `per` is not given, `t_max` is not an integer or `eta_min` not a real number.
    ValueError
        If `per` is neither "epoch" nor "step", or a value is out of range.

    Examples
    --------
    >>> schedule = optim.CosineDecay(10, eta_min=0.1, per="step")
    >>> [round(schedule.rate(1.0, t), 6) for t in (0, 5, 10)]
    [1.0, 0.55, 0.1]
    """

    def __init__(self, t_max: int, eta_min: float = 0.0, *, per: Optional[str] = None) -> None:
        config = {"t_max": integer(t_max, "t_max", "CosineDecay"), "eta_min": real(eta_min, "eta_min", "CosineDecay"),
                  "per": _unit(per, "CosineDecay")}
        super().__init__(config, _core.CosineDecay(**config))


class LinearWarmup(Schedule):
    """Rise linearly from ``start_factor * lr`` to ``lr`` over ``warmup_steps`` epochs or steps, then follow
    ``then``.

    ``then`` is another schedule in the same unit, started at its own t = 0 when the warm-up ends, or None
    for a constant rate. ``start_factor`` defaults to torch LinearLR's 1/3; 0 is allowed.

    Parameters
    ----------
    warmup_steps : int
        The length of the warm-up, in epochs or steps as ``per`` says (>= 1).
    start_factor : float, default 1/3
        The fraction of lr at t = 0, in [0, 1].
    then : Schedule, optional
        The schedule after the warm-up (in the same unit), or None for the constant base rate.
    per : {"epoch", "step"}
        Keyword-only and required: what t counts, the epoch index or the optimizer steps (see the module).

    Raises
    ------
    TypeError
        If `then` is not a schedule or None, `per` is not given, or a value has the wrong type.
    ValueError
        If `per` is neither "epoch" nor "step", or a value is out of range.

    Examples
    --------
    >>> schedule = optim.LinearWarmup(4, start_factor=0.5, then=optim.CosineDecay(10, per="step"), per="step")
    >>> [round(schedule.rate(1.0, t), 6) for t in (0, 2, 4, 9)]
    [0.5, 0.75, 1.0, 0.5]
    """

    def __init__(self, warmup_steps: int, start_factor: float = 1.0 / 3.0, then: Optional[Schedule] = None, *,
                 per: Optional[str] = None) -> None:
        if then is not None and not isinstance(then, Schedule):
            raise TypeError(f"[LinearWarmup] then must be a schedule or None; got {type(then).__name__}")
        warmup_steps = integer(warmup_steps, "warmup_steps", "LinearWarmup")
        start_factor = real(start_factor, "start_factor", "LinearWarmup")
        per = _unit(per, "LinearWarmup")
        core = _core.LinearWarmup(warmup_steps, start_factor, then.core if then is not None else None, per)
        super().__init__({"warmup_steps": warmup_steps, "start_factor": start_factor, "then": then, "per": per}, core)

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data (``then`` serialized).

        Returns
        -------
        dict
            warmup_steps, start_factor, then (``{"name", "config"}`` or None) and per.

        Examples
        --------
        >>> optim.LinearWarmup(4, start_factor=0.5, per="step").get_config()
        {'warmup_steps': 4, 'start_factor': 0.5, 'then': None, 'per': 'step'}
        """
        config = super().get_config()
        config["then"] = serialize(config["then"])
        return config


_SCHEDULES = {cls.__name__: cls for cls in (StepDecay, ExponentialDecay, CosineDecay, LinearWarmup)}


def serialize(schedule: Optional[Schedule]) -> Optional[Dict[str, Any]]:
    """A schedule as plain data, for saving.

    Parameters
    ----------
    schedule : Schedule or None
        The schedule.

    Returns
    -------
    dict or None
        ``{"name": class name, "config": get_config()}``, or None for None.

    Examples
    --------
    >>> optim.schedules.serialize(optim.ExponentialDecay(0.9, per="epoch"))
    {'name': 'ExponentialDecay', 'config': {'gamma': 0.9, 'per': 'epoch'}}
    """
    if schedule is None:
        return None
    return {"name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(data: Optional[Dict[str, Any]]) -> Optional[Schedule]:
    """The schedule `serialize` described.

    A config without ``per`` (files written before the unit was explicit) counts steps.

    Parameters
    ----------
    data : dict or None
        ``{"name": ..., "config": ...}``, or None.

    Returns
    -------
    Schedule or None
        A new schedule, or None for None.

    Raises
    ------
    ValueError
        If the name is not one of bprop's schedules or the config does not fit it.

    Examples
    --------
    >>> optim.schedules.deserialize({"name": "StepDecay", "config": {"step_size": 5, "per": "epoch"}})
    StepDecay(step_size=5, gamma=0.1, per='epoch')
    """
    if data is None:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or name not in _SCHEDULES:  # a list or dict name is unhashable: check the type first
        raise ValueError(f"[schedules.deserialize] unknown schedule {name!r}; expected one of {sorted(_SCHEDULES)}")
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"[schedules.deserialize] the config of {name} must be a dict; got {type(config).__name__}")
    config = dict(config)
    config.setdefault("per", "step")  # files written before the unit was explicit counted steps
    if name == "LinearWarmup":
        config["then"] = deserialize(config.get("then"))
    try:
        inspect.signature(_SCHEDULES[name]).bind(**config)
    except TypeError as error:  # an unknown or non-str keyword
        raise ValueError(f"[schedules.deserialize] the config does not fit {name}: {error}") from None
    return _SCHEDULES[name](**config)


def check(schedule, where):
    """``schedule`` if it is a Schedule or None; TypeError otherwise."""
    if schedule is not None and not isinstance(schedule, Schedule):
        raise TypeError(f"[{where}] schedule must be a bprop.optim schedule or None; got {type(schedule).__name__}")
    return schedule
