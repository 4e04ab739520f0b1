"""Module: a model written as Python code over tensors, as in PyTorch.

Layers, Sequentials, other Modules and Parameters assigned as attributes (directly or in a list or
tuple) are registered in assignment order; ``parameters()`` gathers them, so an optimizer can be made
from it. ``forward`` is ordinary code on tensors: each layer call and each operation records a graph
node, and ``loss.backward()`` runs the layers' own backward passes. A Module trains like a Sequential
(``compile``/``fit``/``evaluate``/``predict``); its batches are then run from Python, one graph each.
"""
import copy
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import all_finite, as_array, c_array, flag, integer
from .._mode import TrainingFlag, evaluating
from ..autograd.parameter import is_parameter
from ..autograd.tensor import Tensor, no_grad, tensor
from ..io import pickling
from ..nn.layers.base import Layer
from ..random import resolve_seed
from ..training.module_loop import ModuleLoop
from .trainable import Trainable

__all__ = ["Module"]


def _is_child(value):
    return isinstance(value, (Module, Layer))  # a Sequential is a layer


def _registrable(value):
    """Children, parameters, or a non-empty list/tuple made only of them."""
    if _is_child(value) or is_parameter(value):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        _is_child(item) or is_parameter(item) for item in value)


class Module(Trainable):
    """Base class of custom models: assign layers and parameters in ``__init__``, define ``forward``.

    Layers, Sequentials, other Modules and Parameters assigned as attributes (directly or in a list or
    tuple) are registered in assignment order. A Module trains like a Sequential (compile, fit, evaluate,
    predict); its batches are run from Python, one graph each.

    Raises
    ------
    TypeError
        When a layer or parameter is assigned before ``super().__init__()`` ran.

    Examples
    --------
    >>> class Net(bprop.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(2, 8)
    ...         self.out = nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> net = Net()
    >>> net(bprop.tensor(np.ones((3, 2), np.float32))).shape
    (3, 1)
    >>> [name for name, _ in net.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training = TrainingFlag()  # True until eval(); False inside predict/evaluate (on their thread only)
    _input_shape = _out_features = None  # until fit/evaluate/predict sees data

    def __init__(self) -> None:
        object.__setattr__(self, "_registered", {})  # attribute name -> child, parameter or list of them
        object.__setattr__(self, "_input_shape", None)
        object.__setattr__(self, "_out_features", None)

    def __setattr__(self, name, value):
        registered = self.__dict__.get("_registered")
        if registered is None:
            if _registrable(value):
                raise TypeError(f"[{type(self).__name__}] call super().__init__() before assigning {name!r}")
        else:
            registered.pop(name, None)
            if _registrable(value):
                registered[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self.__dict__.get("_registered", {}).pop(name, None)
        object.__delattr__(self, name)

    # -- pickle and copy (io/pickling.py) ---------------------------------------------------------------
    def __getstate__(self):
        """Its attributes (layers and parameters pickle as themselves), with its compile settings and
        optimizer state in place of its trainer."""
        return pickling.module_state(self)

    def __setstate__(self, state):
        pickling.set_module_state(self, state)

    def __copy__(self):
        """A deep copy: a shallow one would share its layers' storage with the original."""
        return copy.deepcopy(self)

    # -- running ----------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output: a subclass defines it, as ordinary code on tensors.

        Parameters
        ----------
        *args, **kwargs
            What the subclass takes (fit, evaluate and predict pass one tensor of a batch of samples).

        Returns
        -------
        Tensor
            The output (fit, evaluate and predict need one row per sample).

        Raises
        ------
        TypeError
            Here, in the base class: a subclass must define forward.

        Examples
        --------
        >>> class Double(bprop.Module):
        ...     def forward(self, x):
        ...         return x * 2
        >>> Double()(bprop.tensor([1.0])).numpy()
        array([2.])
        """
        raise TypeError(f"[{type(self).__name__}] defines no forward(...); a Module subclass computes its output there")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def train(self, mode: bool = True) -> "Module":
        """Set training behaviour (dropout, batch statistics) for this module and everything in it.

        Parameters
        ----------
        mode : bool, default True
            True for training, False for evaluation.

        Returns
        -------
        Module
            The module itself.

        Raises
        ------
        TypeError
            If mode is not a bool.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.fc = nn.Linear(2, 1)
        >>> net.train(False).fc.training
        False
        """
        self.__dict__["_training"] = flag(mode, "mode", f"{type(self).__name__}.train")
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation behaviour: ``train(False)``.

        Returns
        -------
        Module
            The module itself.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.fc = nn.Linear(2, 1)
        >>> net.eval().training
        False
        """
        return self.train(False)

    # -- what it holds ------------------------------------------------------------------------------
    def _items(self):
        """(name, value) for each registered child or parameter, lists expanded as name.0, name.1, ..."""
        registered = self.__dict__.get("_registered")
        if registered is None:
            raise TypeError(f"[{type(self).__name__}] its __init__ must call super().__init__() first")
        for name, value in registered.items():
            if isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    yield f"{name}.{i}", item
            else:
                yield name, value

    def named_children(self) -> list[tuple[str, Any]]:
        """Return (name, child) for each registered layer, Sequential or Module, lists expanded.

        Returns
        -------
        list of tuple
            In assignment order; a list attribute ``blocks`` gives ``blocks.0``, ``blocks.1``, ...

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.fc = nn.Linear(2, 1)
        >>> [name for name, _ in net.named_children()]
        ['fc']
        """
        return [(name, value) for name, value in self._items() if not is_parameter(value)]

    def named_parameters(self) -> list[tuple[str, Any]]:
        """Return (dotted name, Parameter) for every trainable parameter, each once, in registration order.

        Returns
        -------
        list of tuple
            A parameter shared by two children is listed once, under its first name.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.fc = nn.Linear(2, 1)
        >>> [name for name, _ in net.named_parameters()]
        ['fc.weight', 'fc.bias']
        """
        return self._named("parameters")

    def named_buffers(self) -> list[tuple[str, Any]]:
        """Return (dotted name, buffer) for the saved, untrained state (BatchNorm running statistics).

        Returns
        -------
        list of tuple
            In registration order.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.bn = nn.BatchNorm1d(3)
        >>> [name for name, _ in net.named_buffers()]
        ['bn.running_mean', 'bn.running_var']
        """
        return self._named("buffers")

    def _named(self, kind):
        seen, out = set(), []
        for name, value in self._items():
            if is_parameter(value):
                pairs = [(name, value)] if kind == "parameters" else []
            else:  # a layer, Sequential or Module names its own
                pairs = [(f"{name}.{inner}", p) for inner, p in getattr(value, f"named_{kind}")()]
            for full_name, p in pairs:
                if p not in seen:
                    seen.add(p)
                    out.append((full_name, p))
        return out

    def parameters(self) -> list[Any]:
        """Return every trainable parameter, each once, in registration order (for an optimizer).

        Returns
        -------
        list of Parameter
            The parameters of :meth:`named_parameters`.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.fc = nn.Linear(2, 1)
        >>> [tuple(p.shape) for p in net.parameters()]
        [(2, 1), (1,)]
        """
        return [p for _, p in self.named_parameters()]

    def buffers(self) -> list[Any]:
        """Return the buffers (BatchNorm running statistics), in registration order.

        Returns
        -------
        list of Parameter
            The buffers of :meth:`named_buffers`.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.bn = nn.BatchNorm1d(3)
        >>> len(net.buffers())
        2
        """
        return [b for _, b in self.named_buffers()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.fc = nn.Linear(2, 1)
        >>> net.fc(bprop.tensor(np.ones((1, 2), np.float32))).sum().backward()
        >>> net.zero_grad()
        >>> net.fc.bias.grad
        array([0.], dtype=float32)
        """
        for p in self.parameters():
            p.zero_grad()

    def count_params(self) -> int:
        """Return the number of trainable values.

        Returns
        -------
        int
            The sum of the parameters' sizes.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.fc = nn.Linear(2, 1)
        >>> net.count_params()
        3
        """
        return int(sum(p.size for p in self.parameters()))

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype (float32 when there are none).

        Examples
        --------
        >>> bprop.Module().dtype
        dtype('float32')
        """
        parameters = self.parameters()
        return np.dtype(parameters[0].dtype if parameters else np.float32)

    def reseed(self, seed: int | None) -> None:
        """Restart every random layer (Dropout) from seeds derived from seed.

        Parameters
        ----------
        seed : int or None
            An integer in [0, 2**64); None takes the next seed of the global source (manual_seed).

        Raises
        ------
        ValueError
            If seed is not such an integer.

        Examples
        --------
        >>> net = bprop.Module()
        >>> net.drop = nn.Dropout(0.5)
        >>> x = bprop.tensor(np.ones((1, 8), np.float32))
        >>> _ = net.drop(x)
        >>> net.reseed(3)
        >>> first = net.drop(x).numpy().copy()
        >>> net.reseed(3)
        >>> bool(np.array_equal(first, net.drop(x).numpy()))
        True
        """
        seed = resolve_seed(seed, type(self).__name__)
        for i, (_, child) in enumerate(self.named_children()):
            child_seed = (seed + 0x9E3779B97F4A7C15 * (i + 1)) % 2**64
            if isinstance(child, Layer):
                child.__dict__["_reseeded_to"] = child_seed  # for a core made later (the layer has not run yet)
                for core in child._cores.values():
                    core.reseed(child_seed)
            else:
                child.reseed(child_seed)

    # -- training through Trainer (fit / evaluate / predict) ---------------------------------------
    @property
    def in_features(self) -> int | None:
        """The per-sample input shape's last size, once fit/evaluate/predict has seen data (else None).

        Examples
        --------
        >>> print(bprop.Module().in_features)
        None
        """
        return None if self._input_shape is None else self._input_shape[-1]

    @property
    def out_features(self) -> int | None:
        """The output width, once fit/evaluate/predict has seen data (else None).

        Examples
        --------
        >>> print(bprop.Module().out_features)
        None
        """
        return self._out_features

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        """(None, *sample_shape) once fit/evaluate/predict has seen data, else None.

        Examples
        --------
        >>> print(bprop.Module().input_shape)
        None
        """
        return None if self._input_shape is None else (None, *self._input_shape)

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        """(None, out_features) once fit/evaluate/predict has seen data, else None.

        Examples
        --------
        >>> print(bprop.Module().output_shape)
        None
        """
        return None if self._out_features is None else (None, self._out_features)

    def as_batch(self, x: ArrayLike, where: str, name: str = "x") -> np.ndarray:
        """Return x (samples first) as a C-contiguous array of the model's dtype, checked.

        The first batch also fixes the input and output shapes, by running the module on one sample in
        evaluation mode.

        Parameters
        ----------
        x : array_like
            The samples, (samples, *sample_shape).
        where : str
            The name of the calling method, for error messages.
        name : str, default "x"
            The argument's name, for error messages.

        Returns
        -------
        numpy.ndarray
            The checked batch.

        Raises
        ------
        ValueError
            If x is not a non-empty batch, its samples differ in shape from earlier data, it contains NaN
            or Inf, or forward does not return (samples, outputs).

        Examples
        --------
        >>> class Net(bprop.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(2, 1)
        ...     def forward(self, x):
        ...         return self.fc(x)
        >>> net = Net()
        >>> net.as_batch([[1, 2]], "example").dtype, net.output_shape
        (dtype('float32'), (None, 1))
        """
        x = as_array(x, name, where)
        if x.ndim < 2 or x.shape[0] == 0:
            raise ValueError(f"[{where}] {name} must be a non-empty batch (samples, features...); got shape {x.shape}")
        if self._input_shape is not None and x.shape[1:] != self._input_shape:
            raise ValueError(f"[{where}] {name} has samples of shape {x.shape[1:]}; the model was used with "
                             f"{self._input_shape}")
        x = c_array(x, self.dtype)
        if not all_finite(x):
            raise ValueError(f"[{where}] {name} contains NaN or Inf")
        if self._input_shape is None:
            out = self._predict_batch(x[:1])
            if out.ndim != 2:
                raise ValueError(f"[{where}] forward must return (samples, outputs); it returned shape {out.shape}")
            object.__setattr__(self, "_input_shape", x.shape[1:])
            object.__setattr__(self, "_out_features", out.shape[1])
        return x

    def _predict_batch(self, x):
        # Evaluation mode for this call alone: the module's own flag is left as it is, so threads
        # predicting (or a fit training) at the same time are not switched under their feet.
        with evaluating(), no_grad():
            return self.output_of(tensor(x, dtype=self.dtype)).numpy().copy()

    def output_of(self, x: Tensor) -> Tensor:
        """Return self(x), checked to be a tensor of one row per sample: what fit, evaluate and predict use.

        Parameters
        ----------
        x : Tensor
            A batch, samples first.

        Returns
        -------
        Tensor
            The module's output.

        Raises
        ------
        TypeError
            If forward does not return a Tensor.
        ValueError
            If the output does not have one row per sample.

        Examples
        --------
        >>> class Net(bprop.Module):
        ...     def forward(self, x):
        ...         return self.fc(x)
        >>> net = Net()
        >>> net.fc = nn.Linear(2, 1)
        >>> net.output_of(bprop.tensor(np.ones((3, 2), np.float32))).shape
        (3, 1)
        """
        out = self(x)
        if not isinstance(out, Tensor):
            raise TypeError(f"[{type(self).__name__}.forward] must return a Tensor; it returned "
                            f"{type(out).__name__}")
        if out.ndim == 0 or out.shape[0] != x.shape[0]:  # the loss and metrics pair output rows with samples
            samples = f"{x.shape[0]} sample" + ("s" if x.shape[0] != 1 else "")
            raise ValueError(f"[{type(self).__name__}.forward] must return one output per sample: {samples} in, an "
                             f"output of shape {tuple(out.shape)} out")
        return out

    def _training_loop(self, loss, optimizer, metrics):
        """The trainer's loop for this module: one Python step per batch (its forward is Python code)."""
        return ModuleLoop(self, loss, optimizer, metrics)

    def predict(self, x: "ArrayLike", batch_size: int = 256) -> np.ndarray:  # text: help() shows ArrayLike
        """Outputs for x in evaluation mode, computed batch_size samples at a time.

        Evaluation mode: no dropout, BatchNorm with its running statistics, and no graph recorded. The
        model need not be compiled.

        Parameters
        ----------
        x : array_like
            Inputs, shape (n, *sample_shape).
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
        >>> class Net(bprop.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(3, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> Net().predict(np.zeros((5, 3), np.float32), batch_size=2).shape
        (5, 2)
        """
        batch_size = integer(batch_size, "batch_size", "predict", minimum=1, maximum=None)
        x = self.as_batch(x, "predict")
        return np.concatenate([self._predict_batch(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    def __repr__(self):
        lines = [f"  ({name}): {value!r}".replace("\n", "\n  ") for name, value in self.named_children()]
        lines += [f"  ({name}): Parameter(shape={tuple(p.shape)}, dtype={p.dtype})"
                  for name, p in self._items() if is_parameter(p)]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)" if lines else f"{type(self).__name__}()"
