"""fit, evaluate, predict and compile list their options in their signatures, with one set of defaults:
the model's methods forward to the Trainer's, and these tests fail if the two drift apart."""
import inspect
import pydoc
import typing

import numpy as np
import pytest

import bprop
from bprop import nn, optim
from bprop.models.trainable import Trainable
from bprop.training.trainer import Trainer


def parameters(function):
    """[(name, kind, default, resolved annotation)] after self."""
    hints = typing.get_type_hints(function)
    return [(p.name, p.kind, p.default, hints.get(p.name)) for p in
            list(inspect.signature(function).parameters.values())[1:]] + [("return", None, None, hints.get("return"))]


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_the_model_methods_have_the_trainer_signature(method):
    assert parameters(getattr(Trainable, method)) == parameters(getattr(Trainer, method))


def test_predict_has_one_signature_for_sequential_and_module():
    assert parameters(bprop.Sequential.predict) == parameters(bprop.Module.predict)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "compile"])
def test_no_catch_all_keywords(method):
    for cls in (bprop.Sequential, bprop.Module, Trainer):
        function = getattr(cls, method, None)
        if function is None:
            continue
        kinds = {p.kind for p in inspect.signature(function).parameters.values()}
        assert not kinds & {inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL}, (cls, method)


def test_help_shows_every_fit_option():
    text = pydoc.render_doc(bprop.Sequential([nn.Linear(2, 1)]).fit, renderer=pydoc.plaintext)
    for name in inspect.signature(Trainer.fit).parameters:
        if name != "self":
            assert f"{name}:" in text and f"{name} :" in text, name   # in the signature and the docstring
    assert "**kwargs" not in text


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_the_model_and_trainer_docstrings_describe_the_options_alike(method):
    docscrape = pytest.importorskip("numpydoc.docscrape")
    model_doc = docscrape.FunctionDoc(getattr(Trainable, method))["Parameters"]
    trainer_doc = docscrape.FunctionDoc(getattr(Trainer, method))["Parameters"]
    assert model_doc == trainer_doc


def test_fit_forwards_every_option(monkeypatch):
    received = {}

    def record(self, x, y, **kwargs):
        received.update(kwargs)

    options = [name for name in inspect.signature(Trainer.fit).parameters if name not in ("self", "x", "y")]
    monkeypatch.setattr(Trainer, "fit", record)
    model = bprop.Sequential([nn.Linear(2, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    sentinels = {name: object() for name in options}
    model.fit(np.zeros((2, 2), np.float32), np.zeros((2, 1), np.float32), **sentinels)
    assert received == sentinels


def test_evaluate_forwards_every_option(monkeypatch):
    received = {}

    def record(self, x, y, **kwargs):
        received.update(kwargs)

    monkeypatch.setattr(Trainer, "evaluate", record)
    model = bprop.Sequential([nn.Linear(2, 1)]).compile(optim.SGD(lr=0.1), nn.MSE())
    sentinels = {"batch_size": object(), "sample_weight": object()}
    model.evaluate(np.zeros((2, 2), np.float32), np.zeros((2, 1), np.float32), **sentinels)
    assert received == sentinels
