"""One model used from several Python threads, and training calls that would interleave on one model.

Inference (predict, evaluate, no-grad calls on tensors) shares no buffer between calls, so any number of
threads get exactly the single-threaded results; training calls on one model are refused while one runs
(a fit from a fit's callback, or from another thread) rather than mixed.
"""
import threading

import numpy as np
import pytest

import bprop
from bprop import callbacks, nn, optim

THREADS = 8
CALLS_PER_THREAD = 6


def run_in_threads(work, count=THREADS):
    """work(i) on `count` threads started together; returns their results (re-raising the first error)."""
    results, errors = [None] * count, []
    start = threading.Barrier(count)

    def run(i):
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def trained_model():
    """Every layer with state of its own: fused pairs, LayerNorm, BatchNorm (running statistics moved by a
    fit), Dropout and a Residual."""
    bprop.manual_seed(0)
    model = bprop.Sequential([
        nn.Linear(12, 32), nn.ReLU(), nn.LayerNorm(32), nn.Dropout(0.3),
        nn.Residual([nn.Linear(32, 32), nn.Tanh(), nn.BatchNorm(32)]),
        nn.Linear(32, 5),
    ])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 12)).astype(np.float32)
    y = rng.integers(0, 5, 256)
    model.compile(optim.Adam(lr=1e-2), nn.CrossEntropy(), metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=1)
    return model


@pytest.fixture(scope="module")
def model():
    return trained_model()


def batches(count, rows=37, features=12):
    rng = np.random.default_rng(7)
    return [rng.standard_normal((rows + i, features)).astype(np.float32) for i in range(count)]


@pytest.mark.parametrize("omp_threads", [1, 2])
def test_predict_from_many_threads_matches_one_thread(model, omp_threads):
    bprop.set_num_threads(omp_threads)
    try:
        xs = batches(THREADS)
        expected = [model.predict(x, batch_size=16) for x in xs]
        got = run_in_threads(lambda i: [model.predict(xs[i], batch_size=16) for _ in range(CALLS_PER_THREAD)])
    finally:
        bprop.set_num_threads(2)
    for i in range(THREADS):
        for out in got[i]:
            np.testing.assert_array_equal(out, expected[i])


def test_predict_equals_forward_in_evaluation_mode(model):
    x = batches(1)[0]
    np.testing.assert_array_equal(model.predict(x), model.forward(x, training=False))


def test_forward_from_many_threads_matches_one_thread(model):
    xs = batches(THREADS)
    expected = [model.forward(x, training=False) for x in xs]
    got = run_in_threads(lambda i: [model.forward(xs[i], training=False) for _ in range(CALLS_PER_THREAD)])
    for i in range(THREADS):
        for out in got[i]:
            np.testing.assert_array_equal(out, expected[i])


def test_evaluate_from_many_threads_matches_one_thread(model):
    xs = batches(THREADS)
    ys = [np.arange(len(x)) % 5 for x in xs]
    expected = [model.evaluate(x, y, batch_size=8) for x, y in zip(xs, ys)]
    got = run_in_threads(lambda i: [model.evaluate(xs[i], ys[i], batch_size=8) for _ in range(CALLS_PER_THREAD)])
    for i in range(THREADS):
        for scores in got[i]:
            assert scores == expected[i]


def test_layer_calls_on_tensors_without_grad_from_many_threads(model):
    xs = batches(THREADS)
    model.eval()
    try:
        with bprop.no_grad():
            expected = [model(bprop.tensor(x)).numpy().copy() for x in xs]

        def work(i):
            with bprop.no_grad():
                return [model(bprop.tensor(xs[i])).numpy().copy() for _ in range(CALLS_PER_THREAD)]

        got = run_in_threads(work)
    finally:
        model.train()
    for i in range(THREADS):
        for out in got[i]:
            np.testing.assert_array_equal(out, expected[i])


class DropoutNet(bprop.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.drop, self.fc2 = nn.Linear(12, 16, seed=1), nn.Dropout(0.5, seed=2), nn.Linear(16, 3, seed=3)

    def forward(self, x):
        return self.fc2(self.drop(self.fc1(x).relu()))


def test_module_predict_and_evaluate_from_many_threads_leave_its_mode_alone():
    net = DropoutNet()
    xs = batches(THREADS)
    ys = [np.arange(len(x)) % 3 for x in xs]
    net.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    expected = [net.predict(x) for x in xs]
    expected_scores = [net.evaluate(x, y) for x, y in zip(xs, ys)]
    assert net.training  # predict and evaluate ran in evaluation mode without switching the module
    got = run_in_threads(lambda i: [(net.predict(xs[i]), net.evaluate(xs[i], ys[i])) for _ in range(4)])
    for i in range(THREADS):
        for out, scores in got[i]:
            np.testing.assert_array_equal(out, expected[i])
            assert scores == expected_scores[i]
    assert net.training and net.drop.training


def test_evaluation_mode_is_per_thread():
    """Inside predict on one thread, the model reports training=False there only."""
    net = DropoutNet()
    seen = {}
    inside, leave = threading.Event(), threading.Event()

    class Spy(DropoutNet):
        def forward(self, x):
            seen["inside"] = self.training
            inside.set()
            leave.wait(5)
            return super().forward(x)

    spy = Spy()
    worker = threading.Thread(target=lambda: spy.predict(np.ones((2, 12), np.float32)))
    worker.start()
    assert inside.wait(5)
    seen["outside"] = spy.training
    leave.set()
    worker.join()
    assert seen == {"inside": False, "outside": True}
    assert net.training


def classification_data(rows=96):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((rows, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def small_model(seed=0):
    bprop.manual_seed(seed)
    model = bprop.Sequential([nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)])
    model.compile(optim.SGD(lr=0.1), nn.CrossEntropy())
    return model


def test_fit_from_a_callback_of_fit_on_the_same_model_is_refused():
    x, y = classification_data()
    model = small_model()
    inner = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: model.fit(x * 100, y, verbose=0))
    with pytest.raises(ValueError, match=r"\[fit\] this Sequential is already being trained by a fit\(\)"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[inner])
    history = model.fit(x, y, epochs=2, verbose=0)  # the refusal left nothing behind
    assert len(history.history["loss"]) == 2


def test_fit_from_another_thread_while_one_runs_is_refused():
    x, y = classification_data()
    model = small_model()
    running, release = threading.Event(), threading.Event()
    hold = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: (running.set(), release.wait(10)))
    first = threading.Thread(target=lambda: model.fit(x, y, epochs=1, verbose=0, callbacks=[hold]))
    first.start()
    try:
        assert running.wait(10)
        with pytest.raises(ValueError, match="already being trained"):
            model.fit(x, y, verbose=0)
    finally:
        release.set()
        first.join()


def test_evaluate_and_predict_inside_a_callback_do_not_disturb_the_fit():
    x, y = classification_data()
    plain = small_model().fit(x, y, epochs=3, batch_size=16, seed=5, verbose=0).history["loss"]
    model = small_model()
    probe = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: (model.evaluate(x[:7], y[:7]), model.predict(x[:3])))
    probed = model.fit(x, y, epochs=3, batch_size=16, seed=5, verbose=0, callbacks=[probe]).history["loss"]
    assert probed == plain


def test_one_optimizer_compiled_into_two_models_is_refused():
    a, b = small_model(0), small_model(1)
    opt = optim.Adam(lr=0.1)
    a.compile(opt, nn.CrossEntropy())
    with pytest.raises(ValueError, match=r"\[compile\] this Adam is already bound to other parameters"):
        b.compile(opt, nn.CrossEntropy())
    a.compile(opt, nn.CrossEntropy())  # the same model again is fine


def test_an_optimizer_made_for_one_model_cannot_be_compiled_into_another():
    a, b = small_model(0), small_model(1)
    with pytest.raises(ValueError, match="make a new SGD for this model"):
        b.compile(optim.SGD(a.parameters(), lr=0.1), nn.CrossEntropy())


def test_an_optimizer_made_with_the_models_parameters_trains_it():
    x, y = classification_data()
    model = small_model()
    model.compile(optim.SGD(model.parameters(), lr=0.5), nn.CrossEntropy())
    losses = model.fit(x, y, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]


def test_backward_after_another_threads_forward_is_refused():
    model = small_model()
    x = np.ones((3, 4), np.float32)
    model.forward(x, training=True)
    other = threading.Thread(target=lambda: model.forward(2 * x, training=True))
    other.start()
    other.join()
    with pytest.raises(ValueError, match=r"\[Sequential.backward\] the last forward of this model ran on another"):
        model.backward(np.ones((3, 2), np.float32))
    model.forward(x, training=True)
    model.backward(np.ones((3, 2), np.float32))  # this thread's own forward again: fine
