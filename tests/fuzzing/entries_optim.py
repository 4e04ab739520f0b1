"""Registry entries: optimizers (made, stepped, called in any order), schedules, deserialize and optim.get."""
import numpy as np
from hypothesis import strategies as st

from bprop import nn, optim
from bprop.nn import losses as losses_module
from bprop.optim import schedules

from .entries_layers import deserialize_junk
from .entry import Entry
from .values import (R, build, builder, junk, junk_flags, junk_ints, junk_reals, junk_scalars, junk_some_keywords,
                     parameters, shapes, tensors)


# -- optimizers and schedules ------------------------------------------------------------------------------------------
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad")
HYPERPARAMETERS = {
    "SGD": {"lr": (0.1, 1e-3), "momentum": (0.0, 0.9), "dampening": (0.0, 0.5), "weight_decay": (0.0, 0.01),
            "nesterov": (False,)},
    "Adam": {"lr": (0.1, 1e-3), "betas": ((0.9, 0.999), [0.5, 0.5]), "eps": (1e-8,), "weight_decay": (0.0, 0.1),
             "amsgrad": (False, True)},
    "RMSprop": {"lr": (0.01,), "alpha": (0.99, 0.5), "eps": (1e-8,), "weight_decay": (0.0,), "momentum": (0.0, 0.9),
                "centered": (False, True)},
    "Adagrad": {"lr": (0.01,), "lr_decay": (0.0, 0.1), "weight_decay": (0.0,), "initial_accumulator_value": (0.0, 0.1),
                "eps": (1e-10,)},
}
HYPERPARAMETERS["AdamW"] = HYPERPARAMETERS["Adam"]
OPTIMIZER_JUNK = {"lr": junk_reals(), "momentum": junk_reals(), "dampening": junk_reals(), "weight_decay": junk_reals(),
                  "nesterov": junk_flags(), "betas": st.one_of(junk_reals(), st.sampled_from(
                      [(1.0, 0.999), (0.9,), (0.9, 0.9, 0.9), (-0.1, 0.5), ("a", "b"), (float("nan"), 0.9),
                       [2**64, 0]])),
                  "eps": junk_reals(), "amsgrad": junk_flags(), "alpha": junk_reals(), "centered": junk_flags(),
                  "lr_decay": junk_reals(), "initial_accumulator_value": junk_reals(), "clipnorm": junk_reals(),
                  "clipvalue": junk_reals(), "schedule": st.one_of(junk_scalars(), st.just(R("schedule", "LinearWarmup",
                                                                                             {"warmup_steps": 1,
                                                                                              "per": "step"})))}


@builder("schedule")
def build_schedule(name, kwargs):
    return getattr(schedules, name)(**build(kwargs))


def parameter_lists(dtype=None):
    dtypes = (dtype,) if dtype else ("float32",)
    return st.lists(parameters(shapes(0, 2, 0, 3), dtypes), min_size=1, max_size=2)


@st.composite
def optimizer_specs(draw, junk_keys=0):
    """(name, keywords) of an optimizer, with junk_keys of its keywords replaced."""
    name = draw(st.sampled_from(OPTIMIZERS))
    kwargs = {key: draw(st.sampled_from(values)) for key, values in HYPERPARAMETERS[name].items()}
    kwargs["clipnorm"] = draw(st.sampled_from((None, 1.0)))
    kwargs["clipvalue"] = draw(st.sampled_from((None, 0.5)))
    kwargs["schedule"] = draw(st.sampled_from((None, R("schedule", "ExponentialDecay", {"gamma": 0.9, "per": "epoch"}))))
    keys = sorted(kwargs)
    junk_some_keywords(draw, kwargs, keys, OPTIMIZER_JUNK, junk_keys)
    return name, kwargs


@st.composite
def optimizer_valid(draw):
    dtype = draw(st.sampled_from(("float32", "float64")))
    return {"spec": draw(optimizer_specs()), "parameters": draw(st.one_of(st.none(), parameter_lists(dtype))),
            "steps": draw(st.integers(0, 2))}


def call_optimizer(spec, parameters, steps):
    """Make the optimizer and take `steps` steps on gradients of ones (an unbound one cannot step)."""
    name, kwargs = spec
    optimizer = getattr(optim, name)(parameters, **kwargs)
    for p in optimizer.parameters():
        p.set_grad(np.ones(p.shape, p.dtype))
    for _ in range(steps if optimizer.bound else 0):  # an unbound one: Optimizer.<calls in any order>
        optimizer.step()
    return optimizer, [p.value() for p in optimizer.parameters()], optimizer.get_config(), repr(optimizer)


OPTIMIZER_CALLS = ("step", "zero_grad", "bind", "lr", "current_lr", "step_count", "schedule", "state_dict",
                   "load_state_dict", "get_config", "from_config", "repr", "dtype", "core", "epoch", "add_gradient_hook",
                   "remove_hook")


def halve_gradients(parameters, step):
    """A valid gradient hook."""
    for p in parameters:
        p.grad = p.grad * 0.5


def call_optimizer_sequence(optimizer, calls):
    """Calls in any order on an optimizer made without parameters or with them."""
    handles = []
    for method, argument in calls:
        if method == "add_gradient_hook":
            handles.append(optimizer.add_gradient_hook(argument))
        elif method == "remove_hook":
            if handles:
                handles.pop(0).remove()
        elif method in ("lr", "schedule", "epoch"):
            setattr(optimizer, method, argument)
        elif method in ("bind", "load_state_dict", "from_config"):
            getattr(optimizer, method)(argument)
        elif method == "repr":
            repr(optimizer)
        elif method in ("current_lr", "step_count", "dtype", "core"):
            getattr(optimizer, method)
        else:
            getattr(optimizer, method)()
    return optimizer


@builder("optimizer")
def build_optimizer(name, parameters, kwargs):
    return getattr(optim, name)(build(parameters), **build(kwargs))


@st.composite
def optimizer_sequences(draw):
    name = draw(st.sampled_from(OPTIMIZERS))
    parameters_ = draw(st.one_of(st.none(), parameter_lists()))
    arguments = st.one_of(junk(), parameter_lists(), st.sampled_from((0.01, {"name": name, "config": {},
                                                                               "step_count": 0, "state": {}},
                                                                        halve_gradients)))
    calls = draw(st.lists(st.tuples(st.sampled_from(OPTIMIZER_CALLS), arguments), min_size=1, max_size=4))
    return {"optimizer": R("optimizer", name, parameters_, {}), "calls": calls}


SCHEDULES = {"StepDecay": {"step_size": (1, 10), "gamma": (0.1, 0.5), "per": ("step", "epoch")},
             "ExponentialDecay": {"gamma": (0.9, 1.0), "per": ("step", "epoch")},
             "CosineDecay": {"t_max": (10, 1), "eta_min": (0.0, 1e-4), "per": ("step", "epoch")},
             "LinearWarmup": {"warmup_steps": (5, 1), "start_factor": (0.0, 1 / 3), "per": ("step",),
                              "then": (None, R("schedule", "ExponentialDecay", {"gamma": 0.5, "per": "step"}))}}
SCHEDULE_JUNK = {"step_size": junk_ints(1), "gamma": junk_reals(), "t_max": junk_ints(1), "eta_min": junk_reals(),
                 "warmup_steps": junk_ints(0), "start_factor": junk_reals(), "then": junk_scalars(),
                 "per": st.one_of(junk_scalars(), st.sampled_from(("epochs", "batch", "STEP")))}


def call_schedule(spec, lr, step):
    name, kwargs = spec
    schedule = getattr(schedules, name)(**kwargs)
    return (schedule.rate(lr, step), schedule.per, schedule.get_config(), repr(schedule),
            schedules.serialize(schedule))


@st.composite
def schedule_specs(draw, junk_keys=0):
    name = draw(st.sampled_from(sorted(SCHEDULES)))
    kwargs = {k: draw(st.sampled_from(v)) for k, v in SCHEDULES[name].items()}
    keys = sorted(kwargs)
    junk_some_keywords(draw, kwargs, keys, SCHEDULE_JUNK, junk_keys)
    return name, kwargs


def call_deserialize(function, data):
    """The functions that make objects from plain data (what files hold)."""
    return {"optim.get": optim.get, "optim.deserialize": optim.deserialize,
            "schedules.deserialize": schedules.deserialize, "losses.deserialize": losses_module.deserialize,
            "nn.layers.deserialize": nn.layers.deserialize}[function](data)


DESERIALIZE_VALID = [("optim.get", "adam"), ("optim.get", "SGD"), ("optim.deserialize", {"name": "SGD", "config": {}}),
                     ("optim.deserialize", {"name": "Adam", "config": {"lr": 0.1, "betas": [0.5, 0.6]}}),
                     ("schedules.deserialize", {"name": "CosineDecay", "config": {"t_max": 3}}),  # per: step
                     ("schedules.deserialize", {"name": "StepDecay", "config": {"step_size": 3, "per": "epoch"}}),
                     ("schedules.deserialize", None),
                     ("losses.deserialize", {"class": "Huber", "config": {"delta": 2.0}}),
                     ("nn.layers.deserialize", {"class": "Linear", "config": {"in_features": 2, "out_features": 3}}),
                     ("nn.layers.deserialize", {"class": "Residual", "config": {"layers": []}})][:-1]


ENTRIES = [
    Entry("optim.<Optimizer>(...)", call_optimizer, optimizer_valid(),
          {"spec": st.one_of(optimizer_specs(1), optimizer_specs(2)), "steps": st.sampled_from((3,)),
           "parameters": st.one_of(junk(), st.lists(junk(), max_size=2),
                                   st.tuples(parameters(dtypes=("float32",)),
                                             parameters(dtypes=("float64",))).map(list),
                                   st.lists(tensors(), min_size=1, max_size=2))}),
    Entry("Optimizer.<calls in any order>", call_optimizer_sequence, optimizer_sequences(), checks_valid=False),
    Entry("optim.<Schedule>(...).rate", call_schedule,
          st.fixed_dictionaries({"spec": schedule_specs(), "lr": st.sampled_from((0.1, 1.0)),
                                 "step": st.sampled_from((0, 1, 100))}),
          {"spec": st.one_of(schedule_specs(1), schedule_specs(2)), "lr": junk_reals(), "step": junk_ints(0)}),
    Entry("deserialize / optim.get", call_deserialize,
          st.sampled_from(DESERIALIZE_VALID).map(lambda fd: {"function": fd[0], "data": fd[1]}),
          {"data": deserialize_junk()}),
]
