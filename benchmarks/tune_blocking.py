"""Sweep the float32 GEMM's cache blocks (kc, mc, nc) on this CPU: the measurement behind a row of the
table in cpp/gemm/blocking.cpp.

Each configuration runs in its own child process with BPROP_GEMM_BLOCKS="kc,mc,nc" (the blocks are fixed
at a process's first GEMM). In each of --repeats rounds every configuration times every shape once (best of
a few calls), in an order rotating by round; the table gives medians over rounds in GFLOP/s and each
configuration's ratio to the first one (the current table row, by default), per shape.

    python benchmarks/tune_blocking.py                                  # the default grid, 1 thread
    python benchmarks/tune_blocking.py --configs 512,288,4096 256,576,4096 --threads 2

It is a benchmark, never a timed test. Figures mean something on a quiet machine only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

SHAPES = [  # (m, n, k, transpose_a, transpose_b, label)
    (1024, 1024, 1024, False, False, "1024^3"),
    (2048, 2048, 2048, False, False, "2048^3"),
    (128, 512, 784, False, False, "128x784 @ 784x512"),
    (784, 512, 128, True, False, "(128x784)^T @ 128x512"),
    (128, 784, 512, False, True, "128x512 @ (784x512)^T"),
    (256, 256, 256, False, False, "256^3"),
]
DEFAULT_CONFIGS = ["512,288,4096", "256,288,4096", "384,288,4096", "768,192,4096", "512,144,4096",
                   "512,432,4096", "256,576,4096", "512,288,2048"]

CHILD = r"""
import json, sys, time
import numpy as np
import bprop
bprop.set_num_threads(int(sys.argv[1]))
shapes = json.loads(sys.argv[2])
rng = np.random.default_rng(0)
out = {}
for m, n, k, ta, tb, label in shapes:
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c = np.empty((m, n), np.float32)
    bprop.matmul(a, b, transpose_a=ta, transpose_b=tb, out=c)
    calls = max(1, int(2e9 / (2 * m * n * k)))  # about 20 ms of work per timing
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(calls):
            bprop.matmul(a, b, transpose_a=ta, transpose_b=tb, out=c)
        best = min(best, (time.perf_counter() - t0) / calls)
    out[label] = 2 * m * n * k / best * 1e-9
print(json.dumps({"gflops": out, "gemm": bprop.cpu_info()["gemm"]}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, help="kc,mc,nc triples; the first is the base")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    results = {config: [] for config in args.configs}
    chosen = {}
    for round_ in range(args.repeats):
        order = args.configs[round_ % len(args.configs):] + args.configs[:round_ % len(args.configs)]
        for config in order:
            env = dict(os.environ, BPROP_GEMM_BLOCKS=config)
            text = subprocess.run([sys.executable, "-c", CHILD, str(args.threads), json.dumps(SHAPES)], env=env,
                                  check=True, capture_output=True, text=True).stdout
            record = json.loads(text)
            results[config].append(record["gflops"])
            gemm = record["gemm"]
            chosen[config] = f"{gemm['kc']},{gemm['mc']},{gemm['nc']}"
        print(f"  round {round_ + 1}/{args.repeats} done", file=sys.stderr)

    import bprop
    info = bprop.cpu_info()
    print(f"cpu {info['cpu']} ({info['vendor']} family {info['family']} model {info['model']}), "
          f"fma512/cycle {info['fma512_per_cycle']}, caches {info['caches']}, {args.threads} thread(s), "
          f"{args.repeats} rounds; GFLOP/s medians, (ratio to {args.configs[0]})")
    labels = [shape[-1] for shape in SHAPES]
    base = {label: statistics.median(r[label] for r in results[args.configs[0]]) for label in labels}
    print(f"{'kc,mc,nc (as used)':<20}" + "".join(f"{label:>24}" for label in labels))
    for config in args.configs:
        cells = []
        for label in labels:
            value = statistics.median(r[label] for r in results[config])
            cells.append(f"{value:7.1f} ({value / base[label]:.3f})")
        print(f"{chosen[config]:<20}" + "".join(f"{cell:>24}" for cell in cells))


if __name__ == "__main__":
    main()
