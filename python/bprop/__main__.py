"""``python -m bprop``: show the machine bprop sees and check its GEMM against NumPy."""
import time

import numpy as np

import bprop


def main():
    info = bprop.cpu_info()
    print(f"bprop {bprop.__version__}")
    for key, value in info.items():
        print(f"  {key:15s} {value}")

    rng = np.random.default_rng(0)
    n = 1024
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = bprop.matmul(a, b)
    reference = a.astype(np.float64) @ b.astype(np.float64)
    error = np.max(np.abs(c - reference)) / np.max(np.abs(reference))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        bprop.matmul(a, b, out=c)
        times.append(time.perf_counter() - start)
    gflops = 2 * n**3 / np.median(times) / 1e9
    print(f"GEMM {n}x{n}x{n} float32: max relative error {error:.1e} vs NumPy float64, {gflops:.0f} GFLOP/s")
    if not error < 1e-4:
        raise SystemExit("GEMM check FAILED")
    print("GEMM check passed")


if __name__ == "__main__":
    main()
