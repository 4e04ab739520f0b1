"""Registry entries: fit, evaluate and predict, Trainer, and the callbacks in a fit."""
import numpy as np
from hypothesis import strategies as st

import bprop
from bprop import callbacks

from .entries_models import MLP, X43, Y42, data_junk, datasets, models
from .entry import Entry
from .values import (Invalid, R, arrays, build, builder, dims, junk, junk_flags, junk_ints, junk_reals, junk_scalars,
                     junk_some_keywords)


@builder("callback")
def build_callback(name, kwargs):
    return getattr(callbacks, name)(**build(kwargs))


VALID_CALLBACKS = [R("callback", "EarlyStopping", {"monitor": "loss", "patience": 1}),
                   R("callback", "TerminateOnNaN", {}), R("callback", "History", {}),
                   R("callback", "LambdaCallback", {"on_epoch_end": R("fn", "none"),
                                                    "on_train_batch_end": R("fn", "none")}),
                   R("callback", "ReduceLROnPlateau", {"monitor": "loss", "patience": 1}),
                   R("callback", "LearningRateScheduler", {"schedule": R("fn", "half")}),
                   R("callback", "ModelCheckpoint", {"filepath": "ck/e{epoch}.bprop"}), R("callback", "Callback", {})]


@st.composite
def fit_valid(draw):
    model, width, k, loss = draw(models())
    rows = draw(dims(4, 8))
    x, y = draw(datasets(width, k, loss, rows))
    kwargs = {"epochs": draw(st.integers(0, 2)), "batch_size": draw(st.sampled_from((1, 3, 8, 64))),
              "shuffle": draw(st.booleans()), "seed": draw(st.sampled_from((None, 0, 2**63 - 1))),
              "verbose": draw(st.sampled_from((0, 1, 2))), "initial_epoch": 0,
              "callbacks": draw(st.one_of(st.none(), st.lists(st.sampled_from(VALID_CALLBACKS), max_size=2)))}
    if draw(st.booleans()):
        kwargs["validation_split"] = 0.25
    elif draw(st.booleans()):
        kwargs["validation_data"] = draw(datasets(width, k, loss))
    if draw(st.booleans()):
        kwargs["sample_weight"] = draw(arrays(("float64", "float32"), (rows,), fills=("unit",)))
    if loss == "CrossEntropy" and len(y[2]) == 1 and draw(st.booleans()):  # labels, not probabilities
        kwargs["class_weight"] = {0: 1.0, 1: 2.0}
    return {"model": model, "x": x, "y": y, "kwargs": kwargs}


FIT_JUNK = {"epochs": junk_ints(0), "batch_size": junk_ints(1), "validation_split": junk_reals(),
            "validation_data": st.one_of(junk(), st.tuples(junk(), junk())), "shuffle": junk_flags(),
            "seed": junk_ints(0), "sample_weight": junk(), "class_weight": st.one_of(junk_scalars(), st.sampled_from(
                [{0: "a"}, {0: -1.0}, {0: float("nan")}, {2**63: 1.0}, {"x": 1.0}])),
            "verbose": junk_scalars(), "initial_epoch": junk_ints(0),
            "callbacks": st.one_of(junk_scalars(), st.lists(st.one_of(junk_scalars(), st.sampled_from(VALID_CALLBACKS),
                                                                      st.just(R("callback", "EarlyStopping",
                                                                                {"monitor": "nope"}))), max_size=2)),
            "resume_from": st.one_of(junk_scalars(), st.sampled_from(("missing.bprop", ".", R("file", "model", None),
                                                                      R("file", "saved", None))))}


@st.composite
def fit_junk_kwargs(draw):
    kwargs = {"epochs": 1, "batch_size": 2, "verbose": 0}
    for key in draw(st.lists(st.sampled_from(sorted(FIT_JUNK)), min_size=1, max_size=2, unique=True)):
        kwargs[key] = draw(FIT_JUNK[key])
    return kwargs


def call_fit(model, x, y, kwargs):
    """fit; a fit that ran its epochs to the end without a stop must have changed the weights."""
    before = [p.value() for p in model.parameters()]
    history = model.fit(x, y, **kwargs)
    epochs = kwargs.get("epochs", 1)
    ran = isinstance(epochs, int) and epochs > kwargs.get("initial_epoch", 0) and not kwargs.get("resume_from")
    if ran and history.stopped_reason is None and not kwargs.get("callbacks"):
        if len(history.history.get("loss", [])) != epochs - kwargs.get("initial_epoch", 0):
            raise Invalid(f"fit ran {len(history.history.get('loss', []))} of {epochs} epochs without a reason")
        # A loss of exactly 0 everywhere (outputs equal to the targets) has no gradient to step on.
        if any(history.history["loss"]) and all(np.array_equal(a, p.value())
                                                for a, p in zip(before, model.parameters())):
            raise Invalid(f"fit returned after {epochs} epochs without changing any weight: {history.history}")
    return history.history, history.stopped_reason


def call_evaluate_predict(model, method, x, y, batch_size, sample_weight):
    if method == "predict":
        return model.predict(x, batch_size=batch_size)
    return model.evaluate(x, y, batch_size=batch_size, sample_weight=sample_weight)


@st.composite
def evaluate_valid(draw):
    method = draw(st.sampled_from(("predict", "evaluate")))
    model, width, k, loss = draw(models(compiled=method == "evaluate" or draw(st.booleans())))
    x, y = draw(datasets(width, k, loss))
    return {"model": model, "method": method, "x": x, "y": y,
            "batch_size": draw(st.sampled_from((1, 2, 256))), "sample_weight": None}


def call_trainer(model, optimizer, loss, metrics, callbacks_, x, y, path, epoch):
    trainer = bprop.Trainer(model, optimizer, loss, metrics, callbacks_)
    history = trainer.fit(x, y, epochs=1, verbose=0).history
    trainer.save_checkpoint(path, epoch)
    return history, trainer.evaluate(x, y)


@st.composite
def trainer_valid(draw):
    model, width, k, _ = draw(models(compiled=False, kinds=("mlp", "module")))
    x, y = draw(datasets(width, k, "MSE"))
    return {"model": model, "optimizer": R("optimizer", "SGD", None, {}), "loss": R("loss", "MSE", {}),
            "metrics": None, "callbacks_": None, "x": x, "y": y, "path": "t.bprop", "epoch": 1}


CALLBACK_KWARGS = {
    "EarlyStopping": {"monitor": ("loss", "val_loss"), "min_delta": (0.0, 0.1), "patience": (0, 2),
                      "mode": ("auto", "min", "max"), "restore_best": (False, True), "baseline": (None, 10.0)},
    "ReduceLROnPlateau": {"monitor": ("loss", "val_loss"), "factor": (0.1, 0.5), "patience": (0, 1),
                          "mode": ("auto", "max"), "min_delta": (1e-4,), "cooldown": (0, 1), "min_lr": (0.0, 1e-3)},
    "LearningRateScheduler": {"schedule": (R("fn", "half"),), "verbose": (0, 1)},
    "LambdaCallback": {"on_epoch_end": (R("fn", "none"),), "on_train_begin": (R("fn", "none"), None)},
    "ModelCheckpoint": {"filepath": ("c.bprop", "d/{epoch:02d}-{loss:.2f}.bprop"), "monitor": ("loss", "val_loss"),
                        "save_best_only": (False, True), "mode": ("auto", "min")},
    "TerminateOnNaN": {}, "History": {}, "ProgressBar": {"epochs": (1, 3), "per_epoch_only": (False, True)},
}
CALLBACK_JUNK = {"monitor": junk_scalars(), "min_delta": junk_reals(), "patience": junk_ints(0),
                 "mode": junk_scalars(), "restore_best": junk_flags(), "baseline": junk_reals(), "factor": junk_reals(),
                 "cooldown": junk_ints(0), "min_lr": junk_reals(), "verbose": junk_scalars(),
                 "schedule": st.sampled_from((R("fn", "nan"), R("fn", "str"), None, 3)),
                 "on_epoch_end": junk_scalars(), "on_train_begin": junk_scalars(), "on_nope": st.just(R("fn", "none")),
                 "filepath": st.one_of(junk_scalars(), st.sampled_from(("{nope}.bprop", "{epoch", "", "a\x00b", "{0}",
                                                                        "x" * 300, "{loss:d}.bprop"))),
                 "save_best_only": junk_flags(), "epochs": junk_ints(0), "per_epoch_only": junk_flags()}


def call_callback(spec, model, x, y):
    name, kwargs = spec
    callback = getattr(callbacks, name)(**kwargs)
    if name == "ProgressBar":
        return callback
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[callback])
    return history.history


@st.composite
def callback_specs(draw, junk_keys=0):
    name = draw(st.sampled_from(sorted(CALLBACK_KWARGS)))
    kwargs = {key: draw(st.sampled_from(v)) for key, v in CALLBACK_KWARGS[name].items()}
    keys = sorted(set(kwargs) | ({"on_nope"} if name == "LambdaCallback" else set())) or ["verbose"]
    junk_some_keywords(draw, kwargs, keys, CALLBACK_JUNK, junk_keys)
    return name, kwargs


@st.composite
def callback_valid(draw):
    model, width, k, loss = draw(models(kinds=("mlp",)))
    x, y = draw(datasets(width, k, loss))
    return {"spec": draw(callback_specs()), "model": model, "x": x, "y": y}


ENTRIES = [
    Entry("Sequential/Module.fit", call_fit, fit_valid(),
          {"kwargs": fit_junk_kwargs(), "x": data_junk(), "y": data_junk()},
          known=[{"model": MLP, "x": X43, "y": Y42, "kwargs": {"epochs": 1, "verbose": 0, **kwargs}}
                 for kwargs in ({"batch_size": 2**63}, {"epochs": 2**63}, {"batch_size": 2**63 - 1},
                                {"callbacks": ["junk"]}, {"seed": 2**64})]),
    Entry("Sequential/Module.evaluate/predict", call_evaluate_predict, evaluate_valid(),
          {"x": data_junk(), "y": data_junk(), "batch_size": junk_ints(1), "sample_weight": junk()}),
    Entry("Trainer(...)", call_trainer, trainer_valid(),
          {"model": junk_scalars(), "optimizer": junk_scalars(), "loss": st.one_of(junk_scalars(), st.just("mse")),
           "metrics": st.one_of(junk_scalars(), st.just(["nope"])), "callbacks_": st.one_of(
               junk_scalars(), st.lists(junk_scalars(), min_size=1, max_size=2)),
           "path": st.one_of(junk_scalars(), st.sampled_from(("", ".", "a\x00b", "nodir/t.bprop"))),
           "epoch": junk_ints(0)}),
    Entry("callbacks.<Callback>(...)", call_callback, callback_valid(),
          {"spec": st.one_of(callback_specs(1), callback_specs(2))}),
]
