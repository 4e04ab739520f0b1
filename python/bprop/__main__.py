"""``python -m bprop``: the main job. Trains a network on the two-spirals problem (generated in code)
with a progress display, reports its test accuracy, and shows the machine and GEMM bprop run on."""
import time

import numpy as np

import bprop
from bprop import callbacks, nn, optim
from bprop.datasets import two_spirals


def show_machine():
    info = bprop.cpu_info()
    print(f"bprop {bprop.__version__} on {info['cpu']}: ISA {info['isa']} "
          f"({', '.join(info['isas_available'])}), {info['num_threads']} threads, OpenMP {info['openmp']}")


def check_gemm():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((512, 512), dtype=np.float32)
    b = rng.standard_normal((512, 512), dtype=np.float32)
    reference = a.astype(np.float64) @ b.astype(np.float64)
    error = np.max(np.abs(bprop.matmul(a, b) - reference)) / np.max(np.abs(reference))
    if not error < 1e-4:
        raise SystemExit(f"GEMM check FAILED: relative error {error:.1e}")
    print(f"GEMM check passed (512³ float32, max relative error {error:.1e} vs NumPy float64)")


def train_spirals():
    x, y = two_spirals(n_per_class=1000, seed=0)
    x_train, y_train, x_test, y_test = x[:1600], y[:1600], x[1600:], y[1600:]
    bprop.manual_seed(0)
    model = bprop.Sequential([
        nn.Linear(2, 64), nn.ReLU(),
        nn.Residual([nn.Linear(64, 64), nn.ReLU()]),
        nn.Residual([nn.Linear(64, 64), nn.ReLU()]),
        nn.Linear(64, 2),
    ])
    model.summary()
    model.compile(optimizer=optim.Adam(lr=3e-3), loss=nn.CrossEntropy(), metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=100, batch_size=32, validation_split=0.1, seed=0, verbose=1,
                        callbacks=[callbacks.EarlyStopping(monitor="val_accuracy", patience=25, restore_best=True)])
    seconds = time.perf_counter() - start
    scores = model.evaluate(x_test, y_test)
    print(f"Trained {len(history.epoch)} epochs in {seconds:.1f} s. "
          f"Test accuracy on held-out spirals: {scores['accuracy']:.3f} (loss {scores['loss']:.3f})")
    return scores["accuracy"]


def main():
    show_machine()
    check_gemm()
    accuracy = train_spirals()
    if accuracy < 0.95:
        raise SystemExit(f"two spirals: test accuracy {accuracy:.3f} is below 0.95")


if __name__ == "__main__":
    main()
