"""Registry entries: Sequential and Module (construction, forward/backward, calls in any order, compile,
configs, weights) and Modules written wrong; the small models and datasets every training entry uses."""
import numpy as np
from hypothesis import strategies as st

import bprop
from bprop import nn, optim

from .entries_layers import deserialize_junk, layers
from .entries_losses import targets
from .entry import Entry
from .values import (R, arrays, build, builder, dims, junk, junk_dtypes, junk_flags, junk_ints, junk_scalars,
                     odd_arrays, shapes, tensors, valid_tensors)


KINDS = ("mlp", "norm", "res", "nested", "act", "module")
METRICS = {"MSE": ["mae"], "CrossEntropy": ["accuracy", "top_2_accuracy"], "BinaryCrossEntropy": ["accuracy"],
           "MAE": ["mse"], "Huber": []}


class TinyNet(bprop.Module):
    """A Module as users write them: layers, a raw Parameter, tensor code."""

    def __init__(self, n_in=3, n_out=2, dtype="float32"):
        super().__init__()
        self.fc = nn.Linear(n_in, 4, dtype=dtype, seed=1)
        self.out = nn.Linear(4, n_out, dtype=dtype, seed=2)
        self.scale = bprop.Parameter(np.ones(n_out, dtype))

    def forward(self, x):
        return self.out(self.fc(x).relu()) * self.scale


def stack(kind, width, k, dtype):
    if kind == "mlp":
        return [nn.Linear(width, 4, dtype=dtype, seed=1), nn.ReLU(), nn.Linear(4, k, dtype=dtype, seed=2)]
    if kind == "norm":
        return [nn.Linear(width, 4, dtype=dtype, seed=1), nn.BatchNorm(4, dtype=dtype), nn.Dropout(0.5, seed=1),
                nn.Linear(4, k, dtype=dtype, seed=2), nn.LayerNorm(k, dtype=dtype)]
    if kind == "res":
        return [nn.Linear(width, 3, dtype=dtype, seed=1), nn.Residual([nn.Linear(3, 3, dtype=dtype, seed=3),
                                                                       nn.Tanh()]),
                nn.GELU(), nn.Linear(3, k, dtype=dtype, seed=2)]
    if kind == "nested":  # Sequentials as layers, in a Sequential and in a Residual
        return [nn.Linear(width, 3, dtype=dtype, seed=1),
                bprop.Sequential([nn.ReLU(), nn.Residual([bprop.Sequential([nn.Linear(3, 3, dtype=dtype, seed=3)])]),
                                  nn.Linear(3, k, dtype=dtype, seed=2)])]
    return [nn.ReLU(), nn.Dropout(0.2, seed=1)]  # "act": no parameters; the width comes from the data


@builder("model", shared=True)
def build_model(kind, width, k, dtype, loss=None, optimizer="Adam"):
    """A small model of `width` inputs and k outputs; compiled with `loss` when given."""
    model = TinyNet(width, k, dtype) if kind == "module" else bprop.Sequential(stack(kind, width, k, dtype),
                                                                              dtype=dtype)
    if loss is not None:
        model.compile(optimizer=getattr(optim, optimizer)(lr=0.01), loss=getattr(nn, loss)(),
                      metrics=METRICS[loss])
    return model


@builder("weights_of")
def build_weights_of(model, form):
    model = build(model)
    return model.state_dict() if form == "dict" else model.get_weights()


@builder("config_of")
def build_config_of(model):
    return build(model).get_config()


@st.composite
def models(draw, compiled=True, kinds=None):
    """(model recipe, width, k, loss name). Compiled models have parameters (an optimizer needs some)."""
    kind = draw(st.sampled_from(kinds or (tuple(k for k in KINDS if k != "act") if compiled else KINDS)))
    loss = draw(st.sampled_from(("MSE", "CrossEntropy", "BinaryCrossEntropy", "MAE", "Huber"))) if compiled else None
    width = draw(dims(1, 4))
    k = width if kind == "act" else (3 if loss == "CrossEntropy" else draw(dims(1, 3)))
    if kind == "act" and loss == "CrossEntropy":
        width = k = 3
    dtype = draw(st.sampled_from(("float32", "float64")))
    optimizer = draw(st.sampled_from(("Adam", "SGD", "RMSprop", "Adagrad", "AdamW")))
    return R("model", kind, width, k, dtype, loss, optimizer), width, k, loss


@st.composite
def datasets(draw, width, k, loss, rows=None):
    """(x, y) recipes that fit a model of width inputs, k outputs and loss."""
    rows = rows or draw(dims(1, 6))
    x = draw(arrays(("float32", "float64", "int64", "bool"), (rows, width), ("c", "f", "neg", "step")))
    y, _ = draw(targets(loss or "MSE", rows, k))
    return x, y


def data_junk():
    return st.one_of(junk(shapes(0, 3, 0, 5)), odd_arrays(shapes(2, 2, 0, 5)))


def call_forward_backward(model, x, training, grad_out, order):
    """Sequential.forward then backward (grad_out None: ones like the output), or backward first."""
    if order == "backward-first":
        return model.backward(np.ones((1, 1), np.float32) if grad_out is None else grad_out)
    out = model.forward(x, training=training)
    model.backward(np.ones_like(out) if grad_out is None else grad_out)
    return out, [p.grad for p in model.parameters()]


@st.composite
def forward_valid(draw):
    model, width, k, _ = draw(models(compiled=False, kinds=("mlp", "norm", "res", "nested", "act")))
    x, _ = draw(datasets(width, k, None))
    return {"model": model, "x": x, "training": draw(st.booleans()), "grad_out": None, "order": "forward-backward"}


MODEL_CALLS = ("forward", "backward", "predict", "fit", "evaluate", "get_weights", "set_weights", "state_dict",
               "load_state_dict", "summary", "reseed", "build", "call", "train", "eval", "count_params", "save",
               "load_weights", "get_config", "compile", "zero_grad", "repr", "parameters", "in_features", "as_batch",
               "named_parameters", "named_buffers", "buffers", "training", "stop_training", "implied_input_shape", "core",
               "name", "dtype")


def call_model_sequence(model, calls):
    """Calls on a Sequential or Module in any order, each with a fitting argument or junk."""
    for method, argument in calls:
        if method in ("fit", "evaluate"):
            x, y = argument if isinstance(argument, tuple) and len(argument) == 2 else (argument, argument)
            getattr(model, method)(x, y, **({"epochs": 1, "verbose": 0} if method == "fit" else {}))
        elif method == "compile":
            model.compile(optimizer=optim.SGD(lr=0.1), loss=argument)
        elif method == "summary":
            model.summary(print_fn=lambda text: None)
        elif method == "call":
            model(argument)
        elif method in ("get_weights", "state_dict", "count_params", "get_config", "zero_grad", "parameters", "eval",
                        "named_parameters", "named_buffers", "buffers", "named_children"):
            getattr(model, method)()
        elif method == "as_batch":
            model.as_batch(argument, "fuzz")
        elif method == "dtype":
            model.dtype
        elif method == "repr":
            repr(model)
        elif method == "in_features":
            (model.in_features, model.out_features, model.input_shape, model.output_shape)
        elif method == "training":
            model.training
        elif method in ("implied_input_shape", "name"):  # a Sequential is a layer too
            model.implied_input_shape() if method == "implied_input_shape" else (model.name, model.keeps_shape,
                                                                                  model.takes_indices)
        elif method == "stop_training":
            model.stop_training = argument
        else:
            getattr(model, method)(argument)
    return model


MODULE_CALLS = ("call", "predict", "fit", "evaluate", "state_dict", "load_state_dict", "reseed", "train", "eval",
                "count_params", "save", "load_weights", "compile", "zero_grad", "repr", "parameters", "in_features",
                "as_batch", "named_parameters", "named_buffers", "buffers", "named_children", "dtype", "forward",
                "training", "stop_training", "output_of")


@st.composite
def model_sequences(draw):
    model, width, k, loss = draw(models(compiled=draw(st.booleans()), kinds=KINDS))
    fitting = {
        "forward": arrays(("float32", "float64"), (2, width)), "backward": arrays(("float32", "float64"), (2, k)),
        "as_batch": arrays(("float32", "int64"), (2, width)),
        "predict": arrays(("float32",), (3, width)), "fit": datasets(width, k, loss),
        "evaluate": datasets(width, k, loss),
        "set_weights": st.just(R("weights_of", model, "list")),
        "load_state_dict": st.just(R("weights_of", model, "dict")),
        "reseed": st.sampled_from((0, 5)), "build": st.just(width), "call": valid_tensors(st.just((2, width))),
        "train": st.booleans(), "save": st.sampled_from(("m.bprop", "sub/m.bprop")),
        "load_weights": st.just("m.bprop"), "compile": st.just(R("loss", loss or "MSE", {})),
        "stop_training": st.booleans(), "output_of": valid_tensors(st.just((2, width))),
        "core": st.sampled_from(("float32", "float64"))}
    calls = []
    for _ in range(draw(st.integers(1, 4))):
        method = draw(st.sampled_from(MODULE_CALLS if model[1] == "module" else MODEL_CALLS))
        good = fitting.get(method, st.none())
        calls.append((method, draw(st.one_of(good, good, junk()) if method in fitting else good)))
    return {"model": model, "calls": calls}


def call_sequential(layers_, dtype):
    model = bprop.Sequential(layers_, dtype=dtype)
    return model, model.get_config(), repr(model), model.count_params(), model.summary(print_fn=lambda text: None)


@st.composite
def sequential_valid(draw):
    width, dtype = draw(dims(1, 4)), draw(st.sampled_from(("float32", "float64")))
    chain = []
    for _ in range(draw(st.integers(1, 4))):
        layer, _, width = draw(layers(width, dtype))
        chain.append(layer)
    return {"layers_": chain, "dtype": draw(st.sampled_from((None, dtype)))}


def call_compile(model, optimizer, loss, metrics, x, y):
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model.fit(x, y, epochs=1, verbose=0).history


@st.composite
def compile_valid(draw):
    model, width, k, _ = draw(models(compiled=False, kinds=("mlp", "norm", "res", "module")))
    loss = draw(st.sampled_from(("MSE", "MAE", "Huber", "BinaryCrossEntropy")))
    x, y = draw(datasets(width, k, loss))
    return {"model": model, "optimizer": R("optimizer", draw(st.sampled_from(("SGD", "Adam"))), None, {}),
            "loss": R("loss", loss, {}), "metrics": draw(st.sampled_from((None, ["mae"], "mse", []))), "x": x, "y": y}


def call_from_config(config):
    return bprop.Sequential.tensor_shapes(config), bprop.Sequential.from_config(config)


def model_config_junk():
    layer_entry = st.one_of(deserialize_junk(), layers().map(lambda r: {"class": r[0][1], "config": r[0][2]}))
    return st.one_of(deserialize_junk(), st.fixed_dictionaries(
        {"layers": st.one_of(junk_scalars(), st.lists(layer_entry, max_size=3))},
        optional={"dtype": junk_dtypes(), "in_features": junk_ints(1),
                  "input_shape": st.one_of(junk_ints(1), st.sampled_from(([0], [], [2**70], "ab", [1.5], [3, -1])))}))


def call_set_weights(model, method, weights):
    getattr(model, method)(weights)
    return model.get_weights() if hasattr(model, "get_weights") else model.state_dict()


def weights_junk():
    return st.one_of(junk(), st.lists(junk(st.sampled_from(((3, 4), (4,), (4, 2), (0,), ()))), max_size=4),
                     st.dictionaries(st.sampled_from(("0.weight", "0.bias", "fc.weight", "2.weight", "x")),
                                     junk(st.sampled_from(((3, 4), (4,), (2, 4), ())))))


class AssignsFirst(bprop.Module):
    def __init__(self):
        self.fc = nn.Linear(2, 2)  # before super().__init__(): a mistake bprop should name
        super().__init__()


class ReturnsJunk(bprop.Module):
    def __init__(self, value):
        super().__init__()
        self.fc, self.value = nn.Linear(2, 2), value

    def forward(self, x):
        return self.value


def call_module_misuse(kind, value, x):
    if kind == "assigns-first":
        return AssignsFirst()
    module = bprop.Module() if kind == "no-forward" else ReturnsJunk(value)
    if kind == "fit":
        module.compile(optimizer=optim.SGD(lr=0.1), loss=nn.MSE())
        return module.fit(x, np.zeros((len(x), 2)), epochs=1, verbose=0)
    return module.predict(x)


MLP = R("model", "mlp", 3, 2, "float32", "MSE", "Adam")
X43, Y42 = R("arr", "float32", (4, 3), "c", "rand"), R("arr", "float32", (4, 2), "c", "rand")

ENTRIES = [
    Entry("Sequential(...)", call_sequential, sequential_valid(),
          {"layers_": st.one_of(junk(), st.lists(st.one_of(junk_scalars(), layers().map(lambda r: r[0])), max_size=3)),
           "dtype": junk_dtypes()}),
    Entry("Sequential.forward/backward", call_forward_backward, forward_valid(),
          {"x": data_junk(), "grad_out": junk(shapes(0, 3, 0, 5)), "order": st.just("backward-first"),
           "training": junk_flags()}),
    Entry("Sequential/Module.<calls in any order>", call_model_sequence, model_sequences(), checks_valid=False,
          known=[{"model": MLP, "calls": [("reseed", 2**64)]}]),
    Entry("Sequential/Module.compile", call_compile, compile_valid(),
          {"optimizer": st.one_of(junk_scalars(), st.sampled_from(("adam", R("optimizer", "SGD", [R("param", R(
              "arr", "float32", (2,), "c", "rand"))], {})))),
           "loss": st.one_of(junk_scalars(), st.sampled_from(("mse", R("loss", "CrossEntropy", {})))),
           "metrics": st.one_of(junk_scalars(), st.lists(st.sampled_from(("accuracy", "top_0_accuracy", "nope", None,
                                                                          "top_99_accuracy", "top_k_accuracy", 5,
                                                                          "top_99999999999999999999_accuracy")),
                                                         max_size=2))}),
    Entry("Sequential.from_config", call_from_config,
          models(compiled=False, kinds=("mlp", "norm", "res", "nested", "act")).map(
              lambda m: {"config": R("config_of", m[0])}),
          {"config": model_config_junk()}, known=[{"config": {}}]),
    Entry("Sequential/Module.set_weights/load_state_dict", call_set_weights, models(compiled=False).flatmap(
        lambda m: st.sampled_from(("load_state_dict",) if m[0][1] == "module" else ("load_state_dict", "set_weights"))
        .map(lambda method: {"model": m[0], "method": method,
                             "weights": R("weights_of", m[0], "dict" if method == "load_state_dict" else "list")})),
          {"weights": weights_junk()}),
    Entry("Module misuse", call_module_misuse,
          st.just({"kind": "predict", "value": R("ten", R("arr", "float32", (1, 2), "c", "rand"), False),
                   "x": R("arr", "float32", (1, 2), "c", "rand")}),
          {"kind": st.sampled_from(("assigns-first", "no-forward", "fit")),
           "value": st.one_of(junk(), tensors(shapes(0, 3, 0, 3)))}),
]
