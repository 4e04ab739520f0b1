"""Learning-rate schedules. An optimizer evaluates its schedule in C++ at every step.

Step numbering: a schedule gives the rate of step ``t``, counting from 0 for the first ``step()`` call.
That is the rate ``torch.optim`` uses when its scheduler's ``step()`` is called once after every optimizer
step, and each schedule is the closed form of the matching PyTorch scheduler:

=========================================  =========================================================
``StepDecay(step_size, gamma)``             ``lr * gamma ** (t // step_size)`` (StepLR)
``ExponentialDecay(gamma)``                 ``lr * gamma ** t`` (ExponentialLR)
``CosineDecay(t_max, eta_min)``             ``eta_min + (lr - eta_min) * (1 + cos(pi * t / t_max)) / 2``
                                            (CosineAnnealingLR; periodic: it rises again after t_max)
``LinearWarmup(w, start_factor, then)``     ``t < w``: ``lr * (start_factor + (1 - start_factor) * t / w)``
                                            (LinearLR), then ``then`` from its step 0, or ``lr``
                                            (SequentialLR with ``milestones=[w]``)
=========================================  =========================================================

``lr`` is the optimizer's base rate (its ``lr`` property), so changing it rescales the whole schedule.
"""
from .. import _core
from .._checks import integer, real

__all__ = ["Schedule", "StepDecay", "ExponentialDecay", "CosineDecay", "LinearWarmup", "serialize", "deserialize"]


class Schedule:
    """A learning-rate schedule: ``rate(lr, step)``, ``get_config()``; ``core`` is the C++ object."""

    def __init__(self, config, core):
        self._config = config
        self.core = core

    def rate(self, lr, step):
        """The learning rate of step ``step`` (0 for the first) for base rate ``lr``."""
        name = type(self).__name__
        return self.core.rate(real(lr, "lr", f"{name}.rate"), integer(step, "step", f"{name}.rate"))

    def get_config(self):
        return dict(self._config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self._config.items())
        return f"{type(self).__name__}({arguments})"


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (torch's StepLR)."""

    def __init__(self, step_size, gamma=0.1):
        config = {"step_size": integer(step_size, "step_size", "StepDecay"), "gamma": real(gamma, "gamma", "StepDecay")}
        super().__init__(config, _core.StepDecay(**config))


class ExponentialDecay(Schedule):
    """Multiply the rate by ``gamma`` every step (torch's ExponentialLR)."""

    def __init__(self, gamma):
        config = {"gamma": real(gamma, "gamma", "ExponentialDecay")}
        super().__init__(config, _core.ExponentialDecay(**config))


class CosineDecay(Schedule):
    """Cosine from the base rate down to ``eta_min`` (an absolute rate) over ``t_max`` steps (CosineAnnealingLR)."""

    def __init__(self, t_max, eta_min=0.0):
        config = {"t_max": integer(t_max, "t_max", "CosineDecay"), "eta_min": real(eta_min, "eta_min", "CosineDecay")}
        super().__init__(config, _core.CosineDecay(**config))


class LinearWarmup(Schedule):
    """Rise linearly from ``start_factor * lr`` to ``lr`` over ``warmup_steps`` steps, then follow ``then``.

    ``then`` is another schedule, started at its own step 0 when the warm-up ends, or None for a
    constant rate. ``start_factor`` defaults to torch LinearLR's 1/3; 0 is allowed.
    """

    def __init__(self, warmup_steps, start_factor=1.0 / 3.0, then=None):
        if then is not None and not isinstance(then, Schedule):
            raise TypeError(f"[LinearWarmup] then must be a schedule or None; got {type(then).__name__}")
        warmup_steps = integer(warmup_steps, "warmup_steps", "LinearWarmup")
        start_factor = real(start_factor, "start_factor", "LinearWarmup")
        core = _core.LinearWarmup(warmup_steps, start_factor, then.core if then is not None else None)
        super().__init__({"warmup_steps": warmup_steps, "start_factor": start_factor, "then": then}, core)

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
    if name not in _SCHEDULES:
        raise ValueError(f"[schedules.deserialize] unknown schedule {name!r}; expected one of {sorted(_SCHEDULES)}")
    config = dict(data.get("config", {}))
    if name == "LinearWarmup":
        config["then"] = deserialize(config.get("then"))
    return _SCHEDULES[name](**config)


def check(schedule, where):
    """``schedule`` if it is a Schedule or None; TypeError otherwise."""
    if schedule is not None and not isinstance(schedule, Schedule):
        raise TypeError(f"[{where}] schedule must be a bprop.optim schedule or None; got {type(schedule).__name__}")
    return schedule
