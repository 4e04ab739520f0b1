"""Saving and loading models: what a model (and, in a checkpoint, its optimizer and training position)
becomes as named tensors plus a JSON document, and back. The file itself (safetensors, checksums,
atomic writes, corrupt-file checks) is checkpoint_file.py.

Tensors: "model/<name>" for every parameter and buffer (names from named_parameters/named_buffers,
e.g. "model/0.weight", "model/1.running_mean"), and in checkpoints "optimizer/<name>" for the
optimizer's state ("optimizer/exp_avg.0", ...). The document:
    {"model": {"class": "Sequential", "config": {...}} (a registered architecture, by name) or
               {"class": "Module", "type": "<qualified name>"} (code the file cannot hold),
     "compile": {"loss": {...}, "metrics": [...], "optimizer": {"name", "config"} or null} or null,
     "optimizer_state": {"name", "step_count", "lr"} or null,
     "training": {"epoch": epochs completed, "seed": the fit's seed, "step": optimizer steps} or null}
Loading checks the document and every tensor's name, dtype and shape against the architecture before
anything is assigned, so a bad file never leaves a model half loaded.

This module never imports a model: a model class whose config describes it whole (Sequential) registers
itself with register_architecture, and load() finds it by the name the file holds.
"""
import numbers
import os
from typing import Any

import numpy as np

from .. import optim
from .._checks import c_array
from .._dtypes import resolve_dtype
from ..nn.layers.base import custom_layers
from ..nn.losses import deserialize as deserialize_loss, serialize as serialize_loss
from .checkpoint_file import CheckpointError, load_file, save_file

__all__ = ["CheckpointError", "save", "load", "restore", "state_dict", "load_state_dict", "register_architecture"]

_TOP_LEVEL = {"model", "compile", "optimizer_state", "training"}

# Model classes load() can rebuild from a file, by class name: each has get_config(), from_config(config)
# and tensor_shapes(config), and its config names its dtype. Only bprop's own register: a file never names
# code to run.
_ARCHITECTURES: dict[str, type] = {}


def register_architecture(cls):
    """Class decorator: `cls` is saved as its config and loaded back by its name."""
    _ARCHITECTURES[cls.__name__] = cls
    return cls


def _architecture_of(model):
    """The registered class `model` is an instance of (exactly), or None (a Module: its code is the user's)."""
    cls = _ARCHITECTURES.get(type(model).__name__)
    return cls if cls is type(model) else None


# -- state dicts ---------------------------------------------------------------------------------------
def state_dict(model):
    """{name: array copy} of every parameter, then every buffer."""
    return {name: p.value() for name, p in model.named_parameters() + model.named_buffers()}


def _check_arrays(targets, arrays, prefix, error=ValueError):
    """Every target (name -> Parameter) has an array of its dtype and shape, and no array is extra.
    prefix: how messages begin ("[load_state_dict]", "[load] path:")."""
    missing = [name for name in targets if name not in arrays]
    extra = [name for name in arrays if name not in targets]
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unexpected {', '.join(extra)}"] if extra
                                                                          else [])
        raise error(f"{prefix} the tensors do not fit this model: {'; '.join(parts)}")
    for name, target in targets.items():
        array = arrays[name]
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{prefix} {name} must be a numpy array; got {type(array).__name__}")
        if array.dtype != np.dtype(target.dtype) or array.shape != tuple(target.shape):
            raise error(f"{prefix} {name} is {array.dtype} {array.shape}; the model's is {target.dtype} "
                        f"{tuple(target.shape)}")
        if not np.isfinite(array).all():
            raise error(f"{prefix} {name} contains NaN or Inf")


def load_state_dict(model, arrays, prefix="[load_state_dict]", error=ValueError):
    """Assign state_dict()'s output; every array is checked before any is assigned."""
    if not isinstance(arrays, dict):
        raise TypeError(f"{prefix} expects a dict of arrays (state_dict()'s output); got {type(arrays).__name__}")
    targets = dict(model.named_parameters() + model.named_buffers())
    _check_arrays(targets, arrays, prefix, error)
    for name, target in targets.items():
        target.set_value(c_array(arrays[name]))


# -- saving --------------------------------------------------------------------------------------------
def _model_entry(model):
    if _architecture_of(model) is not None:
        return {"class": type(model).__name__, "config": model.get_config()}
    cls = type(model)
    return {"class": "Module", "type": f"{cls.__module__}.{cls.__qualname__}"}


def _compile_entry(trainer):
    if trainer is None:
        return None
    optimizer = trainer.optimizer
    return {"loss": serialize_loss(trainer.loss), "metrics": [name for name, *_ in trainer.metrics],
            "optimizer": None if optimizer is None else {"name": type(optimizer).__name__,
                                                          "config": optimizer.get_config()}}


def save(model, path, include_optimizer=False, training=None):
    """Write model (architecture, weights, buffers, compile settings) to path, atomically. With
    include_optimizer, also the bound optimizer's state; `training` is {"epoch", "seed"} in checkpoints."""
    tensors = {f"model/{name}": array for name, array in state_dict(model).items()}
    trainer = model.__dict__.get("_trainer")
    document = {"model": _model_entry(model), "compile": _compile_entry(trainer), "optimizer_state": None,
                "training": training}
    optimizer = trainer.optimizer if trainer is not None else None
    if include_optimizer and optimizer is not None and optimizer.bound:
        state = optimizer.state_dict()
        tensors.update({f"optimizer/{name}": array for name, array in state["state"].items()})
        document["optimizer_state"] = {"name": state["name"], "step_count": state["step_count"],
                                       "lr": state["config"]["lr"]}
    save_file(path, tensors, document)


# -- loading -------------------------------------------------------------------------------------------
def _fail(path, message):
    raise CheckpointError(f"[load] {path}: {message}")


def _check_document(path, document):
    """The document's schema: the keys and their kinds (details are checked where they are used)."""
    missing = _TOP_LEVEL - set(document)
    if missing:
        _fail(path, f"the metadata has no {', '.join(sorted(missing))}; not a bprop model file")
    entry = document["model"]
    known = (*_ARCHITECTURES, "Module")
    if not isinstance(entry, dict) or not isinstance(entry.get("class"), str) or entry["class"] not in known:
        _fail(path, f"the metadata's model entry is not a {' or a '.join(known)}")
    if entry["class"] != "Module" and not isinstance(entry.get("config"), dict):
        _fail(path, f"the {entry['class']} has no config")
    for key in ("compile", "optimizer_state", "training"):
        if document[key] is not None and not isinstance(document[key], dict):
            _fail(path, f"the metadata's {key} entry must be an object or null")
    training = document["training"]
    if training is not None:
        for key in ("epoch", "seed"):
            value = training.get(key)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                _fail(path, f"the training position's {key} must be an integer >= 0; got {value!r:.50}")


def _split(tensors):
    """(model arrays, optimizer arrays) by prefix; CheckpointError-worthy names are reported by the caller."""
    model, optimizer, other = {}, {}, []
    for name, array in tensors.items():
        if name.startswith("model/"):
            model[name[len("model/"):]] = array
        elif name.startswith("optimizer/"):
            optimizer[name[len("optimizer/"):]] = array
        else:
            other.append(name)
    return model, optimizer, other


def _read(path):
    tensors, document = load_file(path)
    _check_document(path, document)
    model_arrays, optimizer_arrays, other = _split(tensors)
    if other:
        _fail(path, f"unexpected tensors {', '.join(other[:5])}")
    if optimizer_arrays and document["optimizer_state"] is None:
        _fail(path, "optimizer tensors without an optimizer_state entry")
    return document, model_arrays, optimizer_arrays


class _Declared:
    """A tensor a config declares (its dtype and shape), checked like a model's parameter."""

    def __init__(self, dtype, shape):
        self.dtype, self.shape = dtype, shape


def check_declared_tensors(cls, config, dtype, arrays, prefix, error=CheckpointError):
    """The arrays are those cls.from_config(config) holds in `dtype` (names, dtypes, shapes, finite), read from
    the config alone: checked before anything is built (pickling checks a layer's state with it)."""
    declared = {name: _Declared(dtype, shape) for name, shape in cls.tensor_shapes(config).items()}
    _check_arrays(declared, arrays, prefix, error)


def _build_architecture(path, entry, arrays):
    """The model the file's entry describes (a registered class and its config), once the file's tensors are
    seen to be the ones that config holds: sizes a file declares are checked against the tensors it has
    before anything is built."""
    cls, config = _ARCHITECTURES[entry["class"]], entry["config"]
    try:
        dtype = resolve_dtype(config.get("dtype") or "float32", cls.__name__)
        declared = {name: _Declared(dtype, shape) for name, shape in cls.tensor_shapes(config).items()}
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        _fail(path, f"the architecture cannot be built: {error}")
    _check_arrays(declared, arrays, f"[load] {path}:", CheckpointError)
    try:
        return cls.from_config(config)
    except (ValueError, TypeError, KeyError) as error:
        _fail(path, f"the architecture cannot be built: {error}")


def _build_compile(path, entry):
    """(loss, metrics, optimizer or None) from the compile entry, all validated."""
    try:
        loss = deserialize_loss(entry.get("loss"))
        metrics = entry.get("metrics") or None
        optimizer = entry.get("optimizer")
        optimizer = None if optimizer is None else optim.deserialize(optimizer)
        return loss, metrics, optimizer
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        _fail(path, f"the compile settings are invalid: {error}")


def _optimizer_state(path, document, arrays):
    """optimizer.load_state_dict's input from the file (its arrays, step count and lr)."""
    entry = document["optimizer_state"]
    if not isinstance(entry.get("name"), str):
        _fail(path, "the optimizer_state entry has no optimizer name")
    return {"name": entry["name"], "step_count": entry.get("step_count"), "config": {"lr": entry.get("lr")},
            "state": arrays}


def _load_optimizer(path, optimizer, state):
    """optimizer.load_state_dict(state) (bound already), its errors as CheckpointError; nothing changes
    on error."""
    if optimizer is None:
        _fail(path, "the file holds optimizer state but there is no optimizer to load it into")
    try:
        optimizer.load_state_dict(state)
    except (ValueError, TypeError) as error:
        _fail(path, f"the optimizer state does not fit: {error}")


# Returns Any, not Sequential: io never imports models (they register their architectures here), not even
# for a type checker; a user annotates the variable (`model: bprop.Sequential = bprop.load(path)`).
def load(path: str | os.PathLike[str], custom_objects: dict[str, type] | None = None) -> Any:
    """Load a model saved by save(): built, weights assigned, compiled as it was, ready to predict or train.

    The model is a Sequential (a registered architecture); its optimizer's state comes back when the file
    holds it. A Module's file holds only weights: make the module and call its ``load_weights``.

    Parameters
    ----------
    path : str or os.PathLike
        The file written by ``model.save(path)``.
    custom_objects : dict, optional
        ``{name: class}`` of your own layer classes the file may name, besides those registered with
        ``@bprop.nn.register_layer`` (Keras's argument); the file names classes, never code.

    Returns
    -------
    Sequential
        The model.

    Raises
    ------
    CheckpointError
        For a file that is not a whole, valid bprop model (a subclass of ValueError).
    FileNotFoundError
        For a missing path.

    Examples
    --------
    >>> model = bprop.Sequential([nn.Linear(2, 1)])
    >>> model.save("model.bprop")
    >>> restored = bprop.load("model.bprop")
    >>> x = np.ones((3, 2), np.float32)
    >>> bool(np.array_equal(model.predict(x), restored.predict(x)))
    True
    """
    scope = custom_layers({} if custom_objects is None else custom_objects, "load")
    document, model_arrays, optimizer_arrays = _read(path)
    entry = document["model"]
    if entry["class"] == "Module":
        _fail(path, f"it holds the parameters of a Module ({entry.get('type')!r:.100}), not an architecture: make "
                    "that module and call module.load_weights(path)")
    with scope:
        model = _build_architecture(path, entry, model_arrays)
    load_state_dict(model, model_arrays, prefix=f"[load] {path}:", error=CheckpointError)
    if document["compile"] is not None:
        loss, metrics, optimizer = _build_compile(path, document["compile"])
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
        if optimizer is not None:
            optimizer.bind(model.parameters())
            if document["optimizer_state"] is not None:
                _load_optimizer(path, optimizer, _optimizer_state(path, document, optimizer_arrays))
    elif document["optimizer_state"] is not None:
        _fail(path, "optimizer state without compile settings")
    return model


def restore(model, optimizer, path, check_position=None):
    """Load a file saved from this architecture into an existing model (and its optimizer, when the file
    holds optimizer state): every tensor is checked before any is assigned. Returns the training position
    ({"epoch", "seed"}) or None; check_position(position), when given, runs before anything is assigned."""
    document, model_arrays, optimizer_arrays = _read(path)
    if check_position is not None:
        check_position(document["training"])
    saved_class = document["model"]["class"]
    if saved_class != "Module" and _architecture_of(model) is not _ARCHITECTURES[saved_class]:
        _fail(path, f"it holds a {saved_class}; this model is a {type(model).__name__}")
    targets = dict(model.named_parameters() + model.named_buffers())
    _check_arrays(targets, model_arrays, f"[load] {path}:", CheckpointError)
    if saved_class != "Module":
        saved = _structure(_build_architecture(path, document["model"], model_arrays).get_config())
        if saved != _structure(model.get_config()):
            _fail(path, "it holds a different architecture (layers or their settings differ)")
    if document["optimizer_state"] is not None and optimizer is not None:
        if not optimizer.bound:
            optimizer.bind(model.parameters())
        _load_optimizer(path, optimizer, _optimizer_state(path, document, optimizer_arrays))
    load_state_dict(model, model_arrays, prefix=f"[load] {path}:", error=CheckpointError)
    return document["training"]


def _structure(config):
    """A config without what only initialisation uses (init, init_limit, seed): two models with the same
    structure can hold each other's weights."""
    if isinstance(config, dict):
        return {k: _structure(v) for k, v in config.items() if k not in ("init", "init_limit", "seed")}
    if isinstance(config, list):
        return [_structure(v) for v in config]
    return config
