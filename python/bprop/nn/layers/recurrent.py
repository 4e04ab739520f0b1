"""RNN, LSTM and GRU: PyTorch's recurrent layers, batch-major (samples of shape (time, input_size), as fit
gives them). Their equations, gate orders (i,f,g,o and r,z,n), parameter names, shapes and order are
PyTorch's, so a PyTorch state dict copies across unchanged::

    for name, p in layer.named_parameters():
        p.set_value(torch_layer.state_dict()[name].numpy())

The math is C++ (cpp/nn/recurrent.h): per layer and direction one GEMM projects every step's input, then each
step is one GEMM and a fused gate kernel; backpropagation through time runs in one call per batch.

Exploding gradients, the classic failure of backpropagation through time, are what clipping by norm is
for: ``optim.Adam(lr=1e-3, clipnorm=1.0)`` (every optimizer takes clipnorm).
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import numpy as np

from ... import _core
from ..._checks import as_array, c_array, flag, integer, real
from ..._dtypes import core_class, resolve_dtype
from ...autograd.tensor import as_tensor
from ...random import resolve_seed
from .base import Layer, config_size

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

__all__ = ["RNN", "LSTM", "GRU"]

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def parameter_shapes(gates, input_size, hidden_size, num_layers, bias, bidirectional):
    """{name: shape} of a recurrent layer's parameters, in PyTorch's order."""
    shapes = {}
    for k in range(num_layers):
        for suffix in ("", "_reverse") if bidirectional else ("",):
            width = input_size if k == 0 else hidden_size * (2 if bidirectional else 1)
            shapes[f"weight_ih_l{k}{suffix}"] = (gates * hidden_size, width)
            shapes[f"weight_hh_l{k}{suffix}"] = (gates * hidden_size, hidden_size)
            if bias:
                shapes[f"bias_ih_l{k}{suffix}"] = (gates * hidden_size,)
                shapes[f"bias_hh_l{k}{suffix}"] = (gates * hidden_size,)
    return shapes


class _Recurrent(Layer):
    """What RNN, LSTM and GRU share: arguments, the C++ layer, the calls with lengths and states, the config."""

    _kind: Any = None  # "RNN", "LSTM" or "GRU"

    def __init__(self, input_size, hidden_size, num_layers, bias, dropout, bidirectional, return_sequences, seed,
                 dtype):
        super().__init__()
        where = self._kind
        self.input_size = integer(input_size, "input_size", where, minimum=1)
        self.hidden_size = integer(hidden_size, "hidden_size", where, minimum=1)
        self.num_layers = integer(num_layers, "num_layers", where, minimum=1)
        self.bias = flag(bias, "bias", where)
        self.dropout = real(dropout, "dropout", where)
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"[{where}] dropout must be in [0, 1); got {self.dropout}")
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(f"[{where}] dropout applies between stacked layers, and num_layers=1 has none: "
                          f"dropout={self.dropout} does nothing (PyTorch warns alike)", UserWarning, stacklevel=3)
        self.bidirectional = flag(bidirectional, "bidirectional", where)
        self.return_sequences = flag(return_sequences, "return_sequences", where)
        self.seed = resolve_seed(seed, where)
        self._fixed_dtype = resolve_dtype(dtype, where)
        self.core()

    @property
    def num_directions(self) -> int:
        """The number of directions D: 2 for a bidirectional layer, else 1."""
        return 2 if self.bidirectional else 1

    def _cell(self):
        return self._kind

    def _make_core(self, dtype):
        return core_class("Recurrent", dtype)(self._cell(), self.input_size, self.hidden_size, self.num_layers,
                                              self.bias, self.bidirectional, self.return_sequences, self.dropout,
                                              self.seed)

    def __getattr__(self, name):
        # PyTorch's attribute names for the parameters: lstm.weight_ih_l0, gru.bias_hh_l1_reverse.
        if name.startswith(("weight_", "bias_")) and "_cores" in self.__dict__:
            for parameter in self.parameters():
                if parameter.name == name:
                    return parameter
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- on arrays, with lengths and states ---------------------------------------------------------------
    def _checked_batch(self, x, where):
        """x as a C-contiguous (rows, time, input_size) array of the layer's dtype; ValueError otherwise."""
        x = as_array(x, "x", where)
        if x.ndim != 3 or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"[{where}] x must be a batch of sequences (samples, time, input_size) with samples "
                             f"and time >= 1; got shape {x.shape}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"[{where}] x has {x.shape[2]} input features (samples of shape {x.shape[1:]}); "
                             f"expected input_size = {self.input_size}")
        return c_array(x, self.dtype)

    def _checked_lengths(self, lengths, rows, time, where):
        if lengths is None:
            return None
        lengths = as_array(lengths, "lengths", where)
        if lengths.dtype.kind not in "iu":
            raise TypeError(f"[{where}] lengths must hold integers; got dtype {lengths.dtype}")
        if lengths.shape != (rows,):
            raise ValueError(f"[{where}] lengths must have shape ({rows},), one per sample of x; got shape "
                             f"{lengths.shape}")
        low, high = int(lengths.min()), int(lengths.max())
        if low < 1 or high > time:
            bad = low if low < 1 else high
            raise ValueError(f"[{where}] each length must be in [1, {time}] (x has {time} steps); got {bad}")
        return c_array(lengths, np.int64)

    def _checked_state(self, value, name, rows, where):
        if value is None:
            return None
        value = as_array(value, name, where)
        shape = (self.num_layers * self.num_directions, rows, self.hidden_size)
        if value.shape != shape:
            raise ValueError(f"[{where}] {name} must have shape (num_layers*num_directions, samples, hidden_size) "
                             f"= {shape}; got {value.shape}")
        return c_array(value, self.dtype)

    def _core_for(self, x):
        core = self.core()
        if tuple(core.in_shape) != x.shape[1:]:
            core.build(list(x.shape[1:]))
        return core

    def run(self, x: Any, h0: Optional[ArrayLike] = None, c0: Optional[ArrayLike] = None,
            lengths: Any = None, training: bool = False) -> Tuple[np.ndarray, ...]:
        """Run the layer on a batch of numpy arrays, with initial states and per-sample lengths.

        `run_backward` follows it.

        Parameters
        ----------
        x : array_like
            The batch (samples, time, input_size).
        h0 : array_like, optional
            The initial states (num_layers*num_directions, samples, hidden_size); zeros by default.
        c0 : array_like, optional
            The LSTM's initial cell states, shaped as h0; zeros by default (LSTM only).
        lengths : array_like of int, optional
            (samples,) lengths in [1, time]: steps from lengths[r] on are padding, as in PyTorch's packed
            sequences.
        training : bool, default False
            Training behaviour (dropout between layers).

        Returns
        -------
        tuple of numpy.ndarray
            (y, h_n) for RNN and GRU, (y, h_n, c_n) for LSTM: y as the layer outputs it (see
            return_sequences), h_n and c_n the final states of every layer and direction
            (num_layers*num_directions, samples, hidden_size).

        Raises
        ------
        ValueError
            If a shape does not fit, a length is out of range, or c0 is given to an RNN or GRU.
        TypeError
            If an input is not an array of numbers or `lengths` does not hold integers.

        Examples
        --------
        >>> lstm = nn.LSTM(4, 8, num_layers=2)
        >>> y, h_n, c_n = lstm.run(np.ones((3, 5, 4), np.float32), lengths=np.array([5, 2, 1]))
        >>> y.shape, h_n.shape, c_n.shape
        ((3, 8), (2, 3, 8), (2, 3, 8))
        """
        where = f"{self.name}.run"
        x = self._checked_batch(x, where)
        rows, time = x.shape[:2]
        lengths = self._checked_lengths(lengths, rows, time, where)
        h0 = self._checked_state(h0, "h0", rows, where)
        if c0 is not None and self._kind != "LSTM":
            raise ValueError(f"[{where}] c0 is the LSTM's cell state; {self._kind} has none")
        c0 = self._checked_state(c0, "c0", rows, where)
        training = flag(training, "training", where)
        y, h_n, c_n = self._core_for(x).run(x, lengths, h0, c0, _core.Mode.train if training else _core.Mode.eval)
        return (y, h_n, c_n) if self._kind == "LSTM" else (y, h_n)

    def run_backward(self, x: Any, dy: Any, dh_n: Optional[ArrayLike] = None,
                     dc_n: Optional[ArrayLike] = None, accumulate: bool = False) -> Tuple[np.ndarray, ...]:
        """Backpropagation through time of the last `run` on this x; writes the parameters' gradients.

        Parameters
        ----------
        x : array_like
            The x of the last `run`.
        dy : array_like
            ∂L/∂y, shaped as y.
        dh_n : array_like, optional
            ∂L/∂h_n, shaped as h_n; zeros by default.
        dc_n : array_like, optional
            ∂L/∂c_n, shaped as c_n (LSTM only); zeros by default.
        accumulate : bool, default False
            Add to the parameters' gradients instead of overwriting them.

        Returns
        -------
        tuple of numpy.ndarray
            (dx, dh0) for RNN and GRU, (dx, dh0, dc0) for LSTM.

        Raises
        ------
        ValueError
            If a shape does not fit, or dc_n is given to an RNN or GRU.
        TypeError
            If an input is not an array of numbers or `accumulate` is not a bool.

        Examples
        --------
        >>> rnn = nn.RNN(4, 8)
        >>> x = np.ones((2, 5, 4), np.float32)
        >>> y, h_n = rnn.run(x)
        >>> dx, dh0 = rnn.run_backward(x, np.ones_like(y))
        >>> dx.shape, dh0.shape
        ((2, 5, 4), (1, 2, 8))
        """
        where = f"{self.name}.run_backward"
        x = self._checked_batch(x, where)
        core = self._core_for(x)
        rows = x.shape[0]
        dy = as_array(dy, "dy", where)
        expected = (rows, *core.out_shape)
        if dy.shape != expected:
            raise ValueError(f"[{where}] dy must have the shape of y, {expected}; got {dy.shape}")
        dh_n = self._checked_state(dh_n, "dh_n", rows, where)
        if dc_n is not None and self._kind != "LSTM":
            raise ValueError(f"[{where}] dc_n is the LSTM's cell state's gradient; {self._kind} has none")
        dc_n = self._checked_state(dc_n, "dc_n", rows, where)
        dx, dh0, dc0 = core.run_backward(x, c_array(dy, self.dtype), dh_n, dc_n, flag(accumulate, "accumulate", where))
        return (dx, dh0, dc0) if self._kind == "LSTM" else (dx, dh0)

    # -- on tensors (Modules) ---------------------------------------------------------------------------------
    # PyTorch's recurrent call returns (y, h_n), where other layers return a tensor.
    def __call__(self, x: Any, hx: Any = None,  # type: ignore[override]
                 lengths: Optional[ArrayLike] = None) -> Tuple[Any, Any]:
        """PyTorch's call on a tensor x (samples, time, input_size), or one sequence (time, input_size):
        returns (y, h_n) for RNN and GRU, (y, (h_n, c_n)) for LSTM. hx: the initial state h0 (for LSTM the pair
        (h0, c0)), each (num_layers*num_directions, samples, hidden_size) (without the samples axis for one
        sequence), or None for zeros. lengths: per-sample lengths (steps from lengths[r] on are padding, as in
        PyTorch's packed sequences). y is what the layer outputs (every step's state with return_sequences=True,
        PyTorch's output; else the final one). One graph node: gradients reach x, h0, c0 and the parameters
        through the layer's own backpropagation through time."""
        where = self.name
        x = as_tensor(x, dtype=self.dtype)
        single = x.ndim == 2
        if single:
            x = x.reshape((1, *x.shape))
        if x.ndim != 3 or 0 in x.shape:
            raise ValueError(f"[{where}] x must be a tensor (samples, time, input_size) or one sequence (time, "
                             f"input_size); got shape {x.shape[1:] if single else x.shape}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"[{where}] x has {x.shape[2]} input features; expected input_size = {self.input_size}")
        if self._kind == "LSTM":
            if hx is None:
                h0 = c0 = None
            elif isinstance(hx, (tuple, list)) and len(hx) == 2:
                h0, c0 = hx
            else:
                raise TypeError(f"[{where}] hx must be None or the pair (h0, c0); got {type(hx).__name__}")
        else:
            h0, c0 = hx, None
        h0, c0 = (self._state_tensor(v, name, x.shape[0], single) for v, name in ((h0, "h0"), (c0, "c0")))
        lengths = self._checked_lengths(lengths, x.shape[0], x.shape[1], where)
        y, h_n, c_n = self.core().graph_run(x, h0, c0, lengths, self.training)
        if single:
            y = y.reshape(y.shape[1:])
            h_n, c_n = (None if s is None else s.reshape((s.shape[0], s.shape[2])) for s in (h_n, c_n))
        return (y, (h_n, c_n)) if self._kind == "LSTM" else (y, h_n)

    def _state_tensor(self, value, name, rows, single):
        if value is None:
            return None
        value = as_tensor(value, dtype=self.dtype)
        states = self.num_layers * self.num_directions
        shape = (states, self.hidden_size) if single else (states, rows, self.hidden_size)
        if tuple(value.shape) != shape:
            raise ValueError(f"[{self.name}] {name} must have shape {shape} (num_layers*num_directions, "
                             f"{'' if single else 'samples, '}hidden_size); got {tuple(value.shape)}")
        return value.reshape((states, 1, self.hidden_size)) if single else value

    # -- config -----------------------------------------------------------------------------------------------
    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the parameters a layer made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            {PyTorch's parameter name: shape}, in PyTorch's order.

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If a size is missing or not an integer >= 1.

        Examples
        --------
        >>> nn.GRU.tensor_shapes({"input_size": 4, "hidden_size": 8})
        {'weight_ih_l0': (24, 4), 'weight_hh_l0': (24, 8), 'bias_ih_l0': (24,), 'bias_hh_l0': (24,)}
        """
        where = cls.__name__
        input_size, hidden_size = (config_size(config, key, where) for key in ("input_size", "hidden_size"))
        num_layers = config_size({"num_layers": 1, **config}, "num_layers", where)
        return parameter_shapes(_GATES[cls._kind], input_size, hidden_size, num_layers,
                                bool(config.get("bias", True)), bool(config.get("bidirectional", False)))

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data, the seed included.

        Returns
        -------
        dict
            input_size, hidden_size, num_layers, bias, dropout, bidirectional, return_sequences, seed and
            dtype (and RNN's nonlinearity).

        Examples
        --------
        >>> nn.LSTM(4, 8, seed=0).get_config()["hidden_size"]
        8
        """
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "bias": self.bias, "dropout": self.dropout, "bidirectional": self.bidirectional,
                "return_sequences": self.return_sequences, "seed": self.seed, "dtype": self._fixed_dtype.name}


class RNN(_Recurrent):
    """Elman RNN, as torch.nn.RNN(batch_first=True): h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act =
    tanh (nonlinearity="tanh") or ReLU ("relu"), over samples (time, input_size).

    num_layers stacked layers (each takes the previous one's output sequence), dropout on each layer's output
    but the last in training, bidirectional for a second direction running from the last step back.
    Output sample: (time, D*hidden_size) with return_sequences=True (every step's state, the directions side by
    side), else (D*hidden_size,): the last layer's final state (the reverse direction's after it ran back to step
    0), torch's h_n[-2:] side by side. Parameters: PyTorch's (weight_ih_l0, weight_hh_l0, bias_ih_l0, ...), all
    drawn from U(±1/sqrt(hidden_size)) with `seed`. run() takes initial states and per-sample lengths.

    Parameters
    ----------
    input_size : int
        The features of each step of the input (>= 1).
    hidden_size : int
        The size of the state (>= 1).
    num_layers : int, default 1
        Stacked layers, each taking the previous one's output sequence.
    nonlinearity : {"tanh", "relu"}, default "tanh"
        The activation of the state.
    bias : bool, default True
        Whether the layers have the biases b_ih and b_hh.
    dropout : float, default 0.0
        Dropout on each layer's output but the last, in training, in [0, 1) (a warning with num_layers=1,
        where it does nothing, as PyTorch).
    bidirectional : bool, default False
        Adds a second direction running from the last step back; outputs hold both, side by side.
    return_sequences : bool, default False
        Output every step's state (time, D*hidden_size), PyTorch's output; else the last layer's final
        state (D*hidden_size,), torch's h_n[-2:] side by side (D = 2 when bidirectional, else 1).
    seed : int, optional
        The initialisation seed (every parameter drawn from U(±1/sqrt(hidden_size))); by default the next
        from bprop's global seed source.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If a size is not an integer, `dropout` not a real number, a flag not a bool, or `dtype` not float32
        or float64.
    ValueError
        If a size is < 1, `dropout` is outside [0, 1), `nonlinearity` is neither "tanh" nor "relu", or `seed` is out of range.

    Examples
    --------
    >>> rnn = nn.RNN(4, 8)
    >>> rnn.forward(np.ones((2, 5, 4), np.float32)).shape
    (2, 8)
    >>> nn.RNN(4, 8, bidirectional=True, return_sequences=True).forward(np.ones((2, 5, 4), np.float32)).shape
    (2, 5, 16)
    >>> [name for name, _ in rnn.named_parameters()]
    ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    """

    _kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, dropout: float = 0.0, bidirectional: bool = False, return_sequences: bool = False,
                 seed: Optional[int] = None, dtype: DTypeLike = "float32") -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[RNN] nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r:.40}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, dropout, bidirectional, return_sequences, seed,
                         dtype)

    def _cell(self):
        return "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data, the seed included.

        Returns
        -------
        dict
            input_size, hidden_size, num_layers, nonlinearity, bias, dropout, bidirectional,
            return_sequences, seed and dtype.

        Examples
        --------
        >>> nn.RNN(4, 8, nonlinearity="relu").get_config()["nonlinearity"]
        'relu'
        """
        config = super().get_config()
        return {**dict(list(config.items())[:3]), "nonlinearity": self.nonlinearity, **dict(list(config.items())[3:])}


class LSTM(_Recurrent):
    """Long short-term memory, as torch.nn.LSTM(batch_first=True): gates i, f, g, o = σ, σ, tanh, σ of
    (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), c_t = f⊙c_{t-1} + i⊙g, h_t = o⊙tanh(c_t). Arguments, output and
    parameters as RNN's (weights of 4*hidden_size rows, gate order i, f, g, o); run() also takes and returns
    the cell states.

    Parameters
    ----------
    input_size : int
        The features of each step of the input (>= 1).
    hidden_size : int
        The size of the state (>= 1).
    num_layers : int, default 1
        Stacked layers, each taking the previous one's output sequence.
    bias : bool, default True
        Whether the layers have the biases b_ih and b_hh.
    dropout : float, default 0.0
        Dropout on each layer's output but the last, in training, in [0, 1) (a warning with num_layers=1,
        where it does nothing, as PyTorch).
    bidirectional : bool, default False
        Adds a second direction running from the last step back; outputs hold both, side by side.
    return_sequences : bool, default False
        Output every step's state (time, D*hidden_size), PyTorch's output; else the last layer's final
        state (D*hidden_size,), torch's h_n[-2:] side by side (D = 2 when bidirectional, else 1).
    seed : int, optional
        The initialisation seed (every parameter drawn from U(±1/sqrt(hidden_size))); by default the next
        from bprop's global seed source.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If a size is not an integer, `dropout` not a real number, a flag not a bool, or `dtype` not float32
        or float64.
    ValueError
        If a size is < 1, `dropout` is outside [0, 1), or `seed` is out of range.

    Examples
    --------
    >>> lstm = nn.LSTM(4, 8, num_layers=2)
    >>> lstm.forward(np.ones((2, 5, 4), np.float32)).shape
    (2, 8)
    >>> lstm.weight_ih_l0.shape
    (32, 4)
    """

    _kind = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, dropout: float = 0.0,
                 bidirectional: bool = False, return_sequences: bool = False, seed: Optional[int] = None,
                 dtype: DTypeLike = "float32") -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, dropout, bidirectional, return_sequences, seed,
                         dtype)


class GRU(_Recurrent):
    """Gated recurrent unit, as torch.nn.GRU(batch_first=True): r, z = σ(W_i x_t + b_i + W_h h_{t-1} + b_h) on
    their rows, n = tanh(W_in x_t + b_in + r⊙(W_hn h_{t-1} + b_hn)), h_t = (1 − z)⊙n + z⊙h_{t-1}. Arguments,
    output and parameters as RNN's (weights of 3*hidden_size rows, gate order r, z, n).

    Parameters
    ----------
    input_size : int
        The features of each step of the input (>= 1).
    hidden_size : int
        The size of the state (>= 1).
    num_layers : int, default 1
        Stacked layers, each taking the previous one's output sequence.
    bias : bool, default True
        Whether the layers have the biases b_ih and b_hh.
    dropout : float, default 0.0
        Dropout on each layer's output but the last, in training, in [0, 1) (a warning with num_layers=1,
        where it does nothing, as PyTorch).
    bidirectional : bool, default False
        Adds a second direction running from the last step back; outputs hold both, side by side.
    return_sequences : bool, default False
        Output every step's state (time, D*hidden_size), PyTorch's output; else the last layer's final
        state (D*hidden_size,), torch's h_n[-2:] side by side (D = 2 when bidirectional, else 1).
    seed : int, optional
        The initialisation seed (every parameter drawn from U(±1/sqrt(hidden_size))); by default the next
        from bprop's global seed source.
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation.

    Raises
    ------
    TypeError
        If a size is not an integer, `dropout` not a real number, a flag not a bool, or `dtype` not float32
        or float64.
    ValueError
        If a size is < 1, `dropout` is outside [0, 1), or `seed` is out of range.

    Examples
    --------
    >>> gru = nn.GRU(4, 8, return_sequences=True)
    >>> gru.forward(np.ones((2, 5, 4), np.float32)).shape
    (2, 5, 8)
    >>> gru.weight_hh_l0.shape
    (24, 8)
    """

    _kind = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, dropout: float = 0.0,
                 bidirectional: bool = False, return_sequences: bool = False, seed: Optional[int] = None,
                 dtype: DTypeLike = "float32") -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, dropout, bidirectional, return_sequences, seed,
                         dtype)
