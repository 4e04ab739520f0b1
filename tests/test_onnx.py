"""bprop.onnx.export: every layer kind (each option of it) exported, checked by onnx.checker and run by
onnxruntime on batches of 1 and of several samples from the same file (the batch axis is symbolic), against
bprop's own predict; then whole networks, and the errors raised before any file is written.

float64 models run in onnx's reference evaluator: onnxruntime's CPU provider has no float64 kernels for Conv,
the pooling layers, the recurrent layers, Erf, Elu, Softplus or HardSwish."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import bprop
from bprop import nn, optim

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import bprop.onnx  # noqa: E402 (after the skips: it needs onnx)
from onnx.reference import ReferenceEvaluator  # noqa: E402
from onnx.reference.ops._op import OpRunUnaryNum  # noqa: E402

VOCAB, PAD = 12, 0


def _randomise(model, rng):
    """Non-trivial values for every parameter and buffer (biases, scales, running statistics, slopes)."""
    for p in model.parameters():
        p.set_value((rng.normal(size=p.shape) * 0.6).astype(p.dtype))
    for b in model.buffers():
        values = rng.uniform(0.5, 2.0, b.shape) if b.name == "running_var" else rng.normal(size=b.shape) * 0.5
        b.set_value(values.astype(b.dtype))
    return model


def _indices(rng, rows, steps, padded):
    """Indices in [1, VOCAB); with padded, each row's tail from a random length on is PAD (one real index at least)."""
    x = rng.integers(1, VOCAB, (rows, steps))
    if padded:
        for r, length in enumerate(rng.integers(1, steps + 1, rows)):
            x[r, length:] = PAD
        x[0, 1:] = PAD  # one sequence of length 1
        x[-1, :] = rng.integers(1, VOCAB, steps)  # one of full length
    return x.astype(np.int64)


class Erf(OpRunUnaryNum):
    """Erf in float64 (the reference evaluator's own computes in float32): it replaces it by its name."""

    op_domain = ""

    def _run(self, x):
        return (np.vectorize(math.erf, otypes=[x.dtype])(x),)


def _run(path, x, dtype):
    if np.dtype(dtype) == np.float64:
        return ReferenceEvaluator(path, new_ops=[Erf]).run(None, {"input": x})[0]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def _check_export(model, inputs, path, scale=1.0):
    """Export with inputs[:1] as the example, check the file, compare runs on 1 and on all samples."""
    assert bprop.onnx.export(model, path, inputs[:1]) == str(path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == bprop.onnx.OPSET >= 17
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    tolerance = dict(rtol=1e-10, atol=1e-11) if model.dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for x in (inputs[:1], inputs):
        np.testing.assert_allclose(_run(str(path), x, model.dtype), model.predict(x), **tolerance)


S = bprop.Sequential

# (id, model factory, sample shape or "indices:<steps>[:padded]", input scale)
CASES = [
    ("linear", lambda d: S([nn.Linear(5, 3, dtype=d)]), (5,), 1),
    ("linear-nobias", lambda d: S([nn.Linear(5, 3, bias=False, dtype=d)]), (5,), 1),
    ("linear-on-sequences", lambda d: S([nn.Linear(5, 3, dtype=d)]), (4, 5), 1),
    *[(f"act-{name}", (lambda a: lambda d: S([nn.Linear(5, 6, dtype=d), a()]))(make), (5,), 3) for name, make in [
        ("relu", nn.ReLU), ("leakyrelu", lambda: nn.LeakyReLU(0.2)), ("elu", lambda: nn.ELU(0.7)),
        ("gelu", nn.GELU), ("gelu-tanh", lambda: nn.GELU("tanh")), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh),
        ("silu", nn.SiLU), ("softplus", nn.Softplus), ("softplus-beta-threshold", lambda: nn.Softplus(beta=2.0,
                                                                                                     threshold=3.0)),
        ("hardswish", nn.Hardswish), ("mish", nn.Mish), ("softmax", nn.Softmax), ("identity", nn.Identity)]],
    ("prelu-shared", lambda d: S([nn.Linear(5, 6, dtype=d), nn.PReLU(dtype=d)]), (5,), 3),
    ("prelu-per-feature", lambda d: S([nn.Linear(5, 6, dtype=d), nn.PReLU(6, dtype=d)]), (5,), 3),
    ("dropout", lambda d: S([nn.Linear(5, 6, dtype=d), nn.Dropout(0.5)]), (5,), 1),
    ("batchnorm", lambda d: S([nn.BatchNorm(6, eps=1e-3, dtype=d)]), (6,), 1),
    ("batchnorm-on-sequences", lambda d: S([nn.BatchNorm(6, dtype=d)]), (3, 6), 1),
    ("layernorm", lambda d: S([nn.LayerNorm(6, eps=1e-3, dtype=d)]), (4, 6), 1),
    ("batchnorm1d-features", lambda d: S([nn.BatchNorm1d(6, dtype=d)]), (6,), 1),
    ("batchnorm1d-channels", lambda d: S([nn.BatchNorm1d(3, dtype=d)]), (3, 7), 1),
    ("batchnorm2d", lambda d: S([nn.BatchNorm2d(3, eps=1e-3, dtype=d)]), (3, 4, 5), 1),
    ("flatten", lambda d: S([nn.Flatten(), nn.Linear(24, 2, dtype=d)]), (2, 3, 4), 1),
    ("flatten-partial", lambda d: S([nn.Flatten(start_dim=2), nn.Linear(12, 2, dtype=d)]), (2, 3, 4), 1),
    ("reshape", lambda d: S([nn.Linear(6, 6, dtype=d), nn.Reshape((3, -1))]), (6,), 1),
    ("residual", lambda d: S([nn.Residual([nn.Linear(6, 6, dtype=d), nn.ReLU(), nn.Linear(6, 6, dtype=d)])]),
     (6,), 1),
    ("residual-shortcut", lambda d: S([nn.Residual([nn.Linear(6, 4, dtype=d), nn.Tanh()],
                                                   shortcut=[nn.Linear(6, 4, dtype=d)])]), (6,), 1),
    ("nested-sequential", lambda d: S([nn.Linear(5, 6, dtype=d), S([nn.ReLU(), S([nn.Linear(6, 3, dtype=d)])])]),
     (5,), 1),
    ("conv1d", lambda d: S([nn.Conv1d(3, 4, 3, stride=2, padding=1, dtype=d)]), (3, 11), 1),
    ("conv1d-same-even-dilated", lambda d: S([nn.Conv1d(3, 4, 4, padding="same", dilation=2, dtype=d)]), (3, 10), 1),
    ("conv2d", lambda d: S([nn.Conv2d(3, 4, 3, stride=(2, 1), padding=(1, 2), dtype=d), nn.ReLU()]), (3, 7, 6), 1),
    ("conv2d-same-even", lambda d: S([nn.Conv2d(3, 4, (2, 4), padding="same", dtype=d)]), (3, 6, 7), 1),
    ("conv2d-dilated-nobias", lambda d: S([nn.Conv2d(3, 4, 3, dilation=2, bias=False, dtype=d)]), (3, 8, 9), 1),
    ("conv2d-groups", lambda d: S([nn.Conv2d(4, 6, 3, groups=2, padding=1, dtype=d)]), (4, 5, 5), 1),
    ("conv2d-depthwise", lambda d: S([nn.Conv2d(4, 4, 3, groups=4, dtype=d), nn.Dropout2d(0.3)]), (4, 6, 5), 1),
    ("convtranspose2d", lambda d: S([nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1, dtype=d)]),
     (3, 4, 5), 1),
    ("convtranspose2d-groups-dilated", lambda d: S([nn.ConvTranspose2d(4, 6, (3, 2), stride=(1, 2), groups=2,
                                                                       dilation=2, bias=False, dtype=d)]),
     (4, 4, 3), 1),
    ("maxpool1d", lambda d: S([nn.MaxPool1d(3, stride=2, padding=1)], dtype=d), (2, 10), 1),
    ("maxpool1d-ceil", lambda d: S([nn.MaxPool1d(2, ceil_mode=True)], dtype=d), (2, 9), 1),
    ("maxpool2d", lambda d: S([nn.MaxPool2d(2)], dtype=d), (2, 6, 7), 1),
    ("maxpool2d-dilated-ceil", lambda d: S([nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True)],
                                           dtype=d), (2, 8, 9), 1),
    ("maxpool2d-ceil-window-in-padding", lambda d: S([nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)],
                                                     dtype=d), (2, 4, 5), 1),
    ("avgpool1d", lambda d: S([nn.AvgPool1d(3, stride=2, padding=1)], dtype=d), (2, 10), 1),
    ("avgpool1d-ceil-exclude-pad", lambda d: S([nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True,
                                                             count_include_pad=False)], dtype=d), (2, 10), 1),
    ("avgpool2d-ceil-include-pad", lambda d: S([nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)], dtype=d),
     (2, 6, 8), 1),
    ("avgpool2d-ceil-window-in-padding", lambda d: S([nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True)],
                                                     dtype=d), (2, 4, 5), 1),
    ("avgpool2d-rect", lambda d: S([nn.AvgPool2d((2, 3), stride=(1, 2))], dtype=d), (2, 5, 7), 1),
    ("adaptive1d-global", lambda d: S([nn.AdaptiveAvgPool1d(1)], dtype=d), (3, 7), 1),
    ("adaptive1d-divides", lambda d: S([nn.AdaptiveAvgPool1d(3)], dtype=d), (3, 9), 1),
    ("adaptive1d-uneven", lambda d: S([nn.AdaptiveAvgPool1d(4)], dtype=d), (3, 10), 1),
    ("adaptive2d-global", lambda d: S([nn.AdaptiveAvgPool2d(1)], dtype=d), (3, 5, 6), 1),
    ("adaptive2d-divides", lambda d: S([nn.AdaptiveAvgPool2d((2, 3))], dtype=d), (3, 6, 6), 1),
    ("adaptive2d-uneven", lambda d: S([nn.AdaptiveAvgPool2d((3, 4))], dtype=d), (3, 7, 5), 1),
    ("adaptive2d-larger", lambda d: S([nn.AdaptiveAvgPool2d((5, 2))], dtype=d), (3, 3, 4), 1),
    ("upsample1d", lambda d: S([nn.Upsample(3)], dtype=d), (2, 5), 1),
    ("upsample2d", lambda d: S([nn.Upsample((2, 3))], dtype=d), (2, 3, 4), 1),
    ("embedding", lambda d: S([nn.Embedding(VOCAB, 4, dtype=d), nn.Flatten()]), "indices:5", 1),
    ("embedding-padding-idx", lambda d: S([nn.Embedding(VOCAB, 4, padding_idx=PAD, dtype=d), nn.Flatten()]),
     "indices:5:padded", 1),
    ("embedding-2d-samples", lambda d: S([nn.Embedding(VOCAB, 3, dtype=d)]), "indices:2x3", 1),
    ("rnn-tanh", lambda d: S([nn.RNN(3, 4, dtype=d)]), (6, 3), 1),
    ("rnn-relu-bidirectional-sequences", lambda d: S([nn.RNN(3, 4, nonlinearity="relu", bidirectional=True,
                                                             return_sequences=True, dtype=d)]), (6, 3), 1),
    ("lstm", lambda d: S([nn.LSTM(3, 4, dtype=d)]), (6, 3), 1),
    ("lstm-stacked-bidirectional", lambda d: S([nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=d)]), (6, 3), 1),
    ("lstm-sequences-nobias", lambda d: S([nn.LSTM(3, 4, num_layers=2, bias=False, return_sequences=True,
                                                   dtype=d)]), (6, 3), 1),
    ("gru", lambda d: S([nn.GRU(3, 4, dtype=d)]), (6, 3), 1),
    ("gru-stacked-bidirectional-sequences", lambda d: S([nn.GRU(3, 4, num_layers=2, bidirectional=True,
                                                                return_sequences=True, dtype=d)]), (6, 3), 1),
    *[(f"padded-{cell.__name__.lower()}-{'bi' if bi else 'uni'}-{'seq' if seq else 'last'}",
       (lambda c, b, s: lambda d: S([nn.Embedding(VOCAB, 4, padding_idx=PAD, dtype=d),
                                     c(4, 5, bidirectional=b, return_sequences=s, dtype=d),
                                     nn.Linear(5 * (2 if b else 1), 3, dtype=d)]))(cell, bi, seq),
       "indices:7:padded", 1)
      for cell in (nn.RNN, nn.LSTM, nn.GRU) for bi in (False, True) for seq in (False, True)],
    ("padded-stacked-lstm-in-nested-sequential", lambda d: S([S([nn.Embedding(VOCAB, 4, padding_idx=PAD, dtype=d),
                                                                 nn.LSTM(4, 5, num_layers=2, dtype=d)]),
                                                              nn.Linear(5, 2, dtype=d)]), "indices:7:padded", 1),
]
FLOAT64_CASES = {"linear", "act-gelu", "act-elu", "act-softplus-beta-threshold", "act-hardswish", "act-mish",
                 "batchnorm2d", "layernorm", "conv2d-groups", "convtranspose2d", "avgpool2d-ceil-include-pad",
                 "adaptive2d-uneven", "upsample2d", "embedding-padding-idx", "lstm-stacked-bidirectional",
                 "gru-stacked-bidirectional-sequences", "padded-lstm-bi-seq", "padded-gru-bi-last"}


def _inputs(shape, scale, rng, dtype, rows=5):
    if isinstance(shape, str):
        _, steps, *padded = shape.split(":")
        sample = tuple(int(s) for s in steps.split("x"))
        if len(sample) == 1:
            return _indices(rng, rows, sample[0], bool(padded))
        return rng.integers(0, VOCAB, (rows, *sample)).astype(np.int64)
    return (rng.normal(size=(rows, *shape)) * scale).astype(dtype)


# Every case in float32; a selection in float64 (onnx's reference evaluator, which runs them, is slow).
PARAMS = [pytest.param(*case, "float32", id=case[0]) for case in CASES] + \
    [pytest.param(*case, "float64", id=f"{case[0]}-float64") for case in CASES if case[0] in FLOAT64_CASES]


@pytest.mark.parametrize("name, make, shape, scale, dtype", PARAMS)
def test_each_layer_kind_exports_and_matches_predict(name, make, shape, scale, dtype, tmp_path):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    model = _randomise(make(dtype), rng)
    if dtype == "float64" and str(shape).endswith(":padded"):
        shape = shape[:-len(":padded")]  # the reference evaluator ignores sequence_lens: float32 runs test them
    _check_export(model, _inputs(shape, scale, rng, dtype), tmp_path / f"{name}.onnx")


def test_every_layer_class_has_a_converter():
    exported = {cls.__name__ for cls in bprop.onnx._registry.registered_classes()}
    layers = set(nn.__all__) - {"Layer", "register_layer", "Loss", "MSE", "MAE", "Huber", "CrossEntropy",
                                "BinaryCrossEntropy"}
    assert layers | {"Sequential"} == exported


# -- whole networks ------------------------------------------------------------------------------------------
def _fit(model, x, y, loss, epochs=2):
    model.compile(optim.Adam(lr=1e-2), loss)
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return model


def test_an_mlp(tmp_path):
    rng = np.random.default_rng(1)
    model = S([nn.Linear(10, 32), nn.GELU(), nn.Dropout(0.2), nn.Linear(32, 16), nn.LayerNorm(16), nn.SiLU(),
               nn.Linear(16, 4)])
    x = rng.normal(size=(64, 10)).astype(np.float32)
    _fit(model, x, rng.integers(0, 4, 64), nn.CrossEntropy())
    _check_export(model, x[:9], tmp_path / "mlp.onnx")


def test_a_lenet_like_cnn(tmp_path):
    rng = np.random.default_rng(2)
    model = S([nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
               nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Linear(32, 10)])
    x = rng.normal(size=(32, 1, 28, 28)).astype(np.float32)
    _fit(model, x, rng.integers(0, 10, 32), nn.CrossEntropy(), epochs=1)
    _check_export(model, x[:4], tmp_path / "lenet.onnx")


def test_a_resnet_stack_with_trained_batch_norm(tmp_path):
    rng = np.random.default_rng(3)

    def block(cin, cout, stride):
        shortcut = None if cin == cout and stride == 1 else [nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                                           nn.BatchNorm2d(cout)]
        return nn.Residual([nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                            nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)],
                           shortcut=shortcut)

    model = S([nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), block(8, 8, 1), nn.ReLU(),
               block(8, 16, 2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5)])
    x = rng.normal(size=(48, 3, 12, 12)).astype(np.float32) * 2 + 0.5
    _fit(model, x, rng.integers(0, 5, 48), nn.CrossEntropy())
    running_means = [b.value() for name, b in model.named_buffers() if name.endswith("running_mean")]
    assert all(np.abs(m).max() > 1e-3 for m in running_means)  # the statistics moved away from their start
    _check_export(model, x[:6], tmp_path / "resnet.onnx")


def test_a_char_level_lstm_on_padded_sequences(tmp_path):
    rng = np.random.default_rng(4)
    model = S([nn.Embedding(VOCAB, 8, padding_idx=PAD), nn.LSTM(8, 16, bidirectional=True), nn.Linear(32, 3)])
    x = _indices(rng, 40, 12, padded=True)
    _fit(model, x, rng.integers(0, 3, 40), nn.CrossEntropy())
    assert model._net.lengths_from_padding  # bprop reads the lengths from the padding ...
    _check_export(model, x[:7], tmp_path / "charlstm.onnx")
    lstm = [node for node in onnx.load(str(tmp_path / "charlstm.onnx")).graph.node if node.op_type == "LSTM"]
    assert len(lstm) == 1 and lstm[0].input[4]  # ... and so does the graph: the LSTM gets sequence_lens


def test_a_built_model_needs_no_example(tmp_path):
    model = _randomise(S([nn.Linear(3, 2)]), np.random.default_rng(5))
    bprop.onnx.export(model, tmp_path / "m.onnx")
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(_run(str(tmp_path / "m.onnx"), x, "float32"), model.predict(x), rtol=1e-4, atol=1e-5)


def test_a_loaded_model_exports_as_the_saved_one(tmp_path):
    rng = np.random.default_rng(6)
    model = _randomise(S([nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2)]), rng)
    model.build((2, 6)).save(tmp_path / "model.bprop")
    loaded = bprop.load(tmp_path / "model.bprop")
    x = rng.normal(size=(3, 2, 6)).astype(np.float32)
    _check_export(loaded, x, tmp_path / "loaded.onnx")
    np.testing.assert_allclose(_run(str(tmp_path / "loaded.onnx"), x, "float32"), model.predict(x), rtol=1e-4,
                               atol=1e-5)


def test_a_subclass_keeping_the_layer_is_exported_and_one_changing_it_is_not(tmp_path):
    class Dense(nn.Linear):
        pass

    class Swapped(nn.Linear):
        def _make_core(self, dtype):
            return super()._make_core(dtype)

    bprop.onnx.export(S([Dense(3, 2)]), tmp_path / "dense.onnx")
    with pytest.raises(TypeError, match=r"model\.layers\[0\] \(Swapped\)"):
        bprop.onnx.export(S([Swapped(3, 2)]), tmp_path / "swapped.onnx")


# -- errors, before any file is written ----------------------------------------------------------------------
class Scale(nn.Layer):
    def __init__(self):
        super().__init__()
        self.scale = bprop.Parameter(np.ones(3, np.float32))

    def forward(self, x):
        return x * self.scale


def test_a_layer_without_converter_is_named_and_nothing_is_written(tmp_path):
    model = S([nn.Linear(3, 3), nn.Residual([Scale()]), nn.ReLU()])
    with pytest.raises(TypeError, match=r"model\.layers\[1\]\.layers\[0\] \(Scale, written in Python\)"):
        bprop.onnx.export(model, tmp_path / "m.onnx", np.ones((1, 3), np.float32))
    assert os.listdir(tmp_path) == []


def test_a_module_is_refused_with_the_way_out(tmp_path):
    class Net(bprop.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

    with pytest.raises(TypeError, match="Module.*Sequential"):
        bprop.onnx.export(Net(), tmp_path / "m.onnx", np.ones((1, 3), np.float32))
    with pytest.raises(TypeError, match="must be a bprop.Sequential"):
        bprop.onnx.export(nn.Linear(3, 2), tmp_path / "m.onnx")


@pytest.mark.parametrize("example, error, message", [
    (None, ValueError, "not built"),
    (np.ones((1, 4, 4), np.float32), ValueError, "does not fit"),
    (np.ones((1, 4, 5), np.int64), TypeError, "float array"),
    (np.ones(5, np.float32), ValueError, "batch"),
    (np.full((1, 3, 4), np.nan, np.float32), ValueError, "NaN"),
    ("abc", TypeError, "numbers"),
])
def test_bad_examples_are_refused(example, error, message, tmp_path):
    model = S([nn.Conv1d(3, 2, 2)])  # not built: the sample length is not known
    with pytest.raises(error, match=message):
        bprop.onnx.export(model, tmp_path / "m.onnx", example)
    assert os.listdir(tmp_path) == []


def test_an_index_model_needs_integer_indices_in_range(tmp_path):
    model = S([nn.Embedding(VOCAB, 3), nn.Flatten()])
    with pytest.raises(TypeError, match="integer indices"):
        bprop.onnx.export(model, tmp_path / "m.onnx", np.ones((1, 4), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        bprop.onnx.export(model, tmp_path / "m.onnx", np.full((1, 4), VOCAB, np.int64))


def test_a_built_model_refuses_an_example_of_another_shape(tmp_path):
    with pytest.raises(ValueError, match="features"):
        bprop.onnx.export(S([nn.Linear(3, 2)]), tmp_path / "m.onnx", np.ones((1, 4), np.float32))


def test_paths_that_cannot_be_written(tmp_path):
    model = S([nn.Linear(3, 2)])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        bprop.onnx.export(model, tmp_path / "missing" / "m.onnx")
    with pytest.raises(IsADirectoryError):
        bprop.onnx.export(model, tmp_path)
    with pytest.raises(TypeError, match="path"):
        bprop.onnx.export(model, 3)


def test_a_directory_without_write_permission(tmp_path, monkeypatch):
    # What the operating system says (root writes anywhere, so the tests ask os.access to refuse).
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match="permission denied"):
        bprop.onnx.export(S([nn.Linear(3, 2)]), tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


def test_an_existing_file_is_replaced_whole(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    bprop.onnx.export(S([nn.Linear(3, 2)]), path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert os.listdir(tmp_path) == ["m.onnx"]  # no temporary left


def test_import_bprop_does_not_import_onnx_and_a_missing_onnx_names_the_extra():
    python = os.path.join(os.path.dirname(bprop.__file__), os.pardir)
    env = {**os.environ, "PYTHONPATH": os.path.abspath(python)}
    code = "import sys, bprop; assert 'onnx' not in sys.modules and 'bprop.onnx' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    code = ("import sys; sys.modules['onnx'] = None\n"
            "try:\n    import bprop.onnx\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True).stdout
    assert 'pip install "bprop[onnx]"' in out
