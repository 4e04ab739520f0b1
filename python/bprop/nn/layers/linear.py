"""Linear: the fully connected layer (its forward and backward are the packed GEMM)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from ...random import resolve_seed
from .base import Layer, config_size

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..._core import Parameter_float32, Parameter_float64

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes

__all__ = ["Linear"]

_INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                 "uniform", "zeros", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")


class Linear(Layer):
    """Fully connected layer: y = x·W + b, on the last axis.

    W has shape (in_features, out_features): Keras's layout, where ``torch.nn.Linear`` stores its
    transpose (copy a PyTorch weight across as ``weight.set_value(torch_weight.T)``). Samples are
    (in_features,) vectors.

    Parameters
    ----------
    in_features : int
        The size of each input sample (>= 1).
    out_features : int
        The size of each output sample (>= 1).
    bias : bool, default True
        Whether to add a learnt bias b (starting at zero).
    init : str, default "glorot_uniform"
        The initialisation of W: "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
        "lecun_uniform", "lecun_normal", "uniform" (with `init_limit`) or "zeros"; "xavier_*" and
        "kaiming_*" are aliases of "glorot_*" and "he_*".
    init_limit : float, optional
        The bound of U(-init_limit, init_limit) for init="uniform" (and only with it).
    seed : int, optional
        The initialisation seed, in [0, 2**64); by default the next from bprop's global seed source
        (``bprop.random``).
    dtype : {"float32", "float64"}, default "float32"
        The dtype of the parameters and of the computation (float64 is for gradient checks).

    Raises
    ------
    TypeError
        If a size is not an integer, `init_limit` not a real number, or `dtype` not float32 or float64.
    ValueError
        If a size is < 1, `init` is unknown, `init_limit` is given without init="uniform" (or missing with
        it), or `seed` is out of range.

    Examples
    --------
    >>> layer = nn.Linear(4, 2)
    >>> layer.forward(np.ones((3, 4), np.float32)).shape
    (3, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((4, 2), (2,))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str = "glorot_uniform",
                 init_limit: Optional[float] = None, seed: Optional[int] = None,
                 dtype: DTypeLike = "float32") -> None:
        super().__init__()
        self.in_features = integer(in_features, "in_features", "Linear", minimum=1)
        self.out_features = integer(out_features, "out_features", "Linear", minimum=1)
        if init not in _INITIALIZERS:
            raise ValueError(f"[Linear] unknown init {init!r}; expected one of {', '.join(_INITIALIZERS)}")
        if (init == "uniform") != (init_limit is not None):
            raise ValueError("[Linear] init_limit goes with init='uniform' (and only with it)")
        self.use_bias = bool(bias)
        self.init, self.init_limit = init, init_limit
        self.seed = resolve_seed(seed, "Linear")
        self._fixed_dtype = resolve_dtype(dtype, "Linear")
        self.core()

    def implied_input_shape(self) -> Tuple[int, ...]:
        """The sample shape a Linear takes: (in_features,).

        Returns
        -------
        tuple of int
            ``(in_features,)``.

        Examples
        --------
        >>> nn.Linear(4, 2).implied_input_shape()
        (4,)
        """
        return (self.in_features,)

    def _make_core(self, dtype):
        limit = 0.0 if self.init_limit is None else real(self.init_limit, "init_limit", "Linear")
        return core_class("Linear", dtype)(self.in_features, self.out_features, self.use_bias, self.init, limit,
                                           self.seed)

    @property
    def weight(self) -> Parameter:
        """The (in_features, out_features) weight Parameter."""
        return self.parameters()[0]

    @property
    def bias(self) -> Optional[Parameter]:
        """The bias Parameter, or None for a layer made with bias=False."""
        return self.parameters()[1] if self.use_bias else None

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the parameters a Linear made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The layer's config (`get_config`'s output).

        Returns
        -------
        dict
            ``{"weight": (in_features, out_features), "bias": (out_features,)}`` (no bias for bias=False).

        Raises
        ------
        TypeError
            If `config` is not a dict.
        ValueError
            If in_features or out_features is missing or not an integer >= 1.

        Examples
        --------
        >>> nn.Linear.tensor_shapes({"in_features": 4, "out_features": 2, "bias": False})
        {'weight': (4, 2)}
        """
        rows, cols = (config_size(config, key, "Linear") for key in ("in_features", "out_features"))
        return {"weight": (rows, cols), "bias": (cols,)} if config.get("bias", True) else {"weight": (rows, cols)}

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keywords, as plain data, the seed included (the same initial weights).

        Returns
        -------
        dict
            in_features, out_features, bias, init, init_limit, seed and dtype.

        Examples
        --------
        >>> nn.Linear(4, 2, seed=0).get_config()
        {'in_features': 4, 'out_features': 2, 'bias': True, 'init': 'glorot_uniform', 'init_limit': None,
         'seed': 0, 'dtype': 'float32'}
        """
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.use_bias,
                "init": self.init, "init_limit": self.init_limit, "seed": self.seed,
                "dtype": self._fixed_dtype.name}
