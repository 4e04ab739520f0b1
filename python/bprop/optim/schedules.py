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
import inspect

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
    """A learning-rate schedule: ``rate(lr, t)``, ``per``, ``get_config()``; ``core`` is the C++ object."""

    def __init__(self, config, core):
        self._config = config
        self.core = core

    @property
    def per(self):
        """What t counts: "epoch" or "step"."""
        return self._config["per"]

    def rate(self, lr, t):
        """The learning rate at t (0 for the first epoch or step, as ``per`` says) for base rate ``lr``."""
        name = type(self).__name__
        return self.core.rate(real(lr, "lr", f"{name}.rate"), integer(t, "t", f"{name}.rate", minimum=0))

    def get_config(self):
        return dict(self._config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self._config.items())
        return f"{type(self).__name__}({arguments})"


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs or steps (torch's StepLR)."""

    def __init__(self, step_size, gamma=0.1, *, per=None):
        config = {"step_size": integer(step_size, "step_size", "StepDecay"), "gamma": real(gamma, "gamma", "StepDecay"),
                  "per": _unit(per, "StepDecay")}
        super().__init__(config, _core.StepDecay(**config))


class ExponentialDecay(Schedule):
    """Multiply the rate by ``gamma`` every epoch or step (torch's ExponentialLR)."""

    def __init__(self, gamma, *, per=None):
        config = {"gamma": real(gamma, "gamma", "ExponentialDecay"), "per": _unit(per, "ExponentialDecay")}
        super().__init__(config, _core.ExponentialDecay(**config))


class CosineDecay(Schedule):
    """Cosine from the base rate down to ``eta_min`` (an absolute rate) over ``t_max`` epochs or steps
    (CosineAnnealingLR)."""

    def __init__(self, t_max, eta_min=0.0, *, per=None):
        config = {"t_max": integer(t_max, "t_max", "CosineDecay"), "eta_min": real(eta_min, "eta_min", "CosineDecay"),
                  "per": _unit(per, "CosineDecay")}
        super().__init__(config, _core.CosineDecay(**config))


class LinearWarmup(Schedule):
    """Rise linearly from ``start_factor * lr`` to ``lr`` over ``warmup_steps`` epochs or steps, then follow
    ``then``.

    ``then`` is another schedule in the same unit, started at its own t = 0 when the warm-up ends, or None
    for a constant rate. ``start_factor`` defaults to torch LinearLR's 1/3; 0 is allowed.
    """

    def __init__(self, warmup_steps, start_factor=1.0 / 3.0, then=None, *, per=None):
        if then is not None and not isinstance(then, Schedule):
            raise TypeError(f"[LinearWarmup] then must be a schedule or None; got {type(then).__name__}")
        warmup_steps = integer(warmup_steps, "warmup_steps", "LinearWarmup")
        start_factor = real(start_factor, "start_factor", "LinearWarmup")
        per = _unit(per, "LinearWarmup")
        core = _core.LinearWarmup(warmup_steps, start_factor, then.core if then is not None else None, per)
        super().__init__({"warmup_steps": warmup_steps, "start_factor": start_factor, "then": then, "per": per}, core)

    def get_config(self):
        config = super().get_config()
        config["then"] = serialize(config["then"])
        return config


_SCHEDULES = {cls.__name__: cls for cls in (StepDecay, ExponentialDecay, CosineDecay, LinearWarmup)}


def serialize(schedule):
    """``{"name": ..., "config": ...}`` for a schedule (None for None): plain data, for saving."""
    if schedule is None:
        return None
    return {"name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(data):
    """The schedule ``serialize`` described (None for None)."""
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
