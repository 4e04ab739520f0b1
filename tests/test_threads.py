"""bprop's thread pool: every task runs once, errors and stops come back to the caller, calls from several
Python threads at once, fork, absurd thread counts, and results identical to the bit at any thread count."""
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import bprop
from bprop import _core, nn, optim

pytestmark = pytest.mark.skipif(not _core.has_threads(), reason="built without threads")


def run_script(code, timeout=120, **env):
    """Runs code in a fresh interpreter; a hang fails the test (TimeoutExpired) instead of blocking it."""
    import os

    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


# ---- the pool itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("tasks, threads", [(0, 2), (1, 2), (2, 2), (7, 2), (64, 2), (5, 1), (9, 3), (40, 8)])
def test_every_task_runs_once_on_a_slot_below_the_thread_count(tasks, threads):
    runs, slots = _core.parallel_probe(tasks, threads, task_micros=20.0)
    assert runs == [1] * tasks
    assert all(0 <= slot < threads for slot in slots)


def test_more_tasks_than_the_claim_word_holds_run_once_each():
    runs, _ = _core.parallel_probe(70_000, 2)
    assert runs == [1] * 70_000


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_an_exception_in_a_task_reaches_the_caller_and_the_pool_keeps_working(threads):
    with pytest.raises(ValueError, match=r"\[parallel_probe\] task 5 failed"):
        _core.parallel_probe(32, threads, throw_task=5, task_micros=10.0)
    runs, _ = _core.parallel_probe(32, threads)
    assert runs == [1] * 32


def test_the_stop_flag_skips_the_tasks_not_yet_started():
    runs, slots = _core.parallel_probe(200, 1, stop_task=3)  # one thread: in order, so exactly
    assert runs == [1] * 4 + [0] * 196
    runs, slots = _core.parallel_probe(200, 2, stop_task=3, task_micros=50.0)
    # Two threads: the tasks started when the flag went up finish, each at most once, and the call returns
    # long before the other ~10 ms of tasks could have run.
    assert runs[3] == 1 and set(runs) <= {0, 1} and sum(runs) < 200
    assert all(slot == -1 for count, slot in zip(runs, slots) if count == 0)


def test_many_small_calls_from_several_python_threads(threads, rng):
    threads(2)  # and the GEMM threshold at 0: every call goes through the pool
    cases = []
    for m, n, k in [(3, 40, 17), (37, 65, 9), (130, 64, 200), (12, 512, 64), (200, 33, 41)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        cases.append((a, b, bprop.matmul(a, b)))
    failures = []

    def hammer(offset):
        try:
            for i in range(150):
                a, b, expected = cases[(i + offset) % len(cases)]
                got = bprop.matmul(a, b)
                if not np.array_equal(got, expected):
                    failures.append((offset, i))
                runs, _ = _core.parallel_probe(9, 2)
                if runs != [1] * 9:
                    failures.append((offset, i, "probe"))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(repr(error))

    workers = [threading.Thread(target=hammer, args=(offset,)) for offset in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a thread hung"
    assert failures == []


# ---- thread counts --------------------------------------------------------------------------------


def test_absurd_thread_counts_are_capped_with_a_warning(threads):
    cap = _core.max_threads()
    assert cap == 4 * _core.available_cores()
    with pytest.warns(RuntimeWarning, match=r"\[set_num_threads\] 1000 threads on .* using " + str(cap)):
        bprop.set_num_threads(1000)
    assert bprop.get_num_threads() == cap
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bprop.set_num_threads(cap)  # the cap itself is accepted quietly
    a = np.ones((300, 300), np.float32)
    assert bprop.matmul(a, a)[0, 0] == 300.0
    with pytest.raises(ValueError, match=r"\[set_num_threads\] the thread count must be >= 1; got -3"):
        bprop.set_num_threads(-3)


def test_an_absurd_omp_num_threads_is_capped():
    process = run_script("import bprop; from bprop import _core; print(bprop.get_num_threads() == _core.max_threads())",
                         OMP_NUM_THREADS="100000")
    assert process.stdout.strip() == "True", process.stderr


# ---- fork -----------------------------------------------------------------------------------------


FORK_SCRIPT = """
import os, sys, threading
import numpy as np
import bprop
from bprop import _core

bprop.set_num_threads(2)
_core.set_gemm_parallel_min_flops(0.0)
a = np.arange(400 * 300, dtype=np.float32).reshape(400, 300) % 7
b = np.arange(300 * 500, dtype=np.float32).reshape(300, 500) % 5
expected = bprop.matmul(a, b)  # the parent's threads have run
busy = sys.argv[1] == "busy"
def background():
    while busy:
        bprop.matmul(a, b)
thread = threading.Thread(target=background)
if busy:
    thread.start()  # a Python thread is inside a bprop call while the main thread forks
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        inherited = bprop.get_num_threads()
        bprop.set_num_threads(2)
        ok = all(np.array_equal(bprop.matmul(a, b), expected) for _ in range(20))
        ok = ok and _core.parallel_probe(16, 2)[0] == [1] * 16
        os._exit(3 if not ok else 4 if inherited != 2 else 0)
    children.append(pid)
busy = False
if thread.is_alive():
    thread.join()
print([os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children])
"""


@pytest.mark.skipif(sys.platform != "linux", reason="fork")
@pytest.mark.parametrize("parent", ["idle", "busy"])
def test_forked_children_compute_at_two_threads(parent):
    # Each child sets 2 threads and computes: right numbers, no hang (gcc's OpenMP hung here, 4 of 4).
    # A child keeps the parent's thread count (exit code 4 if not). A hang kills the script: TimeoutExpired.
    process = subprocess.run([sys.executable, "-c", FORK_SCRIPT, parent], capture_output=True, text=True,
                             timeout=120)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "[0, 0, 0, 0]", process.stdout + process.stderr


# ---- the same bits at any thread count ------------------------------------------------------------


@pytest.mark.parametrize("m, n, k", [(128, 512, 784), (784, 512, 128), (128, 784, 512), (301, 517, 700),
                                     (1000, 40, 30), (5, 3000, 200)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_is_bit_identical_at_one_to_four_threads(m, n, k, dtype, threads, rng):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    results = []
    for count in (1, 2, 3, 4):
        threads(count)
        results.append(bprop.matmul(a, b))
    for result in results[1:]:
        np.testing.assert_array_equal(results[0], result)


def fitted_weights(count, x, y):
    # 64x600 weights (38,400 values) and 200x600 activations are above every parallel threshold: the GEMMs,
    # the activation, the bias gradient, the gradient norm and the Adam update all split across threads.
    bprop.set_num_threads(count)
    model = bprop.Sequential([nn.Linear(64, 600, seed=1), nn.ReLU(), nn.Linear(600, 64, seed=2), nn.Tanh(),
                              nn.Linear(64, 10, seed=3)])
    model.compile(optimizer=optim.Adam(lr=1e-3, clipnorm=1.0), loss=nn.CrossEntropy())
    model.fit(x, y, epochs=2, batch_size=200, seed=0, verbose=0)
    return model.get_weights(), model.predict(x[:300])


def test_a_short_fit_is_bit_identical_at_one_two_and_three_threads(threads, rng):
    threads(1)  # the fixture restores the count and the GEMM threshold afterwards
    _core.set_gemm_parallel_min_flops(0.0)
    x = rng.standard_normal((1000, 64)).astype(np.float32)
    y = rng.integers(0, 10, 1000)
    reference_weights, reference_outputs = fitted_weights(1, x, y)
    for count in (2, 3):
        weights, outputs = fitted_weights(count, x, y)
        for got, expected in zip(weights, reference_weights):
            np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(outputs, reference_outputs)
