"""CSVLogger: the file it writes, read back with the csv module, against the History of the same fit."""
import csv

import numpy as np
import pytest

import bprop
from bprop import callbacks, nn, optim


def classifier_and_data(seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    bprop.manual_seed(seed)
    model = bprop.Sequential([nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)])
    model.compile(optim.Adam(lr=1e-2), nn.CrossEntropy(), metrics=["accuracy"])
    return model, x, y


def read(path, separator=","):
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter=separator)
        return reader.fieldnames, list(reader)


def test_one_row_per_epoch_equal_to_the_history(tmp_path):
    model, x, y = classifier_and_data()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=4, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.CSVLogger(path)])
    header, rows = read(path)
    assert header == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [int(row["epoch"]) for row in rows] == history.epoch == [0, 1, 2, 3]
    for key, values in history.history.items():
        assert [float(row[key]) for row in rows] == values   # exact: floats are written in full


def test_separator_and_a_new_run_starts_a_new_file(tmp_path):
    model, x, y = classifier_and_data()
    path = tmp_path / "log.tsv"
    model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(path, separator="\t")])
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path, separator="\t")])
    assert open(path).read().count("epoch") == 1
    header, rows = read(path, "\t")
    assert [float(row["loss"]) for row in rows] == history.history["loss"]


def test_append_keeps_the_rows_and_writes_the_header_once(tmp_path):
    model, x, y = classifier_and_data()
    path = tmp_path / "log.csv"
    first = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    second = model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    header, rows = read(path)
    assert header == ["epoch", "loss", "accuracy"]
    assert [float(row["loss"]) for row in rows] == first.history["loss"] + second.history["loss"]
    assert [int(row["epoch"]) for row in rows] == [0, 1, 0, 1, 2]


def test_a_key_that_appears_later_widens_the_header_and_a_missing_one_leaves_a_blank(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(path)
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 1.0})
    logger.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.75})
    logger.on_epoch_end(2, {"loss": 0.25})
    header, rows = read(path)
    assert header == ["epoch", "loss", "val_loss"]
    assert [(row["loss"], row["val_loss"]) for row in rows] == [("1.0", ""), ("0.5", "0.75"), ("0.25", "")]


def test_rows_are_on_disk_and_the_file_closed_when_training_raises(tmp_path):
    model, x, y = classifier_and_data()
    path = tmp_path / "log.csv"

    def fail_at_epoch_2(epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[callbacks.CSVLogger(path),
                                                        callbacks.LambdaCallback(on_epoch_begin=fail_at_epoch_2)])
    _, rows = read(path)
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    # Nothing holds the file: it can be replaced at once (and on every platform, deleted).
    path.unlink()


def test_lr_from_reduce_lr_on_plateau_is_a_column_when_the_logger_comes_after(tmp_path):
    model, x, y = classifier_and_data()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        callbacks.ReduceLROnPlateau(monitor="loss", patience=1), callbacks.CSVLogger(path)])
    header, rows = read(path)
    assert header[-1] == "lr" and [float(row["lr"]) for row in rows] == history.history["lr"]


@pytest.mark.parametrize("kwargs, error, words", [
    ({"filename": 3}, TypeError, "filename"),
    ({"filename": None}, TypeError, "filename"),
    ({"filename": "a\0b"}, ValueError, "NUL"),
    ({"filename": "a.csv", "separator": ""}, ValueError, "separator"),
    ({"filename": "a.csv", "separator": ",,"}, ValueError, "separator"),
    ({"filename": "a.csv", "separator": "\n"}, ValueError, "separator"),
    ({"filename": "a.csv", "separator": 1}, TypeError, "separator"),
    ({"filename": "a.csv", "append": "yes"}, TypeError, "append"),
])
def test_bad_arguments_are_refused_at_construction(kwargs, error, words):
    with pytest.raises(error, match=words):
        callbacks.CSVLogger(**kwargs)


def test_a_missing_directory_fails_before_the_first_epoch(tmp_path):
    model, x, y = classifier_and_data()
    weights = model.get_weights()
    with pytest.raises(FileNotFoundError):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(tmp_path / "no" / "log.csv")])
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
