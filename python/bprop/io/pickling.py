"""Pickle and copy for bprop's objects: models, layers, losses, optimizers, schedules and parameters.

What travels is what a saved file holds: configs (get_config) and tensors as safetensors bytes with their
checksums (checkpoint_file.to_bytes), never code; the user's own classes (a Module subclass, a layer written
in Python, a gradient hook) pickle by reference as usual. Unpickling checks those bytes as loading checks a
file: CheckpointError (a ValueError) naming what is wrong (truncated, tampered, wrong shape, NaN).

- A layer with a C++ layer (Linear, Conv2d, LSTM, ...): its class, config and dtype, its parameters and
  buffers, its train/eval flag and which parameters are frozen. A layer written in Python: its attributes
  (its Parameters by value), without its C++ layer, which is made again when it runs.
- A Sequential or a Residual: its layers (each as above, so a parameter or an optimizer pickled with it finds
  them), then its own settings; a Module: its attributes. A model's compile settings: the loss, the metric
  names, the optimizer's config and state (moments, step count, lr, epoch) and the last fit's seed; the copy
  is compiled again with its optimizer bound to the copy's parameters.
- An optimizer compiled into a model pickles as "that model's optimizer", so ``pickle.dumps((model, opt))``
  gives back an optimizer bound to the copied model; otherwise as its config, state and parameters. A
  parameter held by a C++ layer pickles as "parameter i of that layer"; one made by bprop.Parameter by value.

copy.copy of any of these is a deep copy: a shallow copy would share the C++ storage, so training one would
move the other (``__copy__`` below). A layer that draws dropout masks carries its place in its random
stream, so a copy's next training forward, in fit or run by hand, draws the original's next mask. Not
carried: parameters' gradients (the next backward writes them).

This module installs __reduce__ and __copy__ on Layer, Loss, Optimizer, Schedule and the Parameter classes
(they sit below io/ and cannot import it); Sequential, Module and Trainer call in here from their own hooks.
"""
import copy
import copyreg
import warnings
import weakref

import numpy as np

from .._dtypes import resolve_dtype
from ..autograd.parameter import PARAMETER_TYPES, Parameter
from ..nn.layers.base import Layer, parameter_owner
from ..nn.losses import Loss
from ..optim import Optimizer, schedules
from .checkpoint_file import CheckpointError, from_bytes, to_bytes
from .saving import check_declared_tensors, load_state_dict

__all__ = ["reduce_sequential", "set_sequential_state", "module_state", "set_module_state", "reduce_trainer",
           "remember_owner"]

# Attributes a layer rebuilds rather than pickles: its C++ layers and what refers into them.
_REBUILT = ("_cores", "_running_parameters", "_parameter_handles")


def _fail(what, message):
    raise CheckpointError(f"[unpickle] {what}: {message}")


def _unpack(data, what, keys):
    """(tensors, document) from to_bytes's output; CheckpointError unless the document has `keys`."""
    if not isinstance(data, (bytes, bytearray)):
        _fail(what, f"the pickled state must be bytes; got {type(data).__name__}")
    tensors, document = from_bytes(data, f"<pickled {what}>")
    missing = [key for key in keys if key not in document]
    if missing:
        _fail(what, f"the pickled state has no {', '.join(missing)}")
    return tensors, document


def _frozen(named):
    return [name for name, p in named if not p.requires_grad]


def _freeze(named, names, what):
    by_name = dict(named)
    if not isinstance(names, list) or not all(isinstance(n, str) and n in by_name for n in names):
        _fail(what, f"the frozen parameters {names!r:.100} are not this layer's")
    for name in names:
        by_name[name].requires_grad = False


def _training_flag(obj):
    return bool(obj.__dict__.get("_training", True))


# -- parameters ----------------------------------------------------------------------------------------
def _reduce_parameter(parameter):
    owner = parameter_owner(parameter)
    if owner is not None:  # a C++ layer's: the copy's is the copied layer's
        return _parameter_of, owner
    document = {"name": parameter.name, "requires_grad": bool(parameter.requires_grad)}
    return _restore_parameter, (to_bytes({"value": parameter.value()}, document),)


def _parameter_of(layer, index):
    """Parameter `index` of `layer` (what a pickled layer-held parameter becomes)."""
    parameters = layer.parameters() if isinstance(layer, Layer) else []
    if not isinstance(index, int) or not 0 <= index < len(parameters):
        _fail("Parameter", f"{type(layer).__name__} has no parameter {index!r:.50}")
    return parameters[index]


def _restore_parameter(data):
    """A bprop.Parameter from _reduce_parameter's bytes."""
    tensors, document = _unpack(data, "Parameter", ("name", "requires_grad"))
    value = tensors.get("value")
    if set(tensors) != {"value"} or value.dtype not in (np.float32, np.float64):
        _fail("Parameter", "the pickled state must hold one float32 or float64 tensor 'value'")
    if not isinstance(document["name"], str) or not isinstance(document["requires_grad"], bool):
        _fail("Parameter", "the pickled name or requires_grad is not a str and a bool")
    if not np.isfinite(value).all():
        _fail("Parameter", f"{document['name']} contains NaN or Inf")
    parameter = Parameter(value, name=document["name"], dtype=value.dtype)
    parameter.requires_grad = document["requires_grad"]
    return parameter


# -- layers --------------------------------------------------------------------------------------------
def _reduce_layer(layer):
    cls = type(layer)
    if cls._written_in_python():  # the user's class and attributes; its Parameters pickle by value
        own = getattr(cls, "__getstate__", None)  # object has one only from Python 3.11
        state = layer.__getstate__() if own is not None and own is not getattr(object, "__getstate__", None) else \
            {k: v for k, v in vars(layer).items() if k not in _REBUILT}
        return copyreg.__newobj__, (cls,), state
    if not layer._owns_parameters:  # a Residual: its layers, each pickled as itself
        return _restore_container, (cls, layer._constructor_arguments()), {"_training": _training_flag(layer)}
    named = layer.named_parameters() + layer.named_buffers()
    document = {"config": layer.get_config(), "dtype": None if layer.dtype is None else layer.dtype.name,
                "training": _training_flag(layer), "frozen": _frozen(layer.named_parameters()),
                "random": _random_states(layer)}
    return _restore_layer, (cls, to_bytes({name: p.value() for name, p in named}, document))


def _restore_container(cls, arguments):
    return cls(*arguments)


def _restore_layer(cls, data):
    """A `cls` layer from _reduce_layer's bytes: its config and tensors checked before it is built."""
    what = cls.__name__
    tensors, document = _unpack(data, what, ("config", "dtype", "training", "frozen", "random"))
    config, dtype = document["config"], document["dtype"]
    if not isinstance(config, dict) or not isinstance(document["training"], bool):
        _fail(what, "the pickled config or training flag is malformed")
    try:
        if dtype is not None:
            check_declared_tensors(cls, config, resolve_dtype(dtype, what), tensors, f"[unpickle] {what}:")
        elif tensors:
            _fail(what, f"a layer without a dtype holds no tensors; got {', '.join(list(tensors)[:5])}")
        layer = cls.from_config(config)
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        _fail(what, f"the pickled config does not make a {what}: {error}")
    load_state_dict(layer, tensors, prefix=f"[unpickle] {what}:", error=CheckpointError)
    _freeze(layer.named_parameters(), document["frozen"], what)
    _set_random_states(layer, document["random"], what)
    layer.__dict__["_training"] = document["training"]
    return layer


def _random_states(layer):
    """{dtype: [seed, training forwards, last mask key]} of each C++ layer that draws masks (Dropout, a
    recurrent layer's dropout between layers), so a copy's next training forward draws the original's mask."""
    return {dtype.name: core.random_state for dtype, core in layer.__dict__.get("_cores", {}).items()
            if core.random_state}


def _set_random_states(layer, states, what):
    if not isinstance(states, dict):
        _fail(what, "the pickled random state is malformed")
    for dtype, state in states.items():
        if not (isinstance(state, list) and all(isinstance(v, int) and 0 <= v < 2 ** 64 for v in state)):
            _fail(what, f"the pickled random state for {dtype} is malformed")
        try:
            layer.core(dtype).random_state = state
        except (ValueError, TypeError) as error:
            _fail(what, f"the pickled random state does not fit: {error}")


# -- optimizers ----------------------------------------------------------------------------------------
def remember_owner(optimizer, model):
    """Note that `optimizer` is compiled into `model`: pickled, it then comes back as the copy's."""
    optimizer._owner = weakref.ref(model)


def _optimizer_bytes(optimizer):
    document = {"config": optimizer.get_config(), "bound": optimizer.bound, "step_count": optimizer.step_count,
                "epoch": optimizer.epoch}
    return to_bytes(optimizer.core.state() if optimizer.bound else {}, document)


def _reduce_optimizer(optimizer):
    owner = optimizer.__dict__.get("_owner")
    model = owner() if owner is not None else None
    if model is not None and getattr(model.__dict__.get("_trainer"), "optimizer", None) is optimizer:
        return _optimizer_of, (model,)
    hooks = [handle.hook for handle in optimizer._hooks]
    return _restore_optimizer, (type(optimizer), _optimizer_bytes(optimizer), optimizer.parameters(), hooks)


def _optimizer_of(model):
    """The optimizer `model` (a copy being unpickled) is compiled with."""
    trainer = model.__dict__.get("_trainer")
    if trainer is None or trainer.optimizer is None:
        _fail("optimizer", f"the {type(model).__name__} it was compiled into has no optimizer (pickled from inside "
                           "that model's own state?)")
    return trainer.optimizer


def _new_optimizer(cls, data, hooks):
    """(unbound optimizer, its state tensors, its document) from _optimizer_bytes's output."""
    what = cls.__name__
    tensors, document = _unpack(data, what, ("config", "bound", "step_count", "epoch"))
    try:
        optimizer = cls.from_config(document["config"])
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        _fail(what, f"the pickled config does not make a {what}: {error}")
    for hook in hooks:
        optimizer.add_gradient_hook(hook)
    return optimizer, tensors, document


def _load_optimizer_state(optimizer, tensors, document):
    """The state of a bound optimizer, from its pickled tensors and document; CheckpointError if it does not fit."""
    what = type(optimizer).__name__
    for name, array in tensors.items():
        if not np.isfinite(array).all():
            _fail(what, f"state tensor {name} contains NaN or Inf")
    state = {"name": what, "config": {"lr": document["config"].get("lr")}, "step_count": document["step_count"],
             "state": tensors}
    try:
        optimizer.load_state_dict(state)
        optimizer.epoch = document["epoch"]
    except (ValueError, TypeError) as error:
        _fail(what, f"the pickled state does not fit: {error}")


def _restore_optimizer(cls, data, parameters, hooks):
    optimizer, tensors, document = _new_optimizer(cls, data, hooks)
    if document["bound"]:
        optimizer.bind(parameters)
        _load_optimizer_state(optimizer, tensors, document)
    return optimizer


# -- compile settings (shared by Sequential and Module) ----------------------------------------------
def _compile_state(model):
    trainer = model.__dict__.get("_trainer")
    if trainer is None:
        return None
    optimizer = trainer.optimizer
    return {"loss": trainer.loss, "metrics": [name for name, *_ in trainer.metrics],
            "optimizer": None if optimizer is None else (type(optimizer), _optimizer_bytes(optimizer),
                                                         [handle.hook for handle in optimizer._hooks]),
            "seed": trainer.seed, "stop": (trainer.stop_training, trainer.stop_reason)}


def _restore_compile(model, record):
    if record is None:
        return
    optimizer = tensors = document = None
    if record["optimizer"] is not None:
        optimizer, tensors, document = _new_optimizer(*record["optimizer"])
    with warnings.catch_warnings():  # compile's warnings were given when the original was compiled
        warnings.simplefilter("ignore")
        model.compile(optimizer=optimizer, loss=record["loss"], metrics=record["metrics"] or None)
    if optimizer is not None and document["bound"]:
        if not optimizer.bound:
            optimizer.bind(model.parameters())
        _load_optimizer_state(optimizer, tensors, document)
    trainer = model._trainer
    trainer.seed = record["seed"]
    trainer.stop_training, trainer.stop_reason = record["stop"]


# -- models ----------------------------------------------------------------------------------------------
def reduce_sequential(model):
    """Sequential.__reduce__: its layers and dtype, then its shape, mode and compile settings as state."""
    dtype = None if model._fixed_dtype is None else model._fixed_dtype.name
    state = {"sample_shape": model._sample_shape, "shape_fixed": model._shape_fixed,
             "training": _training_flag(model), "compile": _compile_state(model)}
    return _restore_container, (type(model), (model.layers, dtype)), state


def set_sequential_state(model, state):
    """Sequential.__setstate__: the state reduce_sequential gave."""
    if not isinstance(state, dict) or set(state) != {"sample_shape", "shape_fixed", "training", "compile"}:
        _fail("Sequential", "the pickled state is malformed")
    if state["sample_shape"] is not None:
        model.build(state["sample_shape"])  # checked as build() checks any shape
    model._shape_fixed = bool(state["shape_fixed"])
    model.__dict__["_training"] = bool(state["training"])
    _restore_compile(model, state["compile"])


def module_state(module):
    """Module.__getstate__: its attributes, its compile settings in place of its trainer."""
    state = dict(module.__dict__)
    state["_trainer"] = _compile_state(module)
    return state


def set_module_state(module, state):
    """Module.__setstate__: the attributes back, then compiled again as it was."""
    if not isinstance(state, dict):
        _fail(type(module).__name__, "the pickled state is not a dict")
    state = dict(state)
    record = state.pop("_trainer", None)
    module.__dict__.update(state)
    _restore_compile(module, record)


def reduce_trainer(trainer):
    """Trainer.__reduce__: a model's current trainer comes back as the copy's (a History refers to it)."""
    if trainer.model.__dict__.get("_trainer") is trainer:
        return _trainer_of, (trainer.model,)
    return copyreg.__newobj__, (type(trainer),), {**vars(trainer), "_core": None}


def _trainer_of(model):
    trainer = model.__dict__.get("_trainer")
    if trainer is None:
        _fail("Trainer", f"the {type(model).__name__} it trained is not compiled")
    return trainer


# -- losses and schedules: their config ----------------------------------------------------------------
def _reduce_loss(loss):
    return _restore_from_config, (type(loss), loss.get_config())


def _restore_from_config(cls, config):
    if not isinstance(config, dict):
        _fail(cls.__name__, "the pickled config is not a dict")
    return cls(**config)


def _reduce_schedule(schedule):
    return schedules.deserialize, (schedules.serialize(schedule),)


def _deep_copy(self):
    """copy.copy makes a deep copy: a shallow one would share C++ storage with the original."""
    return copy.deepcopy(self)


def _install():
    for cls, reduce in ((Layer, _reduce_layer), (Loss, _reduce_loss), (Optimizer, _reduce_optimizer),
                        (schedules.Schedule, _reduce_schedule), *((t, _reduce_parameter) for t in PARAMETER_TYPES)):
        cls.__reduce__ = reduce
        cls.__copy__ = _deep_copy


_install()
