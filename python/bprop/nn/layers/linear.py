"""Linear: the fully connected layer (its forward and backward are the packed GEMM)."""
from ..._checks import integer, real
from ..._dtypes import core_class, resolve_dtype
from ...random import resolve_seed
from .base import Layer, config_size

__all__ = ["Linear"]

_INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                 "uniform", "zeros", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")


class Linear(Layer):
    """y = x·W + b with W of shape (in_features, out_features) (Keras's layout; PyTorch stores Wᵀ).

    init: glorot_uniform (default), glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal,
    uniform (with init_limit) or zeros; xavier_* and kaiming_* are aliases. The bias starts at zero.
    seed: the initialisation seed (default: the next from bprop's global seed source).
    """

    def __init__(self, in_features, out_features, bias=True, init="glorot_uniform", init_limit=None, seed=None,
                 dtype="float32"):
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

    def implied_input_shape(self):
        return (self.in_features,)

    def _make_core(self, dtype):
        limit = 0.0 if self.init_limit is None else real(self.init_limit, "init_limit", "Linear")
        return core_class("Linear", dtype)(self.in_features, self.out_features, self.use_bias, self.init, limit,
                                           self.seed)

    @property
    def weight(self):
        """The (in_features, out_features) weight Parameter."""
        return self.parameters()[0]

    @property
    def bias(self):
        """The bias Parameter, or None for a layer made with bias=False."""
        return self.parameters()[1] if self.use_bias else None

    @classmethod
    def tensor_shapes(cls, config):
        rows, cols = (config_size(config, key, "Linear") for key in ("in_features", "out_features"))
        return {"weight": (rows, cols), "bias": (cols,)} if config.get("bias", True) else {"weight": (rows, cols)}

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.use_bias,
                "init": self.init, "init_limit": self.init_limit, "seed": self.seed,
                "dtype": self._fixed_dtype.name}
