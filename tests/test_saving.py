"""Saving, loading and resuming models (bprop/saving.py over checkpoint_file.py): bit-exact round trips for
every layer and optimizer, resume equal to an uninterrupted run in a fresh process, ModelCheckpoint, and
every bad file refused before anything is assigned."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import callbacks, nn, optim
from bprop.io.checkpoint_file import load_file, save_file


def every_layer_model(dtype="float32"):
    return bprop.Sequential([
        nn.Linear(6, 16, dtype=dtype), nn.BatchNorm(16, dtype=dtype), nn.ReLU(), nn.Dropout(0.2),
        nn.Residual([nn.Linear(16, 16, dtype=dtype), nn.LayerNorm(16, dtype=dtype), nn.GELU("tanh")]),
        nn.LeakyReLU(0.1), nn.Linear(16, 8, bias=False, dtype=dtype), nn.ELU(0.5), nn.Sigmoid(), nn.Tanh(),
        nn.GELU(), nn.Identity(), nn.Linear(8, 3, dtype=dtype), nn.Softmax(),
    ])


def data(rows=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)


def assert_same_model(a, b, config=True):
    if config:  # a state dict carries weights, not the initialisers' seeds
        assert a.get_config() == b.get_config()
    for (name, p), (name_b, q) in zip(a.named_parameters() + a.named_buffers(), b.named_parameters() + b.named_buffers()):
        assert name == name_b
        assert p.value().tobytes() == q.value().tobytes(), name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_layer_round_trips_bit_exact(tmp_path, dtype):
    model = every_layer_model(dtype)
    x, y = data()
    model.compile(optim.Adam(lr=0.01), nn.MSE(), metrics=["mae"])
    model.fit(x, np.eye(3)[y], epochs=2, batch_size=16, verbose=0, seed=1)  # moves weights and BatchNorm statistics
    model.save(tmp_path / "m.bprop")
    loaded = bprop.load(tmp_path / "m.bprop")
    assert_same_model(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, np.eye(3)[y]) == model.evaluate(x, np.eye(3)[y])  # compiled as it was


OPTIMIZERS = [
    lambda: optim.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
    lambda: optim.Adam(lr=0.01, amsgrad=True, schedule=optim.CosineDecay(50, per="step")),
    lambda: optim.AdamW(lr=0.01, clipnorm=1.0),
    lambda: optim.RMSprop(lr=0.01, centered=True, momentum=0.5),
    lambda: optim.Adagrad(lr=0.05, lr_decay=0.01),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_every_optimizer_state_round_trips_and_training_continues_identically(tmp_path, make):
    x, y = data()
    model = bprop.Sequential([nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 3)])
    model.compile(make(), nn.CrossEntropy())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=2)
    model.save(tmp_path / "c.bprop", include_optimizer=True)
    loaded = bprop.load(tmp_path / "c.bprop")
    a, b = model._trainer.optimizer, loaded._trainer.optimizer
    assert type(a) is type(b) and a.get_config() == b.get_config() and a.step_count == b.step_count
    for name, array in a.state_dict()["state"].items():
        assert array.tobytes() == b.state_dict()["state"][name].tobytes(), name
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=3)
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=3)
    assert_same_model(model, loaded)


RESUME_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, bprop
    from bprop import nn, optim, callbacks
    mode, directory = sys.argv[1], sys.argv[2]
    bprop.set_num_threads(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 2] > 0).astype(np.int64)
    bprop.manual_seed(5)
    model = bprop.Sequential([nn.Linear(6, 32), nn.BatchNorm(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2)])
    model.compile(optim.Adam(lr=0.01, schedule=optim.StepDecay(10, 0.5, per="step")), nn.CrossEntropy(), metrics=["accuracy"])
    if mode == "whole":
        model.fit(x, y, epochs=4, batch_size=32, seed=11, verbose=0, validation_split=0.1)
    elif mode == "first":
        cb = callbacks.ModelCheckpoint(directory + "/ckpt/epoch{epoch:03d}.bprop")
        model.fit(x, y, epochs=2, batch_size=32, seed=11, verbose=0, validation_split=0.1, callbacks=[cb])
    else:
        bprop.manual_seed(99)  # a fresh process with other initial weights: the checkpoint decides
        model = bprop.Sequential([nn.Linear(6, 32), nn.BatchNorm(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2)])
        model.compile(optim.Adam(lr=0.01, schedule=optim.StepDecay(10, 0.5, per="step")), nn.CrossEntropy(), metrics=["accuracy"])
        model.fit(x, y, epochs=4, batch_size=32, verbose=0, validation_split=0.1,
                  resume_from=directory + "/ckpt/epoch002.bprop")
    np.savez(directory + "/" + mode + ".npz", *[a for a in model.get_weights()])
""")


def test_resume_in_a_fresh_process_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT)
    for mode in ("whole", "first", "resumed"):
        run = subprocess.run([sys.executable, str(script), mode, str(tmp_path)], capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "ckpt" / "epoch001.bprop").exists()
    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "resumed.npz")
    assert len(whole.files) == len(resumed.files) == 8
    for key in whole.files:
        assert whole[key].tobytes() == resumed[key].tobytes(), key


def test_module_resumes_exactly_too(tmp_path):
    class Net(bprop.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.drop, self.fc2 = nn.Linear(6, 16), nn.Dropout(0.25), nn.Linear(16, 3)

        def forward(self, t):
            return self.fc2(self.drop(self.fc1(t).relu()))

    x, y = data()

    def fresh(seed):
        bprop.manual_seed(seed)
        net = Net()
        net.compile(optim.SGD(lr=0.1, momentum=0.9), nn.CrossEntropy())
        return net

    whole = fresh(0)
    whole.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=4)
    first = fresh(0)
    first.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=4,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "net.bprop"))])
    resumed = fresh(1)
    resumed.fit(x, y, epochs=3, batch_size=16, verbose=0, resume_from=tmp_path / "net.bprop")
    for (name, p), q in zip(whole.named_parameters(), resumed.parameters()):
        assert p.value().tobytes() == q.value().tobytes(), name
    with pytest.raises(bprop.CheckpointError, match=r"Module.*call module.load_weights\(path\)"):
        bprop.load(tmp_path / "net.bprop")  # the way out it names exists:
    assert callable(Net().load_weights)
    other = fresh(2)
    other.load_weights(tmp_path / "net.bprop")
    for p, q in zip(other.parameters(), first.parameters()):
        assert p.value().tobytes() == q.value().tobytes()


def test_a_file_of_one_model_kind_is_refused_by_another(tmp_path):
    # The saver asks the model what it is (a registered architecture or not), never isinstance: a
    # Sequential's file refused by a Module holding the same parameter names, and the other way round.
    class Net(bprop.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(6, 3)]

        def forward(self, t):
            return self.layers[0](t)

    net, sequential = Net(), bprop.Sequential([nn.Linear(6, 3)])
    assert [name for name, _ in net.named_parameters()] == ["layers.0.weight", "layers.0.bias"]
    sequential.save(tmp_path / "sequential.bprop")
    net.save(tmp_path / "net.bprop")
    with pytest.raises(bprop.CheckpointError, match=r"it holds a Sequential; this model is a Net"):
        net.load_weights(tmp_path / "sequential.bprop")
    with pytest.raises(bprop.CheckpointError, match=r"do not fit this model"):
        sequential.load_weights(tmp_path / "net.bprop")


def test_model_checkpoint_saves_the_best_only_when_asked(tmp_path):
    x, y = data()
    model = bprop.Sequential([nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)])
    model.compile(optim.Adam(lr=0.05), nn.CrossEntropy())
    losses = iter([0.9, 0.5, 0.7, 0.4, 0.45])
    saved = []

    class FakeLoss(callbacks.Callback):  # sets the monitored value, before the checkpoint sees it
        def on_epoch_end(self, epoch, logs):
            logs["val_loss"] = next(losses)

    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}-{val_loss:.2f}.bprop"), save_best_only=True)
    spy = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: saved.append(checkpoint.last_saved))
    model.fit(x, y, epochs=5, batch_size=32, verbose=0, callbacks=[FakeLoss(), checkpoint, spy])
    assert sorted(os.listdir(tmp_path)) == ["best-1-0.90.bprop", "best-2-0.50.bprop", "best-4-0.40.bprop"]
    assert bprop.load(tmp_path / "best-4-0.40.bprop").get_config() == model.get_config()
    with pytest.raises(ValueError, match="monitors 'val_acc'"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "x.bprop"),
                                                                                  monitor="val_acc",
                                                                                  save_best_only=True)])


def test_state_dict_round_trip_and_checks():
    model = every_layer_model()
    state = model.state_dict()
    assert list(state)[:2] == ["0.weight", "0.bias"] and "1.running_mean" in state
    other = every_layer_model()
    other.load_state_dict(state)
    assert_same_model(model, other, config=False)
    before = other.get_weights()
    bad = dict(state)
    bad["0.weight"] = bad["0.weight"][:, :3]
    with pytest.raises(ValueError, match=r"0.weight is float32 \(6, 3\); the model's is float32 \(6, 16\)"):
        other.load_state_dict(bad)
    with pytest.raises(ValueError, match="missing 0.bias"):
        other.load_state_dict({k: v for k, v in state.items() if k != "0.bias"})
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing assigned


# -- bad files: each is refused before anything changes ------------------------------------------------
def rewrite(source, target, edit_tensors=None, edit_document=None):
    tensors, document = load_file(source)
    document = {k: document[k] for k in ("model", "compile", "optimizer_state", "training")}
    if edit_tensors:
        edit_tensors(tensors)
    if edit_document:
        edit_document(document)
    save_file(target, tensors, document)
    return target


@pytest.fixture
def saved(tmp_path):
    x, y = data()
    model = bprop.Sequential([nn.Linear(6, 8), nn.BatchNorm(8), nn.ReLU(), nn.Linear(8, 3)])
    model.compile(optim.Adam(lr=0.01), nn.CrossEntropy())
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "good.bprop", include_optimizer=True)
    return model, tmp_path


BAD_EDITS = {
    "missing tensor": (lambda t: t.pop("model/0.bias"), None, "missing 0.bias"),
    "extra tensor": (lambda t: t.update({"model/9.weight": np.zeros(2, np.float32)}), None, "unexpected 9.weight"),
    "wrong shape": (lambda t: t.update({"model/0.weight": np.zeros((6, 9), np.float32)}), None,
                    r"0.weight is float32 \(6, 9\); the model's is float32 \(6, 8\)"),
    "wrong dtype": (lambda t: t.update({"model/0.weight": np.zeros((6, 8))}), None, "0.weight is float64"),
    "NaN weight": (lambda t: t["model/3.bias"].__setitem__(0, np.nan), None, "3.bias contains NaN"),
    "stray tensor": (lambda t: t.update({"notes": np.zeros(1)}), None, "unexpected tensors notes"),
    "unknown layer": (None, lambda d: d["model"]["config"]["layers"][2].update({"class": "os.system"}),
                      "unknown layer class 'os.system'"),
    "bad layer config": (None, lambda d: d["model"]["config"]["layers"][0]["config"].update({"out_features": -3}),
                         "architecture cannot be built"),
    "no model entry": (None, lambda d: d.pop("model"), "no model"),
    "bad training position": (None, lambda d: d.update({"training": {"epoch": -1, "seed": 0}}),
                              "epoch must be an integer >= 0"),
    "optimizer state mismatch": (lambda t: t.pop("optimizer/exp_avg.0"), None, "optimizer state does not fit"),
    "unknown optimizer": (None, lambda d: d["compile"]["optimizer"].update({"name": "Eval"}),
                          "compile settings are invalid"),
}


@pytest.mark.parametrize("case", sorted(BAD_EDITS))
def test_bad_files_raise_checkpoint_error_naming_the_problem(saved, case):
    model, directory = saved
    edit_tensors, edit_document, message = BAD_EDITS[case]
    path = rewrite(directory / "good.bprop", directory / "bad.bprop", edit_tensors, edit_document)
    with pytest.raises(bprop.CheckpointError, match=message):
        bprop.load(path)
    if case not in ("unknown layer", "bad layer config", "unknown optimizer", "optimizer state mismatch"):
        before = model.get_weights()
        with pytest.raises(bprop.CheckpointError):
            model.load_weights(path)
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_checkpoint_error_is_a_value_error_and_paths_are_checked(tmp_path, saved):
    assert issubclass(bprop.CheckpointError, ValueError)
    with pytest.raises(FileNotFoundError):
        bprop.load(tmp_path / "nope.bprop")
    with pytest.raises(bprop.CheckpointError):
        bprop.load(tmp_path)
    model, directory = saved
    other = bprop.Sequential([nn.Linear(6, 8), nn.BatchNorm(8), nn.Tanh(), nn.Linear(8, 3)])
    with pytest.raises(bprop.CheckpointError, match="different architecture"):
        other.load_weights(directory / "good.bprop")


def test_resume_needs_a_checkpoint_and_a_matching_optimizer(saved):
    model, directory = saved
    x, y = data()
    with pytest.raises(bprop.CheckpointError, match="no training position"):
        model.fit(x, y, verbose=0, resume_from=directory / "good.bprop")
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(directory / "sgd.bprop"))])
    model.compile(optim.Adam(lr=0.1), nn.CrossEntropy())
    before = model.get_weights()
    with pytest.raises(bprop.CheckpointError, match="the state is from SGD"):
        model.fit(x, y, epochs=2, verbose=0, resume_from=directory / "sgd.bprop")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_level_fuzz_each_corrupt_file_raises_or_loads_identically(saved):
    model, directory = saved
    raw = (directory / "good.bprop").read_bytes()
    header_length = int.from_bytes(raw[:8], "little")
    rng = np.random.default_rng(0)
    outcomes = {"raised": 0, "identical": 0}
    for i in range(1000):
        data_ = bytearray(raw)
        kind = i % 4
        if kind == 0:
            data_ = data_[:int(rng.integers(0, len(raw)))]
        elif kind == 1:
            for _ in range(int(rng.integers(1, 4))):
                position = int(rng.integers(0, len(raw)))
                data_[position] ^= 1 << int(rng.integers(0, 8))
        elif kind == 2:  # inside the JSON header
            position = int(rng.integers(8, 8 + header_length))
            data_[position] = int(rng.integers(32, 127))
        else:
            data_[:8] = int(rng.integers(0, 2 ** 63)).to_bytes(8, "little")
        path = directory / "fuzz.bprop"
        path.write_bytes(bytes(data_))
        try:
            loaded = bprop.load(path)
        except bprop.CheckpointError:
            outcomes["raised"] += 1
            continue
        assert_same_model(model, loaded)
        outcomes["identical"] += 1
    assert outcomes["raised"] > 900, outcomes


def test_files_hold_no_pickle_and_document_is_json(saved):
    _, directory = saved
    raw = (directory / "good.bprop").read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert "__metadata__" in header and b"\x80\x04" not in raw[:64]


def test_a_file_declaring_sizes_its_tensors_do_not_have_is_refused_before_building(tmp_path):
    """A 1 KB file whose config says Linear(12000, 12000) (or 2**61 features) is refused from its tensor
    headers: nothing is allocated for the sizes it claims."""
    import resource

    model = bprop.Sequential([nn.Linear(3, 2), nn.LayerNorm(2)])
    path = tmp_path / "small.bprop"
    model.save(path)
    for layer, claimed in ((0, {"in_features": 12000, "out_features": 12000}), (1, {"features": 2**61})):
        bad = rewrite(path, tmp_path / "bad.bprop", None,
                      lambda d: d["model"]["config"]["layers"][layer]["config"].update(claimed))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(bprop.CheckpointError, match=r"float32 \(2,\)|float32 \(3, 2\)"):
            bprop.load(bad)
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 100_000  # KB: far below 1.1 GB


def test_a_file_saved_before_sample_shapes_still_loads():
    # Written by the release before issue 11 (8a8d116, tests/data): its config names in_features, not
    # input_shape, and its layers' configs are the old ones. It loads, and predicts exactly as it did then.
    data = Path(__file__).parent / "data"
    model = bprop.load(data / "sequential_before_sample_shapes.safetensors")
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    assert model.input_shape == (None, 3)
    np.testing.assert_array_equal(model.predict(x), np.load(data / "sequential_before_sample_shapes_predict.npy"))
