"""Model.compile / fit / evaluate / predict, the callbacks, and the manual training loop."""
import warnings

import numpy as np
import pytest

import bprop
from bprop import callbacks, nn, optim
from bprop.datasets import two_spirals, xor


def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    return x[order], data.target[order]


def small_classifier(seed=0, dtype="float32"):
    bprop.manual_seed(seed)
    return bprop.Sequential([nn.Linear(64, 32, dtype=dtype), nn.ReLU(), nn.Dropout(0.1),
                             nn.Linear(32, 10, dtype=dtype)])


def test_xor_is_learned():
    x, y = xor()
    bprop.manual_seed(1)
    model = bprop.Sequential([nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()])
    model.compile(optimizer=optim.SGD(lr=0.5, momentum=0.9), loss=nn.MSE(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=2000, batch_size=4, verbose=0, seed=0)
    np.testing.assert_array_equal(model.predict(x) > 0.5, y > 0.5)
    assert history.history["accuracy"][-1] == 1.0


def test_digits_reach_97_percent():
    x, y = digits()
    model = small_classifier()
    model.compile(optimizer=optim.Adam(lr=3e-3), loss=nn.CrossEntropy(), metrics=["accuracy"])
    history = model.fit(x[:1400], y[:1400], epochs=40, batch_size=32, validation_split=0.1, seed=0, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 40
    scores = model.evaluate(x[1400:], y[1400:])
    assert scores["accuracy"] >= 0.97, scores


def test_two_spirals_main_job_model_learns():
    x, y = two_spirals(n_per_class=300, seed=2)
    bprop.manual_seed(0)
    model = bprop.Sequential([nn.Linear(2, 64), nn.ReLU(), nn.Residual([nn.Linear(64, 64), nn.ReLU()]),
                              nn.Residual([nn.Linear(64, 64), nn.ReLU()]), nn.Linear(64, 2)])
    model.compile(optimizer=optim.Adam(lr=3e-3), loss=nn.CrossEntropy(), metrics=["accuracy"])
    model.fit(x, y, epochs=150, batch_size=32, seed=0, verbose=0)
    assert model.evaluate(x, y)["accuracy"] > 0.95


def trained_weights(threads, seed=0):
    original = bprop.get_num_threads()
    bprop.set_num_threads(threads)
    try:
        x, y = digits()
        model = small_classifier(seed)
        model.compile(optimizer=optim.Adam(lr=1e-3), loss=nn.CrossEntropy(), metrics=["accuracy"])
        model.fit(x[:600], y[:600], epochs=3, batch_size=64, seed=seed, verbose=0)
        return model.get_weights()
    finally:
        bprop.set_num_threads(original)


def test_a_seed_reproduces_a_run_exactly_and_threads_agree():
    one = trained_weights(threads=1)
    for a, b in zip(one, trained_weights(threads=1)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(one, trained_weights(threads=2)):  # GEMMs never split K: identical in practice
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert any(not np.array_equal(a, b) for a, b in zip(one, trained_weights(threads=1, seed=1)))


def test_manual_loop_matches_fit_step():
    x, y = digits()
    x, y = x[:64], y[:64]
    model_a = bprop.Sequential([nn.Linear(64, 10, seed=5, dtype="float64")])
    model_b = bprop.Sequential([nn.Linear(64, 10, seed=5, dtype="float64")])
    opt = optim.SGD(model_a.parameters(), lr=0.1, momentum=0.9)
    loss = nn.CrossEntropy()
    for _ in range(3):
        out = model_a.forward(x, training=True)
        value, grad = loss.forward_backward(out, y)
        model_a.backward(grad)
        opt.step()
    model_b.compile(optimizer=optim.SGD(lr=0.1, momentum=0.9), loss=nn.CrossEntropy())
    model_b.fit(x, y, epochs=3, batch_size=64, shuffle=False, verbose=0)
    for a, b in zip(model_a.get_weights(), model_b.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_sample_weights_scale_the_gradient():
    # Weights of 2 on every sample double the mean loss's gradient: SGD with lr/2 must give the same run.
    x, y = digits()
    x, y = x[:200], y[:200]
    runs = []
    for lr, weights in ((0.1, np.full(200, 2.0)), (0.2, None)):
        model = bprop.Sequential([nn.Linear(64, 10, seed=7, dtype="float64")])
        model.compile(optimizer=optim.SGD(lr=lr), loss=nn.CrossEntropy())
        model.fit(x, y, epochs=2, batch_size=50, seed=0, sample_weight=weights, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_class_weight_zero_ignores_a_class():
    x, y = digits()
    x, y = x[:300], y[:300]
    runs = []
    for class_weight, keep in (({3: 0.0}, slice(None)), (None, y != 3)):
        model = bprop.Sequential([nn.Linear(64, 10, seed=7, dtype="float64")])
        model.compile(optimizer=optim.SGD(lr=0.1), loss=nn.CrossEntropy(reduction="sum"))
        model.fit(x[keep], y[keep], epochs=1, batch_size=1000, shuffle=False, class_weight=class_weight,
                  verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_evaluate_and_predict_agree_with_the_loss():
    x, y = digits()
    model = small_classifier()
    model.compile(optimizer=optim.Adam(), loss=nn.CrossEntropy(), metrics=["accuracy", "top_3_accuracy"])
    scores = model.evaluate(x[:333], y[:333], batch_size=50)
    out = model.predict(x[:333], batch_size=7)
    assert scores["loss"] == pytest.approx(nn.CrossEntropy()(out, y[:333]), rel=1e-5)
    assert scores["accuracy"] == pytest.approx(np.mean(out.argmax(1) == y[:333]))
    top3 = np.argsort(-out, axis=1)[:, :3]
    assert scores["top_3_accuracy"] == pytest.approx(np.mean((top3 == y[:333, None]).any(1)))
    np.testing.assert_array_equal(model.predict(x[:333], batch_size=333), out)


def test_regression_metrics():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    model = bprop.Sequential([nn.Linear(3, 1, seed=0)])
    model.compile(optimizer=optim.SGD(lr=0.1), loss=nn.MSE(), metrics=["mse", "mae"])
    history = model.fit(x, y, epochs=50, batch_size=32, verbose=0, seed=0)
    assert history.history["mse"][-1] < 1e-6
    assert history.history["loss"][-1] == pytest.approx(history.history["mse"][-1], rel=1e-3, abs=1e-9)


def test_nonfinite_loss_stops_with_a_message():
    x, y = digits()
    model = small_classifier()
    model.compile(optimizer=optim.SGD(lr=1e12), loss=nn.CrossEntropy())
    with pytest.warns(RuntimeWarning, match="NaN or Inf"):
        history = model.fit(x[:500], y[:500], epochs=20, batch_size=16, verbose=0, seed=0)
    assert len(history.epoch) < 20
    assert np.isnan(history.history["loss"][-1])
    assert "non-finite loss" in history.stopped_reason


class TestCallbacks:
    def compiled(self):
        model = small_classifier()
        model.compile(optimizer=optim.Adam(lr=1e-3), loss=nn.CrossEntropy(), metrics=["accuracy"])
        return model

    def test_early_stopping_restores_best_weights(self):
        x, y = digits()
        model = self.compiled()
        seen = []
        stop = callbacks.EarlyStopping(monitor="val_loss", patience=0, restore_best=True, min_delta=10.0)
        record = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
        history = model.fit(x[:300], y[:300], epochs=10, validation_split=0.2, verbose=0, seed=0,
                            callbacks=[stop, record])
        assert len(history.epoch) == 2  # epoch 0 sets the best, epoch 1 cannot beat it by 10
        for a, b in zip(model.get_weights(), seen[0]):
            np.testing.assert_array_equal(a, b)
        assert "EarlyStopping" in history.stopped_reason

    def test_learning_rate_scheduler_and_reduce_on_plateau(self):
        x, y = digits()
        model = self.compiled()
        rates = []
        schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (epoch + 1))
        spy = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: rates.append(model._trainer.optimizer.lr))
        model.fit(x[:200], y[:200], epochs=3, verbose=0, callbacks=[schedule, spy])
        assert rates == pytest.approx([0.01, 0.005, 0.01 / 3])
        plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=100.0)
        history = model.fit(x[:200], y[:200], epochs=4, verbose=0, callbacks=[plateau])
        assert history.history["lr"][-1] < history.history["lr"][0]

    def test_batch_hooks_run_once_per_batch(self):
        x, y = digits()
        model = self.compiled()
        batches = []
        hook = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append((batch, logs["loss"])))
        model.fit(x[:100], y[:100], epochs=2, batch_size=32, verbose=0, callbacks=[hook])
        assert [b for b, _ in batches] == [0, 1, 2, 3] * 2

    def test_progress_output_per_epoch_when_not_a_terminal(self, capsys):
        x, y = digits()
        self.compiled().fit(x[:100], y[:100], epochs=2, verbose=1)
        out = capsys.readouterr().out
        assert "Epoch 1/2" in out and "Epoch 2/2" in out and "accuracy" in out
        self.compiled().fit(x[:100], y[:100], epochs=2, verbose=0)
        assert capsys.readouterr().out == ""


class TestBadInput:
    def compiled(self):
        model = small_classifier()
        model.compile(optimizer=optim.Adam(), loss=nn.CrossEntropy(), metrics=["accuracy"])
        return model

    @pytest.mark.parametrize("change,error,match", [
        (lambda x, y, kw: (x[:10], y[:11], kw), ValueError, "x has 10 samples but y has 11"),
        (lambda x, y, kw: (x[:, :60], y, kw), ValueError, "has 60 features; the model expects 64"),
        (lambda x, y, kw: (x, np.where(y == 3, 10, y), kw), ValueError, "out of range"),
        (lambda x, y, kw: (np.where(x > 0.9, np.nan, x), y, kw), ValueError, "NaN or Inf"),
        (lambda x, y, kw: (np.where(x > 0.9, np.inf, x), y, kw), ValueError, "NaN or Inf"),
        (lambda x, y, kw: (x[:0], y[:0], kw), ValueError, "empty"),
        (lambda x, y, kw: (x, y, {"batch_size": 0}), ValueError, "batch_size must be >= 1"),
        (lambda x, y, kw: (x, y, {"epochs": -1}), ValueError, "epochs must be >= 0"),
        (lambda x, y, kw: (x, y, {"validation_split": 1.0}), ValueError, r"validation_split must be in \[0, 1\)"),
        (lambda x, y, kw: (x, y, {"validation_split": -0.1}), ValueError, r"validation_split must be in \[0, 1\)"),
        (lambda x, y, kw: (x, y, {"sample_weight": np.ones(3)}), ValueError, "sample_weight has shape"),
        (lambda x, y, kw: (x, y, {"verbose": 5}), ValueError, "verbose must be"),
    ])
    def test_fit_rejects_before_any_work(self, change, error, match):
        x, y = digits()
        x, y = x[:100], y[:100]
        model = self.compiled()
        before = model.get_weights()
        x2, y2, kwargs = change(x, y, {})
        with pytest.raises(error, match=match):
            model.fit(x2, y2, **{"epochs": 1, "verbose": 0, **kwargs})
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_unknown_metric_and_missing_compile(self):
        model = small_classifier()
        with pytest.raises(ValueError, match="unknown metric 'precision'"):
            model.compile(optimizer=optim.Adam(), loss=nn.CrossEntropy(), metrics=["precision"])
        with pytest.raises(ValueError, match="call compile"):
            small_classifier().fit(np.zeros((4, 64)), np.zeros(4, dtype=int))
        with pytest.raises(ValueError, match="call compile"):
            small_classifier().evaluate(np.zeros((4, 64)), np.zeros(4, dtype=int))
        with pytest.raises(ValueError, match="needs a loss"):
            small_classifier().compile(optimizer=optim.Adam())
        with pytest.raises(ValueError, match="needs value targets"):
            model.compile(optimizer=optim.Adam(), loss=nn.CrossEntropy(), metrics=["mse"])
            model.fit(np.zeros((4, 64)), np.zeros(4, dtype=int), verbose=0)

    def test_predict_with_the_wrong_width(self):
        with pytest.raises(ValueError, match="has 3 features; the model expects 64"):
            small_classifier().predict(np.zeros((2, 3)))
        with pytest.raises(ValueError, match=r"\[predict\] batch_size must be >= 1; got 0"):
            small_classifier().predict(np.zeros((2, 64)), batch_size=0)

    def test_float64_and_int_inputs_are_converted(self):
        x, y = digits()
        model = self.compiled()
        model.fit(x[:64].astype(np.float64), y[:64].astype(np.int32), epochs=1, verbose=0)
        assert model.predict((x[:4] * 16).astype(np.int64)).dtype == np.float32


def test_each_epochs_random_streams_depend_on_the_seed_and_epoch_only():
    """2 epochs, then epochs 2..4 with initial_epoch=2, equal 4 epochs in one go: what exact resume rests on."""
    import bprop
    from bprop import nn, optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    def model():
        bprop.manual_seed(3)
        m = bprop.Sequential([nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2)])
        m.compile(optim.SGD(lr=0.1, momentum=0.9), nn.CrossEntropy())
        return m

    whole, split = model(), model()
    whole.fit(x, y, epochs=4, batch_size=32, verbose=0, seed=7)
    split.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=7)
    split.fit(x, y, epochs=4, batch_size=32, verbose=0, seed=7, initial_epoch=2)
    for a, b in zip(whole.get_weights(), split.get_weights()):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("patience,stops_after", [(0, 1), (1, 1), (3, 3)])
def test_early_stopping_waits_patience_epochs_as_keras_does(patience, stops_after):
    """Keras stops at the `patience`-th epoch in a row without improvement (patience 0 acts as 1)."""
    x, y = digits()
    model = small_classifier()
    model.compile(optimizer=optim.SGD(lr=1e-3), loss=nn.CrossEntropy())
    stop = callbacks.EarlyStopping(monitor="loss", patience=patience, min_delta=1e9, baseline=None)
    history = model.fit(x[:64], y[:64], epochs=20, verbose=0, callbacks=[stop])
    assert len(history.epoch) == 1 + stops_after  # epoch 0 sets the best; nothing beats it by 1e9
    assert stop.stopped_epoch == stops_after


@pytest.mark.parametrize("hook", ["on_epoch_end", "on_train_batch_end"])
def test_a_callback_stops_training_through_model_stop_training(hook):
    x, y = digits()
    model = small_classifier()
    model.compile(optimizer=optim.SGD(lr=1e-3), loss=nn.CrossEntropy())

    class Stop(callbacks.Callback):
        pass

    setattr(Stop, hook, lambda self, step, logs: setattr(self.model, "stop_training", True))
    history = model.fit(x[:64], y[:64], epochs=5, batch_size=16, verbose=0, callbacks=[Stop()])
    assert len(history.epoch) == 1 and history.stopped_reason == "a callback set stop_training"
    assert len(model.fit(x[:64], y[:64], epochs=2, verbose=0).epoch) == 2  # the next fit starts afresh
    with pytest.raises(TypeError, match=r"^\[stop_training\] value must be a bool; got ndarray"):
        model.stop_training = np.ones(3)


def test_compile_warns_when_a_probability_layer_meets_a_logit_loss():
    with pytest.warns(UserWarning, match=r"ends in Sigmoid but BinaryCrossEntropy takes logits.*remove the final"):
        bprop.Sequential([nn.Linear(4, 1), nn.Sigmoid()]).compile(optim.Adam(), nn.BinaryCrossEntropy())
    with pytest.warns(UserWarning, match=r"ends in Softmax but CrossEntropy takes logits"):
        bprop.Sequential([nn.Linear(4, 3), nn.Softmax()]).compile(optim.Adam(), nn.CrossEntropy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bprop.Sequential([nn.Linear(4, 3), nn.Softmax()]).compile(optim.Adam(), nn.MSE())  # probabilities on purpose
        bprop.Sequential([nn.Linear(4, 1)]).compile(optim.Adam(), nn.BinaryCrossEntropy())


@pytest.mark.parametrize("bad,message", [
    (["junk"], r"\[fit\] callbacks\[0\] is a str \('junk'\), not a bprop.callbacks.Callback"),
    (callbacks.History(), r"\[fit\] callbacks must be a list"),
    ([None], r"\[fit\] callbacks\[0\] is a NoneType"),
])
def test_callbacks_that_are_not_callbacks_are_a_type_error(bad, message):
    x, y = digits()
    model = small_classifier()
    model.compile(optimizer=optim.SGD(lr=1e-3), loss=nn.CrossEntropy())
    with pytest.raises(TypeError, match=message):
        model.fit(x[:8], y[:8], verbose=0, callbacks=bad)


def test_the_trainer_takes_what_has_a_training_loop_and_names_what_does_not():
    # The trainer knows models by their protocol (_training_loop), not by class: a layer is refused in
    # bprop's words, and each model kind brings its own loop.
    with pytest.raises(TypeError, match=r"^\[Trainer\] model must be a bprop Sequential or Module; got Linear"):
        bprop.Trainer(nn.Linear(2, 2), optim.SGD(lr=0.1), nn.MSE())
    x, y = digits()
    model = small_classifier()
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    model.fit(x[:32], y[:32], verbose=0)
    assert type(model._compiled("fit")._core).__name__ == "Trainer_float32"  # the C++ loop, whole epochs per call


def test_batch_sizes_and_epochs_past_the_data_or_int64():
    x, y = digits()
    model = small_classifier()
    model.compile(optimizer=optim.SGD(lr=0.1), loss=nn.CrossEntropy())
    whole = model.fit(x[:64], y[:64], epochs=1, batch_size=2**63 - 1, verbose=0).history["loss"][0]
    assert 0 < whole < 10  # one batch of all 64 samples, not an overflowed batch count that trains nothing
    assert model.predict(x[:5], batch_size=2**70).shape == (5, 10)
    assert set(model.evaluate(x[:5], y[:5], batch_size=2**64)) == {"loss"}
    with pytest.raises(ValueError, match=r"\[fit\] epochs must be <= 2\*\*62"):
        model.fit(x[:8], y[:8], epochs=2**63, verbose=0)
    for verbose in (0, 2):  # the same answer whatever the callbacks
        with pytest.raises(ValueError, match=r"\[fit\] initial_epoch \(5\) is past epochs \(1\)"):
            model.fit(x[:8], y[:8], epochs=1, initial_epoch=5, verbose=verbose)
    assert model.fit(x[:8], y[:8], epochs=3, initial_epoch=3, verbose=0).epoch == []  # nothing left to train


@pytest.mark.parametrize("call,error,message", [
    (lambda m: m.fit([[1, 2], [3]] * 4, [0, 1] * 4, verbose=0), TypeError,
     r"^\[fit\] x cannot be read as an array of numbers \(ragged"),
    (lambda m: m.predict([["a", "b"]]), TypeError, r"^\[predict\] x must hold numbers; got dtype <U1"),
    (lambda m: m.predict(None), TypeError, r"^\[predict\] x must be an array of numbers; got None"),
    (lambda m: m.fit(np.zeros((100, 2)), np.zeros(100, int), validation_split=0.999, verbose=0), ValueError,
     r"^\[fit\] validation_split=0.999 would hold out 99.9% of the samples"),
    (lambda m: m.reseed(2**64), ValueError, r"^\[Sequential.reseed\] seed must be an integer in \[0, 2\*\*64\)"),
    (lambda m: m.fit(np.zeros((4, 2)), np.zeros(4, int), seed=2**64, verbose=0), ValueError,
     r"^\[fit\] seed must be an integer in \[0, 2\*\*64\) or None"),
])
def test_bad_input_is_named_in_bprops_own_words(call, error, message):
    model = bprop.Sequential([nn.ReLU(), nn.Linear(2, 2)])
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    with pytest.raises(error, match=message):
        call(model)


def test_a_model_starting_with_an_activation_knows_its_width_and_predicts_at_once():
    model = bprop.Sequential([nn.ReLU(), nn.Dropout(0.1), nn.Linear(3, 2)])
    assert model.in_features == 3
    assert model.predict(np.ones((4, 3), np.float32)).shape == (4, 2)
    assert bprop.Sequential([nn.ReLU()]).predict(np.ones((2, 5))).shape == (2, 5)  # built by its first input


def test_a_python_subclass_of_layer_runs_and_one_without_forward_is_refused_with_a_way_out():
    class Doubler(nn.Layer):  # forward on tensors: autograd gives its backward (tests/test_python_layers.py)
        def forward(self, x, training=False):
            return 2 * x

    class Empty(nn.Layer):
        pass

    x = np.ones((1, 2), dtype=np.float32)
    model = bprop.Sequential([nn.Linear(2, 2), Doubler()])
    np.testing.assert_allclose(model.predict(x), 2 * model.layers[0].forward(x), rtol=1e-6)
    np.testing.assert_allclose(Doubler()(bprop.tensor(x)).numpy(), 2 * x)
    with pytest.raises(TypeError, match=r"\[Sequential\] item 1 \(Empty\) is a Python subclass of nn.Layer that "
                                        r"defines no forward"):
        bprop.Sequential([nn.Linear(2, 2), Empty()])
    with pytest.raises(TypeError, match=r"\[Empty\] is a Python subclass of nn.Layer that defines no forward"):
        Empty()(bprop.tensor(x))


@pytest.mark.parametrize("config", [{}, {"layers": "Linear"}, [], {"layers": [{"class": "Linear"}]},
                                    {"layers": [{"class": "Linear", "config": {"in_features": 2}}]},
                                    {"layers": [{"class": "Linear", "config": {"units": 2}}]}])
def test_from_config_names_what_is_wrong(config):
    with pytest.raises(ValueError, match=r"^\[(Sequential.from_config|Linear.from_config|nn.deserialize)\] "):
        bprop.Sequential.from_config(config)
