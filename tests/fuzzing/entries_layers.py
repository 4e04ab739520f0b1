"""Registry entries: layers (construction, forward/backward on arrays, calls on tensors, methods, configs)."""
import numpy as np
from hypothesis import strategies as st

from bprop import _core, nn
from bprop.nn.layers.activations import _ACTIVATION_CLASSES

from .entries_recurrent import RECURRENT_CLASSES, RECURRENT_JUNK, sequence_layers
from .entry import Entry
from .values import (R, arrays, build, builder, dims, first_rows, float_dtype, junk, junk_dtypes, junk_flags, junk_ints,
                     junk_reals, junk_scalars, junk_some_keywords, odd_arrays, shapes, valid_tensors)


dims_ = dims  # spatial_layers' name for it (its own `dims` is the number of spatial axes)

INITS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "zeros",
         "xavier_uniform", "kaiming_normal")


@builder("layer")
def build_layer(name, kwargs):
    return getattr(nn, name)(**build(kwargs))


def layer_kwargs(name, width, dtype):
    """Valid keywords for a layer of `width` inputs (and outputs, except Linear's) in dtype."""
    if name == "Linear":
        return st.fixed_dictionaries({"in_features": st.just(width), "out_features": dims(1, 4),
                                      "bias": st.booleans(), "init": st.sampled_from(INITS),
                                      "seed": st.sampled_from((None, 0, 7)), "dtype": st.just(dtype)})
    if name == "BatchNorm":
        return st.fixed_dictionaries({"features": st.just(width), "eps": st.sampled_from((1e-5, 0.1)),
                                      "momentum": st.sampled_from((0.1, 0.9)), "dtype": st.just(dtype)})
    if name in ("BatchNorm1d", "BatchNorm2d"):  # per channel: the first axis of the sample (its only one here)
        return st.fixed_dictionaries({"num_features": st.just(width), "eps": st.sampled_from((1e-5, 0.1)),
                                      "momentum": st.sampled_from((0.1, 0.9)), "dtype": st.just(dtype)})
    if name == "Dropout2d":
        return st.fixed_dictionaries({"p": st.sampled_from((0.0, 0.5, 0.9)), "seed": st.sampled_from((None, 3))})
    if name == "LayerNorm":
        return st.fixed_dictionaries({"features": st.just(width), "eps": st.sampled_from((1e-5, 0.1)),
                                      "dtype": st.just(dtype)})
    if name == "Dropout":
        return st.fixed_dictionaries({"p": st.sampled_from((0.0, 0.5, 0.9)), "seed": st.sampled_from((None, 3))})
    if name == "PReLU":
        return st.fixed_dictionaries({"num_parameters": st.sampled_from((1, width)),
                                      "init": st.sampled_from((0.25, -1.0, 0.0)), "dtype": st.just(dtype)})
    if name == "GELU":
        return st.fixed_dictionaries({"approximate": st.sampled_from(("none", "tanh"))})
    if name == "Flatten":  # on (samples, width) or any leading axes: a valid call whatever the batch's rank
        return st.fixed_dictionaries({"start_dim": st.just(1), "end_dim": st.sampled_from((-1, 1))})
    if name == "Reshape":
        return st.just({"shape": (-1,)})
    if name in ACTIVATION_PARAMS:  # the table's parameters: defaults, and values across their domain
        return st.fixed_dictionaries({p: st.sampled_from((default, 0.5, 3.0) if positive else (default, 0.0, -2.0, 0.5))
                                      for p, default, positive in ACTIVATION_PARAMS[name]})
    return st.just({})


# Every activation of the C++ table that Python exports as a layer, with its parameters: a new one is
# fuzzed (and counted as covered) with no edit here.
ACTIVATION_PARAMS = {name: params for name, params, _ in _core.activation_table() if name in _ACTIVATION_CLASSES}


# Layers on the last axis, which chain by width; and layers on channel-first samples (C, *spatial), drawn with
# a sample shape of their own (channel_layers).
DENSE_LAYER_NAMES = ("Linear", "PReLU", "Softmax", "Dropout", "BatchNorm", "LayerNorm", "Flatten",
                     "Reshape") + tuple(_ACTIVATION_CLASSES)
CHANNEL_LAYER_NAMES = ("BatchNorm1d", "BatchNorm2d", "Dropout2d")
LAYER_NAMES = DENSE_LAYER_NAMES + CHANNEL_LAYER_NAMES
# Pooling and upsampling layers drawn with a sample shape they can take, not a width.
SPATIAL_LAYER_NAMES = ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
                       "Upsample")


def _pool_out(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's output size on one axis (an independent reference for the shapes the fuzzer expects)."""
    span = dilation * (kernel - 1) + 1
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    return out - 1 if ceil_mode and (out - 1) * stride >= size + padding else out


@st.composite
def spatial_layers(draw, names=SPATIAL_LAYER_NAMES):
    """(layer recipe, sample shape in, sample shape out) for a pooling or upsampling layer."""
    name = draw(st.sampled_from(names))
    dims = 1 if name.endswith("1d") else 2 if name.endswith("2d") else draw(st.sampled_from((1, 2)))
    sample = (draw(dims_(1, 3)),) + tuple(draw(dims_(1, 6)) for _ in range(dims))

    def axes(values):  # an int for every axis, or one per axis (always for a 1d layer's length: an int)
        return values[0] if dims == 1 or (len(set(values)) == 1 and draw(st.booleans())) else tuple(values)

    if name == "Upsample":
        scales = [draw(st.integers(1, 3)) for _ in range(dims)]
        scale = axes(scales)
        out = sample[:1] + tuple(n * (scale if isinstance(scale, int) else s) for n, s in zip(sample[1:], scales))
        return R("layer", name, {"scale_factor": scale, "mode": "nearest"}), sample, out
    if name.startswith("Adaptive"):
        sizes = [draw(st.integers(1, 4)) for _ in range(dims)]
        return R("layer", name, {"output_size": axes(sizes)}), sample, sample[:1] + tuple(sizes)
    kernel = [draw(st.integers(1, n)) for n in sample[1:]]
    stride = [draw(st.integers(1, 3)) for _ in range(dims)]
    padding = [draw(st.integers(0, k // 2)) for k in kernel]
    dilation = [1] * dims
    if name.startswith("Max"):  # a dilation whose window still fits the padded input
        dilation = [draw(st.integers(1, max(1, (n + 2 * p - 1) // max(k - 1, 1))))
                    for n, k, p in zip(sample[1:], kernel, padding)]
    ceil_mode = draw(st.booleans())
    kwargs = {"kernel_size": axes(kernel), "stride": draw(st.sampled_from((None, axes(stride)))),
              "padding": axes(padding), "ceil_mode": ceil_mode}
    stride = kernel if kwargs["stride"] is None else stride
    if name.startswith("Max"):
        kwargs["dilation"] = axes(dilation)
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
    out = sample[:1] + tuple(_pool_out(*a, ceil_mode) for a in zip(sample[1:], kernel, stride, padding, dilation))
    return R("layer", name, kwargs), sample, out


LAYER_JUNK = {**RECURRENT_JUNK, "in_features": junk_ints(1), "out_features": junk_ints(1), "features": junk_ints(1),
              "num_features": junk_ints(1), "bias": junk_flags(), "init": st.one_of(junk_scalars(), st.just("uniform")), "seed": junk_ints(0),
              "dtype": junk_dtypes(), "eps": junk_reals(), "momentum": junk_reals(), "p": junk_reals(),
              "approximate": junk_scalars(), "init_limit": junk_reals(), "num_parameters": junk_ints(1),
              "start_dim": junk_ints(1), "end_dim": junk_ints(-(2**62)),
              "shape": st.one_of(junk_scalars(), st.sampled_from(((0,), (-1, -1), (), (2**70,), (-2,), "ab"))),
              **{p: junk_reals() for params in ACTIVATION_PARAMS.values() for p, _, _ in params},
              **{key: st.one_of(junk_ints(1), st.sampled_from(((2, 0), (1, 2, 3), [], (2**40, 1), (1.5, 2), "2")))
                 for key in ("kernel_size", "stride", "dilation", "output_size", "scale_factor")},
              "padding": st.one_of(junk_ints(0), st.sampled_from(((9, 9), (1, -1), (0, 0, 0)))),
              "ceil_mode": junk_flags(), "count_include_pad": junk_flags(),
              "mode": st.one_of(junk_scalars(), st.sampled_from(("bilinear", "NEAREST", "")))}


@st.composite
def layers(draw, width=None, dtype=None, names=DENSE_LAYER_NAMES, keep_width=False):
    """(layer recipe, width in, width out)."""
    width = width or draw(dims(1, 4))
    dtype = dtype or draw(st.sampled_from(("float32", "float64")))
    name = draw(st.sampled_from([n for n in names if not (keep_width and n == "Linear")]))
    kwargs = draw(layer_kwargs(name, width, dtype))
    return R("layer", name, kwargs), width, kwargs.get("out_features", width)


# The sample ranks each channel-first layer takes; sizes stay small, the batch makes the rest.
SPATIAL_RANKS = {"BatchNorm1d": (1, 2), "BatchNorm2d": (3,), "Dropout2d": (2, 3, 4)}


@st.composite
def channel_layers(draw, dtype=None):
    """(layer recipe, sample shape in, sample shape out) of a channel-first layer that keeps its shape."""
    dtype = dtype or draw(st.sampled_from(("float32", "float64")))
    name = draw(st.sampled_from(CHANNEL_LAYER_NAMES))
    rank = draw(st.sampled_from(SPATIAL_RANKS[name]))
    shape = (draw(dims(1, 4)),) + tuple(draw(dims(1, 4)) for _ in range(rank - 1))
    return R("layer", name, draw(layer_kwargs(name, shape[0], dtype))), shape, shape


def any_layers():
    """A layer of any kind: (recipe, input sample width or shape, output's)."""
    return st.one_of(layers(), channel_layers(), spatial_layers(), sequence_layers())


def call_layer_init(spec):
    name, kwargs = spec
    return getattr(nn, name)(**kwargs)


@st.composite
def layer_specs(draw, junk_keys=0):
    """(name, keywords) of a layer, with junk_keys of its keywords replaced (or an unknown one added)."""
    layer, _, _ = draw(any_layers())
    kwargs = dict(layer[2])
    keys = sorted(set(kwargs) | {"init_limit"}) if layer[1] == "Linear" else sorted(kwargs) or ["dtype"]
    junk_some_keywords(draw, kwargs, keys, LAYER_JUNK, junk_keys)
    return layer[1], kwargs


def call_residual(layers_, shortcut, x):
    """A Residual; with x, also run forward and backward on x (which builds it: the shapes of both branches are
    checked there)."""
    block = nn.Residual(layers_, shortcut)
    if x is None:
        return block
    y = block.forward(x)
    return block.backward(x, y, np.ones_like(y))


@st.composite
def residual_valid(draw):
    """Without a shortcut, width-keeping layers; with one, a last Linear to another width in the block and a
    Linear to that width (then width-keeping layers) in the shortcut."""
    width, dtype = draw(dims(1, 4)), draw(st.sampled_from(("float32", "float64")))
    inner = [draw(layers(width, dtype, keep_width=True))[0] for _ in range(draw(st.integers(1, 3)))]
    shortcut, out = None, width
    if draw(st.booleans()):
        last, _, out = draw(layers(width, dtype, names=("Linear",)))
        projection = draw(layers(width, dtype, names=("Linear",)))[0]
        inner.append(last)
        shortcut = [R("layer", "Linear", {**projection[2], "out_features": out})]
        shortcut += [draw(layers(out, dtype, keep_width=True))[0] for _ in range(draw(st.integers(0, 2)))]
    x = draw(st.none() | arrays((dtype,), (draw(dims(1, 4)), width)))
    return {"layers_": inner, "shortcut": shortcut, "x": x}


def residual_junk_layers():
    return st.one_of(junk(), st.lists(st.one_of(junk_scalars(), layers().map(lambda r: r[0])), max_size=3))


# -- a layer run on arrays and tensors ----------------------------------------------------------------------------
def call_layer_pass(layer, out_width, x, order, training, x2, dy):
    """forward then backward (order "fb"), backward before any forward ("b"), or forward twice then backward
    with the second x ("ffb": the caches of the second batch); dy None is ones like the output. out_width: the
    output sample's width, or its shape (a tuple)."""
    if order == "b":
        y = np.zeros((first_rows(x), *sample_shape(out_width)), float_dtype(x))
        return layer.backward(x, y, np.ones_like(y) if dy is None else dy)
    y = layer.forward(x, training)
    if order == "ffb":
        y = layer.forward(x2, training)
        x = x2
    return layer.backward(x, y, np.ones_like(y) if dy is None else dy)


def sample_shape(width):
    return width if isinstance(width, tuple) else (width,)


@st.composite
def layer_pass_valid(draw):
    layer, width, out_width = draw(any_layers())
    dtype = layer[2].get("dtype", draw(st.sampled_from(("float32", "float64"))))
    rows = draw(dims(1, 4))
    x = draw(arrays((dtype,), (rows, *sample_shape(width)), fills=("rand", "zeros", "huge")))
    return {"layer": layer, "out_width": out_width, "x": x,
            "order": "fb", "training": draw(st.booleans()), "x2": None, "dy": None}


def call_layer_on_tensor(layer, x, training):
    layer.train(training)
    return layer(x)


@st.composite
def layer_call_valid(draw):
    layer, width, _ = draw(any_layers())
    dtype = layer[2].get("dtype", draw(st.sampled_from(("float32", "float64"))))
    # A dense layer's tensor may have any leading axes (none: one sample); a channel-first one is one batch.
    batch = draw(shapes(1, 1, 1, 3) if isinstance(width, tuple) else shapes(0, 2, 1, 3))
    return {"layer": layer, "x": draw(valid_tensors(st.just(batch + sample_shape(width)), dtypes=(dtype,))),
            "training": draw(st.booleans())}


LAYER_METHODS = ("core", "named_parameters", "named_buffers", "weight", "bias", "train", "eval", "parameters",
                 "buffers", "get_config", "repr", "dtype", "name", "implied_input_shape", "keeps_shape",
                 "takes_indices")


def call_layer_method(layer, method, argument):
    if method in ("core", "train"):
        return getattr(layer, method)(argument)
    if method in ("weight", "bias", "dtype", "name", "keeps_shape", "takes_indices"):
        return getattr(layer, method)
    return repr(layer) if method == "repr" else getattr(layer, method)()


def call_layer_config(layer, config, name):
    config = layer.get_config() if config is None else config
    cls = getattr(nn, name or layer.name)
    return cls.tensor_shapes(config), cls.from_config(config), layer.training


def deserialize_junk():
    """Plain data as a file could hold it: dicts with wrong keys, kinds and values."""
    value = st.one_of(junk_scalars(), st.sampled_from((2**62, -1, "x", [1], {"a": None})))
    name = st.sampled_from(("SGD", "Adam", "Linear", "Residual", "Huber", "CrossEntropy", "StepDecay", "LinearWarmup",
                            "BatchNorm", "__init__", "Layer", "Loss", "Optimizer", "Schedule", "MaxPool2d", None, 5))
    config = st.dictionaries(st.sampled_from(("lr", "betas", "in_features", "out_features", "layers", "delta",
                                              "step_size", "then", "config", "features", "x", "label_smoothing",
                                              "gamma", "dtype", "seed", "kernel_size", "scale_factor")),
                             value, max_size=3)
    return st.one_of(junk_scalars(), st.fixed_dictionaries({"name": name, "config": config}),
                     st.fixed_dictionaries({"class": name, "config": config}),
                     st.dictionaries(st.sampled_from(("name", "class", "config", "extra")), value, max_size=3))


def call_embedding(num_embeddings, embedding_dim, x, dtype, padding_idx=None):
    """An Embedding made, then forward and backward on index arrays (lists of ints, or junk)."""
    layer = nn.Embedding(num_embeddings, embedding_dim, padding_idx=padding_idx, seed=0, dtype=dtype)
    out = layer.forward(np.asarray(x) if isinstance(x, list) else x)
    layer.backward(np.asarray(x) if isinstance(x, list) else x, out, np.ones_like(out))
    return out, layer.weight.grad, layer.takes_indices


@st.composite
def embedding_valid(draw):
    n, length = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    rows = st.lists(st.integers(0, n - 1), min_size=length, max_size=length)
    return {"num_embeddings": n, "embedding_dim": draw(st.integers(1, 4)),
            "x": draw(st.lists(rows, min_size=1, max_size=3)), "dtype": draw(st.sampled_from(("float32", "float64"))),
            "padding_idx": draw(st.one_of(st.none(), st.integers(-n, n - 1)))}


class FuzzScale(nn.Layer):
    """A layer written in Python (autograd kind): what register_layer registers."""

    def forward(self, x):
        return x * 2.0


def call_register_layer(cls):
    return nn.register_layer(cls)()  # an instance, which the sweep then uses as a layer


# -- pooling and upsampling as functions of tensors ------------------------------------------------------------
FUNCTIONAL_POOLING = {"MaxPool1d": "max_pool1d", "MaxPool2d": "max_pool2d", "AvgPool1d": "avg_pool1d",
                      "AvgPool2d": "avg_pool2d", "AdaptiveAvgPool1d": "adaptive_avg_pool1d",
                      "AdaptiveAvgPool2d": "adaptive_avg_pool2d", "Upsample": "interpolate"}


def call_functional_pooling(function, x, kwargs):
    return getattr(nn.functional, function)(x, **kwargs)


@st.composite
def functional_pooling_valid(draw):
    layer, sample, _ = draw(spatial_layers())
    return {"function": FUNCTIONAL_POOLING[layer[1]], "x": draw(valid_tensors(st.just((draw(dims(1, 3)),) + sample))),
            "kwargs": layer[2]}


@st.composite
def functional_pooling_junk_kwargs(draw):
    kwargs = dict(draw(spatial_layers())[0][2])
    junk_some_keywords(draw, kwargs, sorted(kwargs), LAYER_JUNK, draw(st.integers(1, 2)))
    return kwargs


ENTRIES = [
    Entry("nn.Embedding", call_embedding, embedding_valid(),
          {"num_embeddings": junk_ints(1), "embedding_dim": junk_ints(1), "dtype": junk_dtypes(),
           "padding_idx": st.one_of(junk_ints(-5), st.sampled_from((5, 2**63, -6))),
           "x": st.one_of(junk(), odd_arrays(), st.sampled_from(([[0, 9]], [[-1]], [[0.5]], [[2**63]], [0])))}),
    Entry("nn.register_layer", call_register_layer, st.fixed_dictionaries({"cls": st.just(FuzzScale)}),
          {"cls": junk()}),
    Entry("nn.<Layer>(...)", call_layer_init, st.fixed_dictionaries({"spec": layer_specs()}),
          {"spec": st.one_of(layer_specs(1), layer_specs(2))},
          known=[{"spec": ("Linear", {"in_features": 2**62, "out_features": 1})},
                 {"spec": ("BatchNorm", {"features": 2**62})}, {"spec": ("LayerNorm", {"features": 2**62})},
                 {"spec": ("PReLU", {"num_parameters": 2**62})}, {"spec": ("BatchNorm2d", {"num_features": 2**62})},
                 {"spec": ("BatchNorm1d", {"num_features": 2**62})}]),
    Entry("nn.functional.<pooling>", call_functional_pooling, functional_pooling_valid(),
          {"x": junk(), "kwargs": functional_pooling_junk_kwargs()}),
    Entry("nn.Residual", call_residual, residual_valid(),
          {"layers_": residual_junk_layers(), "shortcut": residual_junk_layers(), "x": odd_arrays()}),
    Entry("Layer.forward/backward", call_layer_pass, layer_pass_valid(),
          {"x": odd_arrays(shapes(0, 3, 0, 5)), "order": st.sampled_from(("b", "ffb")),
           "x2": odd_arrays(shapes(1, 2, 0, 5)), "dy": junk(shapes(1, 2, 0, 5)), "training": junk_flags()}),
    Entry("Layer.__call__", call_layer_on_tensor, layer_call_valid(), {"x": junk(), "training": junk_flags()}),
    Entry("Layer.from_config", call_layer_config,
          st.fixed_dictionaries({"layer": any_layers().map(lambda r: r[0]), "config": st.none(), "name": st.none()}),
          {"config": deserialize_junk().map(lambda d: d.get("config", d) if isinstance(d, dict) else d),
           "name": st.sampled_from(LAYER_NAMES + SPATIAL_LAYER_NAMES + RECURRENT_CLASSES)}),
    Entry("Layer.<method>", call_layer_method,
          st.one_of(any_layers().map(lambda r: {"layer": r[0], "method": "core", "argument": r[0][2].get("dtype")}),
                    st.builds(lambda r, m: {"layer": r[0], "method": m, "argument": True}, any_layers(),
                              st.sampled_from([m for m in LAYER_METHODS[1:] if m not in ("weight", "bias")])),
                    st.builds(lambda r, m: {"layer": r[0], "method": m, "argument": True}, layers(names=("Linear",)),
                              st.sampled_from(("weight", "bias")))),
          {"argument": st.one_of(junk(), st.sampled_from(("float32", "float64")))}),
]
