"""The base of every layer (Layer) and the registry of layer classes by name, with what turns a layer into
plain data and back (serialize, deserialize). Each layer wraps one C++ layer (``bprop._core.<Name>_<dtype>``),
where the math lives.

Layers with parameters (Linear, BatchNorm, LayerNorm) fix their dtype when made (``dtype="float32"``
by default; float64 is for gradient checks); layers without parameters take the dtype of the model
they join. ``forward(x, training=False)`` and ``backward(x, y, dy)`` run a single layer on numpy
arrays; models run whole stacks in one call.

A layer may also be written in Python (see Layer's docstring): python_layer.py runs it through a C++
layer that calls back into its code.
"""
from __future__ import annotations

import contextlib
import inspect
import threading
import weakref
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple, Type, TypeVar, Union

import numpy as np

from ..._checks import as_array, c_array, flag, index_array, integer
from ..._mode import TrainingFlag
from ..._dtypes import resolve_dtype
from ...autograd.tensor import as_tensor
from . import python_layer

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..._core import Parameter_float32, Parameter_float64

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes
    from ..._core import Tensor

    _LayerClass = TypeVar("_LayerClass", bound="Type[Layer]")
    _Self = TypeVar("_Self", bound="Layer")

__all__ = ["Layer", "register_layer"]


# Every layer class bprop defines, by name, as saved files name them: filled as the classes are defined
# (Layer.__init_subclass__), so a new layer needs no list edited. Only bprop's own classes are listed, and
# those the user registers (register_layer): a file never names code to run.
_LAYER_CLASSES: Dict[str, Type[Layer]] = {}
_BPROP_LAYER_NAMES: Set[str] = set()
_scope = threading.local()  # classes one load() call may also make (its custom_objects), on its thread
# Parameter handle -> the layer whose C++ layer made it, so a pickled optimizer's parameters come back as
# the copied layer's (io/pickling.py); pybind11 returns one handle per parameter while the layer keeps it.
_PARAMETER_OWNERS = weakref.WeakKeyDictionary()


def parameter_owner(parameter):
    """(layer, index in layer.parameters()) of the bprop layer whose C++ layer holds `parameter`, or None
    (a parameter made with bprop.Parameter, or one whose layer is gone)."""
    entry = _PARAMETER_OWNERS.get(parameter)
    layer = entry[0]() if entry is not None else None
    return None if layer is None else (layer, entry[1])


@contextlib.contextmanager
def custom_layers(classes, where):
    """Within the block, on this thread, deserializing may also make these layer classes ({name: class},
    Keras's custom_objects); TypeError for anything but Python subclasses of Layer."""
    if not isinstance(classes, dict):
        raise TypeError(f"[{where}] custom_objects must be a dict {{name: layer class}}; got {type(classes).__name__}")
    for name, cls in classes.items():
        if not isinstance(name, str) or not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise TypeError(f"[{where}] custom_objects maps names to subclasses of bprop.nn.Layer; got "
                            f"{name!r:.50}: {cls!r:.50}")
    previous = getattr(_scope, "classes", {})
    _scope.classes = {**previous, **classes}
    try:
        yield
    finally:
        _scope.classes = previous


def register_layer(cls: _LayerClass) -> _LayerClass:
    """Register a layer class of your own so that saved models may name it.

    A class decorator for a Python subclass of `nn.Layer`: ``bprop.load`` can then rebuild models holding
    it (a file names classes, never code to run). Registering again under the same name replaces the class
    (a notebook cell run twice); bprop's own layer names cannot be taken. The argument, ``cls``, is a
    subclass of `bprop.nn.Layer`.

    Returns
    -------
    type
        `cls` itself, unchanged.

    Raises
    ------
    TypeError
        If `cls` is not a subclass of `bprop.nn.Layer`.
    ValueError
        If `cls` has the name of one of bprop's own layers.

    Examples
    --------
    >>> @nn.register_layer
    ... class Double(nn.Layer):
    ...     def forward(self, x):
    ...         return x * 2.0
    >>> Double()(np.ones((2, 3), np.float32)).shape
    (2, 3)
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"[register_layer] expects a subclass of bprop.nn.Layer; got {cls!r:.100}")
    if cls.__name__ in _BPROP_LAYER_NAMES and _LAYER_CLASSES.get(cls.__name__) is not cls:
        raise ValueError(f"[register_layer] {cls.__name__} is the name of a bprop layer; name your class otherwise")
    _LAYER_CLASSES[cls.__name__] = cls
    return cls


class _FixedDtype:
    """Layer._fixed_dtype: what a layer sets (bprop's layers with parameters, a Sequential given a dtype),
    else for a layer written in Python its parameters' dtype, else None."""

    def __get__(self, layer, owner=None):
        if layer is None:
            return None
        if "_fixed_dtype" in layer.__dict__:
            return layer.__dict__["_fixed_dtype"]
        return python_layer.parameters_dtype(layer) if layer._written_in_python() else None

    def __set__(self, layer, value):
        layer.__dict__["_fixed_dtype"] = value


class Layer:
    """Base of all layers: a config and the C++ layer per dtype.

    A layer of your own is a Python subclass, in one of two kinds (both run inside a Sequential, in
    fit/evaluate/predict, summary and saving, and on tensors):

    * On numpy arrays, with your own derivative: define ``forward(self, x)`` and
      ``backward(self, x, y, dy)``. x is a batch (samples, *sample_shape) of the model's dtype, a fresh
      copy; forward returns y. backward gets the x and y of the forward just run and dy = dLoss/dy; it
      returns dx and sets each parameter's gradient, ``p.grad = array`` (always the gradient of this batch
      alone: bprop adds it to the gradients summed so far when the caller accumulates, and leaves frozen
      parameters' gradients alone).
    * On tensors, differentiated for you (as a PyTorch Module): define only ``forward(self, x)``, with x a
      Tensor, using tensor operations and parameters (``x * self.scale``); it returns a Tensor.

    Parameters: ``bprop.Parameter`` objects assigned as attributes in ``__init__`` (or in a list of
    them), in assignment order and named by their attribute ("1.scale" in a Sequential's files), or
    whatever your ``parameters()`` returns. Their dtype is the layer's (a layer without any takes its
    model's). Create them in ``__init__`` and change their values with ``p.set_value``.
    Optional: ``forward(self, x, training=False)`` receives whether it runs in training mode (Keras's
    rule; ``self.training`` is also False in predict/evaluate); ``compute_output_shape(self, input_shape)``
    maps (None, *sample_shape) to (None, *output_sample_shape), as in Keras: without it, bprop runs the
    forward on one sample of zeros to see the output shape.
    Saving: the config is the constructor's keywords, read from attributes of the same names
    (``self.units = units``); a layer that keeps them otherwise defines ``get_config()`` returning them
    (Keras's rule). Loading a file that names your class needs ``@bprop.nn.register_layer`` on it (or
    ``bprop.load(path, custom_objects={"Name": Name})``): a file never names code to run.
    Each call crosses into Python (the GIL is taken for it): fine for a small layer among fast ones.

    Calling a layer on a tensor (``layer(x)``) records one autograd graph node, as a PyTorch Module does;
    ``forward``/``backward`` run it alone on numpy arrays.

    Examples
    --------
    A layer of your own, differentiated for you:

    >>> class Scale(nn.Layer):
    ...     def __init__(self, features=3):
    ...         super().__init__()
    ...         self.features = features
    ...         self.scale = bprop.Parameter(np.full(features, 2.0, np.float32))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> layer = Scale()
    >>> layer(np.ones((2, 3), np.float32)).shape
    (2, 3)
    >>> [name for name, _ in layer.named_parameters()]
    ['scale']
    >>> layer.get_config()
    {'features': 3}
    """

    _fixed_dtype = _FixedDtype()  # set by layers whose parameters fix their dtype
    takes_indices = False  # True for layers whose input is integer indices (Embedding), not values
    training = TrainingFlag()  # what calling the layer on a tensor uses (PyTorch's default: True); see eval()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("bprop.") and not cls.__name__.startswith("_"):
            _LAYER_CLASSES[cls.__name__] = cls
            _BPROP_LAYER_NAMES.add(cls.__name__)

    @classmethod
    def _written_in_python(cls):
        """A subclass with no C++ layer of its own: its forward (and backward) are Python code."""
        return cls._make_core is Layer._make_core and cls is not Layer

    def __init__(self) -> None:
        self._cores: Dict[np.dtype, Any] = {}

    keeps_shape = False  # True for layers whose output sample shape is their input's (activations, Dropout)

    def implied_input_shape(self) -> Optional[Tuple[int, ...]]:
        """The sample shape this layer implies for its input, or None when it implies none.

        What lets a model build itself from its layers alone, before it sees data: a Linear implies
        ``(in_features,)``; layers that take any sample shape (activations, pooling) imply none.

        Returns
        -------
        tuple of int or None
            The per-sample input shape (without the batch axis), or None.

        Examples
        --------
        >>> nn.Linear(4, 2).implied_input_shape()
        (4,)
        >>> nn.ReLU().implied_input_shape() is None
        True
        """
        return None

    # -- on tensors (autograd) ------------------------------------------------------------------------
    def __call__(self, x: Any) -> Tensor:
        """This layer on a tensor of shape (samples, *sample_shape) (a 1-D tensor is one sample), recorded as one graph node whose backward is
        the layer's own (it writes the parameter gradients). Arrays are taken as constant tensors."""
        x = as_tensor(x, dtype=self._fixed_dtype)
        return self.core(self._fixed_dtype or x.dtype).graph_forward(x, self.training)

    def train(self: _Self, mode: bool = True) -> _Self:
        """Set training behaviour (dropout active, batch statistics) for calls on tensors.

        As PyTorch's ``Module.train``: it sets ``self.training``, which calls on tensors use. fit, evaluate
        and predict set the mode themselves.

        Parameters
        ----------
        mode : bool, default True
            True for training behaviour, False for evaluation behaviour (as `eval`).

        Returns
        -------
        Layer
            The layer itself.

        Raises
        ------
        TypeError
            If `mode` is not a bool.

        Examples
        --------
        >>> nn.Dropout(0.5).train().training
        True
        >>> nn.Dropout(0.5).train(False).training
        False
        """
        self.training = flag(mode, "mode", f"{type(self).__name__}.train")
        return self

    def eval(self: _Self) -> _Self:
        """Set evaluation behaviour (dropout off, running statistics) for calls on tensors.

        The same as ``train(False)``, as PyTorch's ``Module.eval``.

        Returns
        -------
        Layer
            The layer itself.

        Examples
        --------
        >>> nn.Dropout(0.5).eval().training
        False
        """
        return self.train(False)

    @property
    def name(self) -> str:
        """The layer's name: its class's name ("Linear"), as saved files and error messages name it."""
        return type(self).__name__

    @property
    def dtype(self) -> Optional[np.dtype]:
        """The dtype the layer computes in, or None until a model gives it one."""
        return self._fixed_dtype

    def _make_core(self, dtype):
        if type(self).forward is Layer.forward:
            raise TypeError(f"[{self.name}] is a Python subclass of nn.Layer that defines no forward(self, x); "
                            "define it (on Tensors, or on numpy arrays with a backward(self, x, y, dy))")
        return python_layer.make_core(self, dtype, Layer)

    def core(self, dtype: Any = None) -> Any:
        """The C++ layer that computes this layer in `dtype`, made on first use and cached.

        Parameters
        ----------
        dtype : numpy dtype or str, optional
            float32 or float64; by default the layer's own dtype (float32 for a layer without parameters).

        Returns
        -------
        object
            The ``bprop._core.<Name>_<dtype>`` object (the models and the trainer run it).

        Raises
        ------
        TypeError
            If `dtype` is not float32 or float64, or differs from the dtype a layer with parameters was
            made with.

        Examples
        --------
        >>> type(nn.Linear(4, 2).core()).__name__
        'Linear_float32'
        >>> type(nn.ReLU().core("float64")).__name__
        'Activation_float64'
        """
        dtype = resolve_dtype(dtype if dtype is not None else (self._fixed_dtype or "float32"), self.name)
        if self._fixed_dtype is not None and dtype != self._fixed_dtype:
            raise TypeError(f"[{self.name}] was made with dtype {self._fixed_dtype}; it cannot run in {dtype} "
                            f"(make it with dtype={dtype.name!r})")
        cores = self.__dict__.setdefault("_cores", {})  # also for a subclass whose __init__ skipped Layer's
        if dtype not in cores:
            cores[dtype] = self._make_core(dtype)
            if self._owns_parameters and not self._written_in_python():
                self._register_parameters(cores[dtype])
            seed = self.__dict__.get("_reseeded_to")
            if seed is not None:  # reseeded before it first ran (Module.reseed): start from that seed
                cores[dtype].reseed(seed)
        return cores[dtype]

    _owns_parameters = True  # False for layers holding layers (their parameters are their layers')

    def _register_parameters(self, core):
        handles = list(core.parameters())
        self.__dict__.setdefault("_parameter_handles", []).extend(handles)  # keeps each handle the one pybind11 returns
        owner = weakref.ref(self)
        for i, p in enumerate(handles):
            _PARAMETER_OWNERS[p] = (owner, i)

    def parameters(self) -> List[Parameter]:
        """The trainable parameters, in a fixed order.

        The handles share the layer's storage: an optimizer made with them updates the layer.

        Returns
        -------
        list of Parameter
            The parameters (empty for a layer without any).

        Examples
        --------
        >>> [p.shape for p in nn.Linear(4, 2).parameters()]
        [(4, 2), (2,)]
        >>> nn.ReLU().parameters()
        []
        """
        if self._written_in_python():
            return [p for _, p in python_layer.attribute_parameters(self)]
        return list(self.core().parameters()) if self._fixed_dtype is not None else []

    def buffers(self) -> List[Parameter]:
        """The saved but untrained state, such as BatchNorm's running statistics.

        Returns
        -------
        list of Parameter
            The buffers (empty for most layers); saving and loading include them.

        Examples
        --------
        >>> [b.name for b in nn.BatchNorm(3).buffers()]
        ['running_mean', 'running_var']
        """
        return list(self.core().buffers()) if self._fixed_dtype is not None else []

    def named_parameters(self) -> List[Tuple[str, Parameter]]:
        """The trainable parameters with their names, in the order of `parameters`.

        Names are PyTorch's where the layer is PyTorch's ("weight", "bias", "weight_ih_l0"); containers
        prefix the inner layer's index ("0.weight").

        Returns
        -------
        list of (str, Parameter)
            (name, parameter) pairs.

        Examples
        --------
        >>> [name for name, _ in nn.Linear(4, 2).named_parameters()]
        ['weight', 'bias']
        """
        if self._written_in_python():
            return python_layer.named_parameters(self)
        return [(p.name, p) for p in self.parameters()]

    def named_buffers(self) -> List[Tuple[str, Parameter]]:
        """The buffers with their names, in the order of `buffers`.

        Returns
        -------
        list of (str, Parameter)
            (name, buffer) pairs.

        Examples
        --------
        >>> [name for name, _ in nn.BatchNorm(3).named_buffers()]
        ['running_mean', 'running_var']
        """
        return [(b.name, b) for b in self.buffers()]

    def _core_for_batch(self, x, where):
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"[{self.name}.{where}] x must be a numpy array (samples, *sample_shape) of 2 or more "
                             "dimensions")
        core = self.core(self._fixed_dtype or x.dtype)
        if tuple(core.in_shape) != x.shape[1:]:
            core.build(list(x.shape[1:]))
        return core

    def _input_for_core(self, x, where):
        """x as the C++ layer reads it: its own dtype, or int64 indices for a layer that takes them."""
        if not self.takes_indices:
            return c_array(x)
        return index_array(x, "x", f"{self.name}.{where}")

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Run this layer alone on a batch of numpy arrays.

        The layer keeps what `backward` needs. A layer written in Python overrides this method (see the
        class).

        Parameters
        ----------
        x : numpy.ndarray
            A batch (samples, *sample_shape) of the layer's dtype (integer indices for Embedding).
        training : bool, default False
            Training behaviour (dropout active, batch statistics, running statistics updated).

        Returns
        -------
        numpy.ndarray
            A new array (samples, *output_sample_shape).

        Raises
        ------
        ValueError
            If `x` is not a numpy array of 2 or more dimensions or its sample shape does not fit the layer.
        TypeError
            If `x` has a dtype the layer cannot run in.

        Examples
        --------
        >>> nn.Linear(4, 2).forward(np.ones((3, 4), np.float32)).shape
        (3, 2)
        """
        core = self._core_for_batch(x, "forward")
        return core.forward(self._input_for_core(x, "forward"), flag(training, "training", f"{self.name}.forward"))

    def backward(self, x: np.ndarray, y: np.ndarray, dy: np.ndarray, accumulate: bool = False) -> np.ndarray:
        """The gradient with respect to x of the last `forward`, writing the parameters' gradients.

        Parameters
        ----------
        x : numpy.ndarray
            The input of the last `forward`.
        y : numpy.ndarray
            Its output.
        dy : numpy.ndarray
            dLoss/dy, shaped as `y`.
        accumulate : bool, default False
            Add to the parameters' gradients instead of overwriting them.

        Returns
        -------
        numpy.ndarray
            dLoss/dx, shaped as `x`.

        Raises
        ------
        ValueError
            If `x` is not a numpy array of 2 or more dimensions or the shapes do not fit the layer.

        Examples
        --------
        >>> layer = nn.Linear(4, 2)
        >>> x = np.ones((3, 4), np.float32)
        >>> y = layer.forward(x)
        >>> layer.backward(x, y, np.ones_like(y)).shape
        (3, 4)
        >>> layer.weight.grad.shape
        (4, 2)
        """
        core = self._core_for_batch(x, "backward")
        where = f"{self.name}.backward"
        y, dy = (as_array(value, name, where) for value, name in ((y, "y"), (dy, "dy")))
        return core.backward(self._input_for_core(x, "backward"), c_array(y), c_array(dy), bool(accumulate))

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data.

        ``type(layer).from_config(layer.get_config())`` makes the same layer (with freshly initialised
        parameters, unless the config holds their seed). A layer written in Python returns the attributes
        named as its constructor's arguments.

        Returns
        -------
        dict
            {keyword: value}, JSON-able.

        Raises
        ------
        ValueError
            For a layer written in Python that does not keep a constructor argument as a plain-data
            attribute of the same name (define ``get_config`` then).

        Examples
        --------
        >>> nn.Dropout(0.25, seed=1).get_config()
        {'p': 0.25, 'seed': 1}
        """
        return python_layer.default_config(self) if self._written_in_python() else {}

    @classmethod
    def from_config(cls: Type[_Self], config: Dict[str, Any]) -> _Self:
        """Make a new layer from `get_config`'s output.

        Parameters
        ----------
        config : dict
            The constructor's keywords.

        Returns
        -------
        Layer
            A new layer of this class.

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If the config does not fit the class (an unknown, missing or non-str keyword), or holds a
            value the constructor rejects.

        Examples
        --------
        >>> nn.Linear.from_config(nn.Linear(4, 2).get_config()).weight.shape
        (4, 2)
        """
        if not isinstance(config, dict):
            raise TypeError(f"[{cls.__name__}.from_config] config must be a dict (get_config()'s output); got "
                            f"{type(config).__name__}")
        try:
            inspect.signature(cls).bind(**config)
        except TypeError as error:  # an unknown, missing or non-str keyword
            raise ValueError(f"[{cls.__name__}.from_config] the config does not fit {cls.__name__}: {error}") from None
        return cls(**config)

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the parameters and buffers a layer made from `config` holds, from the config alone.

        Loading compares a file's tensors with them before building anything, so a small file cannot make
        bprop allocate what its config claims. A layer written in Python (registered by the user, whose
        code it is) is made from the config to read them.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            {tensor name: shape}.

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If a size the shapes depend on is missing or not an integer >= 1.

        Examples
        --------
        >>> nn.Linear.tensor_shapes({"in_features": 4, "out_features": 2})
        {'weight': (4, 2), 'bias': (2,)}
        """
        if cls._written_in_python():
            return {name: tuple(p.shape) for name, p in cls.from_config(config).named_parameters()}
        return {}

    def __repr__(self):
        try:
            config = self.get_config()
        except (TypeError, ValueError):  # a Python layer whose config cannot be read: its name still shows
            return f"{self.name}(...)"
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{self.name}({args})"


def config_size(config, key, where):
    """config[key], a size >= 1, checked: what tensor_shapes reads from a config it has not built."""
    if not isinstance(config, dict):
        raise TypeError(f"[{where}.tensor_shapes] config must be a dict; got {type(config).__name__}")
    if key not in config:
        raise ValueError(f"[{where}.tensor_shapes] the config has no {key!r}")
    return integer(config[key], key, where, minimum=1)



def serialize(layer):
    """{"class": name, "config": get_config()}: a layer as plain data (what saved models hold)."""
    return {"class": layer.name, "config": layer.get_config()}


def layer_class(entry):
    """The bprop layer class a serialized entry names; ValueError for anything else."""
    if not isinstance(entry, dict) or set(entry) != {"class", "config"}:
        raise ValueError(f"[nn.deserialize] expected {{'class': ..., 'config': {{...}}}}; got {entry!r:.200}")
    name = entry["class"] if isinstance(entry["class"], str) else None
    cls = getattr(_scope, "classes", {}).get(name) or _LAYER_CLASSES.get(name)
    if cls is None:
        raise ValueError(f"[nn.deserialize] unknown layer class {entry['class']!r:.100}; expected one of "
                         f"{', '.join(_LAYER_CLASSES)}. A layer class of your own must be registered before "
                         f"loading: decorate it with @bprop.nn.register_layer, or pass "
                         f"custom_objects={{{entry['class']!r:.100}: {entry['class']!s:.100}}} to bprop.load")
    if not isinstance(entry["config"], dict):
        raise ValueError(f"[nn.deserialize] the config of {cls.__name__} must be a dict")
    return cls


def deserialize(entry):
    """A new layer from serialize()'s output. Only bprop's own layer classes are made (a file never
    names code to run); ValueError or TypeError for anything else."""
    return layer_class(entry).from_config(entry["config"])
