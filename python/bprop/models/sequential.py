"""Sequential: layers in order, run as one C++ network (one call per batch, not per layer). It is a layer
too, so a Sequential can sit in another Sequential or in a Residual."""
from typing import Any, Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from .._checks import LARGEST, all_finite, as_array, c_array, flag, index_array, integer
from .._dtypes import core_class, resolve_dtype
from .._mode import TrainingFlag
from ..autograd.tensor import Tensor, as_tensor
from ..io import pickling
from ..io.saving import register_architecture
from ..nn.layers.base import Layer, deserialize, serialize
from ..nn.layers.containers import (LayerStack, check_layers, config_layers, first_input_shape, fixed_dtype,
                                    stack_tensor_shapes)
from ..random import resolve_seed
from .trainable import Trainable

__all__ = ["Sequential"]

_FLOAT32 = np.dtype(np.float32)


def _checked_sample_shape(shape):
    """A sample shape as a tuple of positive ints (an int n is (n,)); ValueError otherwise."""
    sizes = (shape,) if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) else shape
    try:
        sizes = tuple(sizes)
        valid = len(sizes) > 0 and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and
                                       1 <= s <= LARGEST for s in sizes)
    except TypeError:
        valid = False
    if not valid:
        raise ValueError(f"[Sequential.build] the sample shape must be a positive integer or a tuple of them; got "
                         f"{shape!r}")
    return tuple(int(s) for s in sizes)


@register_architecture
class Sequential(LayerStack, Layer, Trainable):
    """A stack of layers. ``forward``/``backward`` run the whole stack on a batch in one C++ call.

    dtype: float32 (default) or float64; by default the dtype the layers with parameters were made with.
    Inputs of another dtype (float64, integers) are converted to it once per call, never rejected.

    As a layer of another Sequential or of a Residual, it is one step of that network (the C++ Sequential is
    a layer); its parameters are named under its index there ("1.0.weight"). Without parameters and without
    a dtype given, it takes the dtype of the stack it joins, like an activation.

    Parameters
    ----------
    layers : sequence of Layer
        The layers, in order (each used in one model only).
    dtype : str or numpy.dtype, optional
        ``"float32"`` or ``"float64"``.

    Raises
    ------
    TypeError
        If layers is not a sequence of bprop layers, or dtype is not a float dtype.
    ValueError
        If layers is empty, the layers' dtypes disagree, or consecutive layers do not chain.

    Examples
    --------
    >>> model = bprop.Sequential([nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)])
    >>> model = model.compile(loss=nn.MSE(), optimizer=optim.Adam(model.parameters(), lr=0.01))
    >>> x, y = bprop.datasets.xor()
    >>> history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    >>> model.predict(x).shape
    (4, 1)
    """

    training = TrainingFlag()  # what calling the model on a tensor uses; fit/predict choose their own
    _model: Any  # the C++ Model once built (None until then)
    _sample_shape: tuple[int, ...] | None

    def __init__(self, layers: Sequence[Layer], dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.layers = check_layers(layers, "Sequential")
        self._fixed_dtype = resolve_dtype(dtype, "Sequential") if dtype is not None else fixed_dtype(self.layers,
                                                                                                      "Sequential")
        self._net = self.core(self.dtype)  # the C++ network fit, predict and forward run
        self._model = self._sample_shape = None
        self._takes_indices = self._net.takes_indices
        self._shape_fixed = False  # True once data or build() gave the sample shape (not the layers' guess)
        implied = first_input_shape(self.layers)
        if implied is not None:
            try:
                self._build(implied)
            except ValueError:
                # A stack that reshapes may need samples of more axes than its first layer implies (a Linear
                # on (time, features), then Flatten): its data or build() will say. Without a reshaping layer,
                # layers that do not chain are an error now.
                if all(layer.keeps_shape or layer.implied_input_shape() is not None for layer in self.layers):
                    raise

    @property
    def dtype(self) -> np.dtype:
        """The dtype the model computes in: the one given or fixed by its layers, else float32."""
        return self._fixed_dtype or _FLOAT32

    # -- as a layer ------------------------------------------------------------------------------------
    def _make_core(self, dtype):
        return core_class("Sequential", dtype)([layer.core(dtype) for layer in self.layers])

    def implied_input_shape(self) -> tuple[int, ...] | None:
        """Return the sample shape the first layers imply (a Linear first: ``(in_features,)``).

        Returns
        -------
        tuple of int or None
            The shape, or None when the first layers work on any shape (activations, say).

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 3), nn.ReLU()]).implied_input_shape()
        (2,)
        """
        return first_input_shape(self.layers)

    # -- building -------------------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        """(None, *sample_shape) of the inputs, as Keras writes it, or None until the model is built.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 3)]).input_shape
        (None, 2)
        """
        return None if self._model is None else (None, *self._model.in_shape)

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        """(None, *output_sample_shape) of the outputs, or None until the model is built.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 3)]).output_shape
        (None, 3)
        """
        return None if self._model is None else (None, *self._model.out_shape)

    @property
    def in_features(self) -> int | None:
        """The last axis of an input sample (a dense model's input width), or None until built.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 3)]).in_features
        2
        """
        return None if self._model is None else self._model.in_shape[-1]

    @property
    def out_features(self) -> int | None:
        """The last axis of an output sample (a dense model's output width), or None until built.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 3)]).out_features
        3
        """
        return None if self._model is None else self._model.out_shape[-1]

    def build(self, sample_shape: int | Sequence[int]) -> "Sequential":
        """Fix the shape of one input sample.

        Done at construction when the first layers imply it (a Linear first: ``(in_features,)``), else by
        the first data; call it to build a model before it sees data (for summary(), say).

        Parameters
        ----------
        sample_shape : int or sequence of int
            The shape of one sample, without the batch axis (an int n means ``(n,)``).

        Returns
        -------
        Sequential
            The model itself.

        Raises
        ------
        ValueError
            If the shape is not positive integers, the layers cannot take it, or the model was already
            built for another shape.

        Examples
        --------
        >>> model = bprop.Sequential([nn.ReLU(), nn.Linear(4, 2)]).build(4)
        >>> model.output_shape
        (None, 2)
        """
        shape = _checked_sample_shape(sample_shape)
        if self._shape_fixed and shape != self._sample_shape:
            raise ValueError(f"[Sequential] expects samples of shape {self._sample_shape}; got {shape}")
        self._build(shape)
        self._shape_fixed = True
        return self

    def _build(self, shape):
        if self._model is None or self._sample_shape != shape:
            self._model = core_class("Model", self.dtype)(self._net, list(shape))
            self._sample_shape = shape  # kept as a tuple: as_batch compares it on every call

    def as_batch(self, x: ArrayLike, where: str, name: str = "x") -> np.ndarray:
        """Return x as a batch the model can run: C-contiguous (samples, *sample_shape), the model's dtype.

        Checked (shape, finiteness) before any work. The first data fix the sample shape when the layers
        only implied it.

        Parameters
        ----------
        x : array_like
            The samples.
        where : str
            The name of the calling method, for error messages.
        name : str, default "x"
            The argument's name, for error messages.

        Returns
        -------
        numpy.ndarray
            The checked batch (x itself when it already fits); int64 indices for a model that starts
            with an Embedding.

        Raises
        ------
        ValueError
            If x is not 2-D or more, is empty, has samples of another shape, or contains NaN or Inf.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(2, 1)])
        >>> model.as_batch([[1, 2]], "example").dtype
        dtype('float32')
        """
        x = as_array(x, name, where)
        if x.ndim < 2:
            raise ValueError(f"[{where}] {name} must be 2-D or more (samples, *sample_shape); got shape {x.shape}")
        if x.shape[0] == 0:
            raise ValueError(f"[{where}] {name} is empty")
        sample, expected = x.shape[1:], self._sample_shape
        if sample != expected:
            if self._shape_fixed or (expected is not None and len(expected) == len(sample) == 1):
                if expected is not None and len(expected) == len(sample) == 1:
                    raise ValueError(f"[{where}] {name} has {sample[0]} features; the model expects {expected[0]}")
                raise ValueError(f"[{where}] {name} has samples of shape {sample}; the model expects {expected}")
            self._build(sample)
        self._shape_fixed = True
        if self._takes_indices:  # an Embedding first: int64 indices, their range checked in C++
            return index_array(x, name, where)
        x = c_array(x, self.dtype)
        if not all_finite(x):
            raise ValueError(f"[{where}] {name} contains NaN or Inf")
        return x

    # -- one batch, by hand -------------------------------------------------------------------------
    def forward(self, x: ArrayLike, training: bool = False) -> np.ndarray:
        """Return the network's output for a batch, keeping what backward() needs.

        Parameters
        ----------
        x : array_like
            The batch, (samples, *sample_shape).
        training : bool, default False
            Run the layers in training mode (Dropout active, BatchNorm on batch statistics).

        Returns
        -------
        numpy.ndarray
            The outputs, a new array.

        Raises
        ------
        ValueError
            As :meth:`as_batch`, for a batch of the wrong shape or with NaN or Inf.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(2, 3), nn.ReLU()])
        >>> model.forward(np.ones((5, 2))).shape
        (5, 3)
        """
        batch = self.as_batch(x, "Sequential.forward")
        return self._model.forward(batch, bool(training))

    # As a model, backward takes the output's gradient only (a Layer's also takes x and y): a different
    # signature by design, so mypy's override check is silenced here.
    def backward(self, grad_out: ArrayLike, accumulate: bool = False) -> None:  # type: ignore[override]
        """Back-propagate ∂loss/∂output of the last forward: fills every parameter's gradient.

        Parameters
        ----------
        grad_out : array_like
            The gradient of the loss with respect to the last forward's output, of its shape.
        accumulate : bool, default False
            Add to the parameters' gradients instead of overwriting them.

        Raises
        ------
        ValueError
            If forward was not called, or grad_out has the wrong shape or contains NaN or Inf.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(2, 1)])
        >>> out = model.forward(np.ones((4, 2)), training=True)
        >>> model.backward(np.ones_like(out))
        >>> model.parameters()[1].grad
        array([4.], dtype=float32)
        """
        if self._model is None:
            raise ValueError("[Sequential.backward] call forward first")
        grad_out = c_array(as_array(grad_out, "grad_out", "Sequential.backward"), self.dtype)
        if not all_finite(grad_out):
            raise ValueError("[Sequential.backward] grad_out contains NaN or Inf")
        self._model.backward(grad_out, bool(accumulate))

    # -- on tensors (autograd) ------------------------------------------------------------------------
    def __call__(self, x: Any) -> Tensor:
        """The whole stack on a tensor (..., features) as one graph node (inside a Module, say); its
        backward is the stack's own."""
        return self._net.graph_forward(as_tensor(x, dtype=self.dtype), self.training)

    def train(self, mode: bool = True) -> "Sequential":
        """Set training mode (what calling the model on a tensor uses; fit and predict choose their own).

        Parameters
        ----------
        mode : bool, default True
            True for training (Dropout active, BatchNorm on batch statistics), False for evaluation.

        Returns
        -------
        Sequential
            The model itself.

        Raises
        ------
        TypeError
            If mode is not a bool.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 1)]).train().training
        True
        """
        self.training = flag(mode, "mode", f"{type(self).__name__}.train")
        return self

    def eval(self) -> "Sequential":
        """Set evaluation mode: ``train(False)``.

        Returns
        -------
        Sequential
            The model itself.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 1)]).eval().training
        False
        """
        return self.train(False)

    def reseed(self, seed: int) -> None:
        """Restart the random layers (Dropout) from seeds derived from seed.

        Parameters
        ----------
        seed : int
            An integer in [0, 2**64).

        Raises
        ------
        ValueError
            If seed is not such an integer.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(2, 2), nn.Dropout(0.5)])
        >>> model.reseed(1)
        >>> first = model.forward(np.ones((1, 2)), training=True)
        >>> model.reseed(1)
        >>> bool(np.array_equal(first, model.forward(np.ones((1, 2)), training=True)))
        True
        """
        seed = resolve_seed(seed, "Sequential.reseed", none_allowed=False)
        for core in self._cores.values():  # the model's network, and those of other dtypes it ran in as a layer
            core.reseed(seed)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(2, 1)])
        >>> model.backward(model.forward(np.ones((1, 2)), training=True))
        >>> model.zero_grad()
        >>> model.parameters()[1].grad
        array([0.], dtype=float32)
        """
        for p in self.parameters():
            p.zero_grad()

    # -- parameters and weights (parameters(), buffers() and their named forms: LayerStack) ----------------
    def get_weights(self) -> list[np.ndarray]:
        """Return copies of every parameter, then every buffer (BatchNorm statistics), as numpy arrays.

        Returns
        -------
        list of numpy.ndarray
            In the order of ``parameters() + buffers()``.

        Examples
        --------
        >>> [w.shape for w in bprop.Sequential([nn.Linear(2, 3)]).get_weights()]
        [(2, 3), (3,)]
        """
        return [t.value() for t in self.parameters() + self.buffers()]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Assign arrays in get_weights() order. Every array is checked before any is assigned.

        Parameters
        ----------
        weights : list or tuple of array_like
            One array per parameter and buffer, of their shapes, finite.

        Raises
        ------
        TypeError
            If weights is not a list or tuple.
        ValueError
            If the count or a shape differs, or an array contains NaN or Inf.

        Examples
        --------
        >>> a, b = bprop.Sequential([nn.Linear(2, 3)]), bprop.Sequential([nn.Linear(2, 3)])
        >>> b.set_weights(a.get_weights())
        >>> bool(np.array_equal(a.forward(np.ones((1, 2))), b.forward(np.ones((1, 2)))))
        True
        """
        targets = self.parameters() + self.buffers()
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"[Sequential.set_weights] weights must be a list of arrays (get_weights()'s output); got "
                            f"{type(weights).__name__}")
        weights = list(weights)
        if len(weights) != len(targets):
            raise ValueError(f"[Sequential.set_weights] expected {len(targets)} arrays; got {len(weights)}")
        converted = []
        for i, (target, w) in enumerate(zip(targets, weights)):
            w = c_array(as_array(w, f"array {i}", "Sequential.set_weights"), self.dtype)
            if w.shape != tuple(target.shape):
                raise ValueError(f"[Sequential.set_weights] array {i} ({target.name}) has shape {w.shape}; "
                                 f"expected {tuple(target.shape)}")
            if not all_finite(w):
                raise ValueError(f"[Sequential.set_weights] array {i} ({target.name}) contains NaN or Inf")
            converted.append(w)
        for target, w in zip(targets, converted):
            target.set_value(w)

    def count_params(self) -> int:
        """Return the number of trainable values (buffers not included).

        Returns
        -------
        int
            The sum of the parameters' sizes.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 3), nn.Linear(3, 1)]).count_params()
        13
        """
        return int(sum(p.size for p in self.parameters()))

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print each layer with its output shape and parameter count.

        A nested Sequential's layers are listed, indented, under its own row (Keras's expand_nested).

        Parameters
        ----------
        print_fn : callable, default print
            Called once with the whole table as one str.

        Examples
        --------
        >>> bprop.Sequential([nn.Linear(2, 3), nn.ReLU()]).summary()  # doctest: +NORMALIZE_WHITESPACE
        Sequential (float32)
        ----------------------------
        Layer   Output shape  Params
        ----------------------------
        Linear  (None, 3)          9
        ReLU()  (None, 3)          0
        ----------------------------
        Total params: 9
        """
        built = self._model is not None
        rows = [("Layer", "Output shape", "Params")] + self._summary_rows(self.dtype, built, "")
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows]
        rule = "-" * len(lines[0])
        text = "\n".join([f"Sequential ({self.dtype})", rule, lines[0], rule, *lines[1:], rule,
                          f"Total params: {self.count_params():,}"])
        print_fn(text)

    def _summary_rows(self, dtype, built, indent):
        """(layer, output shape, parameter count) per layer run in `dtype`; shapes once the model is built."""
        rows = []
        for layer in self.layers:
            out = layer.core(dtype).out_shape if built else None
            text = repr(layer)
            rows.append((indent + (text if len(text) < 48 and "\n" not in text else layer.name),
                         str((None, *out)) if out else "?", str(sum(p.size for p in layer.parameters()))))
            nested = getattr(layer, "_summary_rows", None)
            if nested is not None:
                rows += nested(dtype, built, indent + "  ")
        return rows

    # -- training (compile, fit, evaluate: Trainable) ---------------------------------------------
    def _training_loop(self, loss, optimizer, metrics):
        """The trainer's loop for this model: the C++ one, whole epochs per call."""
        return core_class("Trainer", self.dtype)(self._model, loss.core(self.dtype),
                                                 None if optimizer is None else optimizer.core, metrics)

    def predict(self, x: "ArrayLike", batch_size: int = 256) -> np.ndarray:  # text: help() shows ArrayLike
        """Outputs for x in evaluation mode, computed batch_size samples at a time.

        Evaluation mode: no dropout, BatchNorm with its running statistics. The model need not be
        compiled.

        Parameters
        ----------
        x : array_like
            Inputs, shape (n, *sample_shape); integer indices for a model that starts with an Embedding.
        batch_size : int, default 256
            Samples per forward pass; the outputs do not depend on it beyond float rounding.

        Returns
        -------
        numpy.ndarray
            The outputs, shape (n, *output_shape), in the model's dtype (logits for a model trained with a
            cross-entropy: apply the softmax or sigmoid for probabilities).

        Raises
        ------
        ValueError
            If x is empty, holds NaN or Inf, or does not fit the model's input shape, or batch_size is below 1.
        TypeError
            If x or batch_size is of the wrong type.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(3, 2)])
        >>> model.predict(np.zeros((5, 3), np.float32)).shape
        (5, 2)
        """
        if (type(x) is np.ndarray and type(batch_size) is int and batch_size >= 1 and self._shape_fixed
                and x.shape[1:] == self._sample_shape and len(x) and x.dtype == self.dtype and not self._takes_indices
                and x.flags.c_contiguous and x.flags.aligned):  # the usual call, checked the same way in one crossing
            return self._model.predict(x, min(batch_size, len(x)), True)
        batch_size = integer(batch_size, "batch_size", "predict", minimum=1, maximum=None)
        x = self.as_batch(x, "predict")
        return self._model.predict(x, min(batch_size, len(x)))

    # -- pickle and copy (io/pickling.py) -------------------------------------------------------------------
    def __reduce__(self):
        """Pickled as its layers, dtype, sample shape, mode and compile settings (optimizer state included)."""
        return pickling.reduce_sequential(self)

    def __setstate__(self, state):
        pickling.set_sequential_state(self, state)

    # -- config ---------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Return the architecture as plain data: the layers (serialized), the dtype and the sample shape.

        Returns
        -------
        dict
            JSON-serializable; :meth:`from_config` makes a new model from it.

        Examples
        --------
        >>> config = bprop.Sequential([nn.Linear(2, 3)]).get_config()
        >>> config["dtype"], config["input_shape"], config["layers"][0]["class"]
        ('float32', [2], 'Linear')
        """
        return {"layers": [serialize(layer) for layer in self.layers],
                "dtype": None if self._fixed_dtype is None else self._fixed_dtype.name,
                "input_shape": None if self._model is None else list(self._model.in_shape)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Sequential":
        """Make a new Sequential (freshly initialised) from get_config()'s output.

        Parameters
        ----------
        config : dict
            What :meth:`get_config` returned.

        Returns
        -------
        Sequential
            A model of the same architecture, not sharing weights.

        Raises
        ------
        ValueError
            If the config is not a Sequential's (missing or unknown layers).

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(2, 3)])
        >>> bprop.Sequential.from_config(model.get_config()).output_shape
        (None, 3)
        """
        model = cls([deserialize(entry) for entry in config_layers(config, "Sequential")], dtype=config.get("dtype"))
        shape = config.get("input_shape", config.get("in_features"))  # files before N-D samples: in_features
        if shape is not None:
            model.build(shape)
        return model

    @classmethod
    def tensor_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        """Return {name: shape} of the parameters and buffers from_config(config) would hold.

        Computed from the config alone, without making the model (to check a file before loading it).

        Parameters
        ----------
        config : dict
            What :meth:`get_config` returned.

        Returns
        -------
        dict
            Parameter and buffer names ("0.weight") to their shapes.

        Examples
        --------
        >>> config = bprop.Sequential([nn.Linear(2, 3)]).get_config()
        >>> bprop.Sequential.tensor_shapes(config)
        {'0.weight': (2, 3), '0.bias': (3,)}
        """
        return stack_tensor_shapes(config_layers(config, "Sequential"))

    def __repr__(self):
        inner = ",\n    ".join(repr(layer).replace("\n", "\n    ") for layer in self.layers)
        return f"Sequential([\n    {inner},\n])"
