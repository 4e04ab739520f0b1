"""bprop's float32 GEMM against NumPy (OpenBLAS), PyTorch and JAX, in one run.

What it measures
    GFLOP/s (2·m·n·k per call, median over rounds) of bprop.matmul, NumPy's matmul and, when they are
    installed, torch.matmul and a jax.jit-compiled jnp.matmul (operands already on the device, the
    result awaited with block_until_ready; the child confined to `threads` CPUs, as XLA has no thread
    setting that holds), at 1 and 2 threads, on
      * squares 64, 128, 256, 512, 1024, 2048;
      * the shapes an MLP trains with: forward (128x784)·(784x512) and (128x512)·(512x256), backward
        Xᵀ·dY (784x128)·(128x512) and dY·Wᵀ (128x512)·(512x784), with the transposed operand passed
        as the layers pass it (a transpose flag or a .T view, never a copy).
    Every result goes into a preallocated output. NumPy runs twice: with the OpenBLAS kernel it picks
    itself, and with OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels), so the strongest peer is always in
    the table. bprop's share of the machine's float32 FMA peak is measured here too
    (bprop._core.fma_peak_gflops) and printed next to it.

How it measures: in rounds, because the machine drifts (harness.py explains the design)
    Each (peer, thread count) gets one persistent child process (this script with the hidden --child flag,
    so thread counts, OpenBLAS's core type and BPROP_ISA are in the environment before any library loads)
    that builds its operands and calibrates its loops once. In each of --repeats rounds every child times
    every shape once (one loop of ~50 ms), one child at a time, in an order rotating by round. GFLOP/s are
    medians over rounds; the ratio columns are medians of the per-round ratios, bprop against each peer
    within the same round, which the drift cancels out of. All 1-thread children run as one group, then
    all 2-thread ones. Every library keeps its default wait policy, as users run it; bprop and torch get
    one OpenBLAS thread (they use NumPy only to build operands), and the parent pauses after each
    multi-threaded turn until idle workers sleep, so none spins on the core the next child needs.

How to run it
    python benchmarks/bench_gemm.py                      # everything, at 1 and 2 threads
    python benchmarks/bench_gemm.py --quick              # smoke run: 3 rounds, squares up to 512
    python benchmarks/bench_gemm.py --json out.json      # the same, also written as JSON
    python benchmarks/bench_gemm.py --peers bprop,numpy --threads 1 --shapes mlp,4096
    python benchmarks/bench_gemm.py --isa avx2           # force bprop's kernel family (BPROP_ISA)
    python benchmarks/bench_gemm.py --threshold          # bprop 1 vs 2 threads on small problems: the
                                                         # flop count above which a second thread pays
                                                         # (kParallelMinFlops in cpp/gemm/gemm.cpp;
                                                         # this mode lowers it to 0 while it measures)

This is a benchmark, never a timed test: nothing here passes or fails on speed, and no test may assert
on its numbers. Run it on a quiet machine and read the ratios.
"""
import argparse
import functools
import os
import statistics
import sys

# The harness sits next to this script: importable however the script is started, with no install.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PEERS = ("bprop", "numpy", "numpy-skylakex", "torch", "jax")
PEER_COLUMN = {"bprop": "bprop", "numpy": "np", "numpy-skylakex": "np-skx", "torch": "torch", "jax": "jax"}
SQUARE_SIZES = (64, 128, 256, 512, 1024, 2048)
QUICK_MAX_SQUARE = 512
REPEAT_SECONDS = {"full": 0.05, "quick": 0.01}
THRESHOLD_REPEAT_SECONDS = {"full": 0.02, "quick": 0.01}
PEAK_SECONDS = 0.3
PEAK_SAMPLES = 3
# Relative error of C·v against op(A)·(op(B)·v) in float64 above which a peer's result is wrong, not
# just rounded: float32 GEMMs of these sizes stay near 1e-6.
MAX_RELATIVE_ERROR = 1e-4
# A second thread "pays" when it makes a call at least this much faster.
THRESHOLD_MIN_SPEEDUP = 1.10
# Small GEMMs for --threshold, (m, n, k): cubes, then MLP-like ones (m = batch, n x k = a weight),
# together spanning ~1e4 to ~1e8 flops.
THRESHOLD_CUBES = (16, 24, 32, 48, 64, 96, 128, 160, 192, 256)
THRESHOLD_MLP_SHAPES = (
    (8, 16, 64), (8, 64, 64), (32, 64, 64), (8, 256, 256), (32, 128, 256), (64, 256, 128), (16, 512, 256),
    (128, 128, 256), (32, 512, 512), (64, 256, 512), (128, 512, 256), (256, 512, 512),
)


# ---------------------------------------------------------------------------------------------------
# Shapes


def square_shape(size):
    return {"label": f"{size}x{size}x{size}", "m": size, "n": size, "k": size,
            "transpose_a": False, "transpose_b": False}


def mlp_shapes():
    """The four GEMMs of a 784-512-256 MLP layer pair at batch 128, as the layers call them."""
    return [
        {"label": "128x784 @ 784x512", "m": 128, "n": 512, "k": 784, "transpose_a": False, "transpose_b": False},
        {"label": "128x512 @ 512x256", "m": 128, "n": 256, "k": 512, "transpose_a": False, "transpose_b": False},
        # Xᵀ·dY: X is stored batch-major (128x784), so op(a) is its transpose.
        {"label": "(128x784)^T @ 128x512", "m": 784, "n": 512, "k": 128, "transpose_a": True, "transpose_b": False},
        # dY·Wᵀ: W is stored 784x512 (out x in of the forward layer), so op(b) is its transpose.
        {"label": "128x512 @ (784x512)^T", "m": 128, "n": 784, "k": 512, "transpose_a": False, "transpose_b": True},
    ]


def select_shapes(spec, quick):
    """Shapes named by --shapes: 'squares', 'mlp' and square sizes, in that order of appearance.

    --quick caps the 'squares' group at QUICK_MAX_SQUARE; sizes given explicitly are always run.
    """
    shapes = []
    for token in (t.strip() for t in spec.split(",") if t.strip()):
        if token == "squares":
            shapes += [square_shape(s) for s in SQUARE_SIZES if not quick or s <= QUICK_MAX_SQUARE]
        elif token == "mlp":
            shapes += mlp_shapes()
        elif token.isdigit() and int(token) > 0:
            shapes.append(square_shape(int(token)))
        else:
            raise ValueError(f"--shapes: expected 'squares', 'mlp' or a positive size; got {token!r}")
    return shapes


def threshold_shapes():
    cubes = [(s, s, s) for s in THRESHOLD_CUBES]
    return sorted(cubes + list(THRESHOLD_MLP_SHAPES), key=lambda mnk: mnk[0] * mnk[1] * mnk[2])


def gemm_flops(m, n, k):
    return 2.0 * m * n * k


def gemm_benchmark(args):
    """What the harness runs: this script's peers on the shapes --shapes names, rated in GFLOP/s."""
    child_arguments = ["--shapes", args.shapes, "--repeats", str(args.resolved_repeats)]
    child_arguments += ["--quick"] if args.quick else []
    child_arguments += ["--isa", args.isa] if args.isa else []
    child_arguments += ["--threshold"] if args.threshold else []
    return harness.Benchmark(
        script=__file__, peers=PEER_LOADERS, items=select_shapes(args.shapes, args.quick),
        work=lambda shape: gemm_flops(shape["m"], shape["n"], shape["k"]), reference="bprop",
        items_key="shapes", rate_key="gflops", rate_unit=1e9,
        loop_seconds=REPEAT_SECONDS["quick" if args.quick else "full"], child_arguments=child_arguments)


# ---------------------------------------------------------------------------------------------------
# Children: the peers, each calling its matmul on the same operands


def set_child_environment(peer, threads, isa):
    """Pin threads and kernel choice before any library reads the environment (they read it at load)."""
    # bprop and torch use NumPy only to build operands: one OpenBLAS thread, so no idle pool spins.
    openmp_peer = peer in ("bprop", "torch")
    harness.set_thread_environment(threads, blas_threads=1 if openmp_peer else None)
    if peer == "numpy-skylakex":
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    else:
        # "numpy" means OpenBLAS's own choice, even if the caller's shell forces a core type.
        os.environ.pop("OPENBLAS_CORETYPE", None)
    if isa:
        os.environ["BPROP_ISA"] = isa


def measure_fma_peaks(core, isas, threads):
    """Median of PEAK_SAMPLES measurements of the float32 FMA peak per SIMD ISA, in GFLOP/s."""
    return {
        isa: statistics.median(core.fma_peak_gflops(isa, threads, PEAK_SECONDS) for _ in range(PEAK_SAMPLES))
        for isa in isas if isa != "reference"
    }


def openblas_pools():
    """OpenBLAS as loaded in this process (kernel, version, threads), or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
            for pool in threadpool_info() if pool.get("user_api") == "blas"]


def load_bprop(threads, np):
    """(bind, info): bind(shape, a, b, c) returns the timed call, a stored as op(a)'s source, etc."""
    import bprop
    from bprop import _core

    bprop.set_num_threads(threads)
    info = bprop.cpu_info()
    details = {"version": bprop.__version__, "cpu_info": info, "threads_seen": bprop.get_num_threads(),
               "fma_peak_gflops": measure_fma_peaks(_core, info["isas_available"], threads)}

    def bind(shape, a, b, c):
        return functools.partial(bprop.matmul, a, b, transpose_a=shape["transpose_a"],
                                 transpose_b=shape["transpose_b"], out=c)

    return bind, details


def load_numpy(threads, np):
    pools = openblas_pools()
    details = {"version": np.__version__, "openblas": pools,
               "threads_seen": pools[0]["num_threads"] if pools else None}

    def bind(shape, a, b, c):
        op_a = a.T if shape["transpose_a"] else a
        op_b = b.T if shape["transpose_b"] else b
        return functools.partial(np.matmul, op_a, op_b, out=c)

    return bind, details


def load_torch(threads, np):
    import torch  # ImportError is the harness's "skip torch"

    torch.set_num_threads(threads)
    build = torch.__config__.show()
    blas = next((item.split("=", 1)[1] for item in build.replace(",", " ").split() if item.startswith("BLAS_INFO=")),
                None)
    details = {"version": torch.__version__, "blas": blas, "threads_seen": torch.get_num_threads()}

    def bind(shape, a, b, c):
        # from_numpy shares memory: the same data and output buffer as the other peers, no copies.
        op_a = torch.from_numpy(a).t() if shape["transpose_a"] else torch.from_numpy(a)
        op_b = torch.from_numpy(b).t() if shape["transpose_b"] else torch.from_numpy(b)
        return functools.partial(torch.matmul, op_a, op_b, out=torch.from_numpy(c))

    return bind, details


def load_jax(threads, np):
    harness.confine_to_cpus(threads)
    import jax  # ImportError is the harness's "skip jax"
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    details = {"version": jax.__version__, "threads_seen": len(os.sched_getaffinity(0))}

    def bind(shape, a, b, c):
        product = jax.jit(lambda x, y: jnp.matmul(x.T if shape["transpose_a"] else x, y.T if shape["transpose_b"] else y))
        a_dev, b_dev = jax.device_put(a), jax.device_put(b)
        last = {}

        def call():
            last["c"] = product(a_dev, b_dev).block_until_ready()

        def finish():  # the result into the shared output, for the check (not timed)
            c[...] = np.asarray(last["c"])

        return call, finish

    return bind, details


def gemm_peer(load_bind):
    """A harness loader from load_bind(threads, np) -> (bind, details): every peer gets the same operands
    and the same check of its result."""
    def load(threads):
        import numpy as np

        bind, details = load_bind(threads, np)

        def prepare(shape):
            a, b, c = make_operands(np, shape)
            call = bind(shape, a, b, c)
            finish = lambda: None  # noqa: E731
            if isinstance(call, tuple):  # (call, finish): a peer that cannot write into c copies there after
                call, finish = call

            def check():
                finish()
                return {"relative_error": relative_error(np, shape, a, b, c)}

            return call, check

        return prepare, details

    return load


PEER_LOADERS = {"bprop": gemm_peer(load_bprop), "numpy": gemm_peer(load_numpy),
                "numpy-skylakex": gemm_peer(load_numpy), "torch": gemm_peer(load_torch), "jax": gemm_peer(load_jax)}


def make_operands(np, shape):
    """float32 normal data, the same for every peer (fixed seed per shape), stored as the layers store it."""
    rng = np.random.default_rng(0)
    m, n, k = shape["m"], shape["n"], shape["k"]
    a = rng.standard_normal((k, m) if shape["transpose_a"] else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if shape["transpose_b"] else (k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    return a, b, c


def relative_error(np, shape, a, b, c):
    """|C·v - op(A)·(op(B)·v)| / |op(A)·(op(B)·v)| in float64: a cheap check that C is the product."""
    v = np.random.default_rng(1).standard_normal(shape["n"])
    op_a = a.T if shape["transpose_a"] else a
    op_b = b.T if shape["transpose_b"] else b
    expected = op_a.astype(np.float64) @ (op_b.astype(np.float64) @ v)
    return float(np.max(np.abs(c.astype(np.float64) @ v - expected)) / np.max(np.abs(expected)))


def run_threshold_child(args, np):
    """bprop at 1 and 2 threads in one process, alternating per repeat so drift hits both alike."""
    import bprop

    target = THRESHOLD_REPEAT_SECONDS["quick" if args.quick else "full"]
    default_threshold = bprop._core.gemm_parallel_min_flops()
    bprop._core.set_gemm_parallel_min_flops(0.0)  # let 2 threads run even on the smallest shapes
    rows = []
    for m, n, k in threshold_shapes():
        shape = {"m": m, "n": n, "k": k, "transpose_a": False, "transpose_b": False}
        a, b, c = make_operands(np, shape)
        call = functools.partial(bprop.matmul, a, b, out=c)
        # Calibrated on 2 threads: if a second thread stalls (a busy core), the loops stay short.
        bprop.set_num_threads(2)
        iterations = harness.calibrate_iterations(call, target)
        times = {1: [], 2: []}
        for _ in range(args.resolved_repeats):
            for threads in (1, 2):
                bprop.set_num_threads(threads)
                call()  # wake the thread pool: a training loop calls GEMMs back to back, pool hot
                times[threads].append(harness.seconds_per_call(call, iterations))
        t1, t2 = statistics.median(times[1]), statistics.median(times[2])
        rows.append({"m": m, "n": n, "k": k, "flops": gemm_flops(m, n, k), "iterations": iterations,
                     "t1_seconds": t1, "t2_seconds": t2, "speedup": t1 / t2,
                     "repeat_seconds_per_call": {"1": times[1], "2": times[2]}})
    return {"details": {"version": bprop.__version__, "cpu_info": bprop.cpu_info(),
                        "default_parallel_min_flops": default_threshold}, "threshold": rows}


def child_main(args):
    set_child_environment(args.child, args.child_threads, args.isa)
    channel = harness.reply_channel()
    import numpy as np

    if args.threshold:
        harness.send(channel, run_threshold_child(args, np))
    else:
        harness.serve_child(gemm_benchmark(args), channel, args.child, args.child_threads)


# ---------------------------------------------------------------------------------------------------
# Parent: the report


def fma_peaks(records):
    """{isa: {threads: GFLOP/s}} from the bprop children (the --threshold child measures none)."""
    peaks = {}
    for record in records:
        if record["peer"] == "bprop" and harness.succeeded(record):
            for isa, gflops in record["result"]["details"].get("fma_peak_gflops", {}).items():
                peaks.setdefault(isa, {})[record["threads"]] = gflops
    return peaks


def first_success(records, peer):
    return next((r for r in records if r["peer"] == peer and harness.succeeded(r)), None)


def openblas_summary(record):
    pools = record["result"]["details"]["openblas"]
    if pools is None:
        return "kernel unknown (threadpoolctl not installed)"
    return ", ".join(f"{p['internal_api']} {p['version']} {p['architecture']}" for p in pools) or "no BLAS found"


def machine_header(args, records, load):
    lines = [f"bprop GEMM benchmark: float32, {args.resolved_repeats} rounds, each timing every shape once per peer "
             f"(a ~{REPEAT_SECONDS['quick' if args.quick else 'full'] * 1e3:.0f} ms loop); "
             f"GFLOP/s = 2mnk / median time"]
    bprop_record = first_success(records, "bprop")
    if bprop_record:
        details = bprop_record["result"]["details"]
        info = details["cpu_info"]
        caches = ", ".join(f"{name} {harness.human_bytes(size)}" for name, size in info["caches"].items())
        lines.append(f"cpu       {info['cpu']} ({info.get('vendor', '?')} family {info.get('family', '?')} model "
                     f"{info.get('model', '?')}), {info['cores']} cores ({caches}), 512-bit FMAs per cycle "
                     f"{info.get('fma512_per_cycle', '?')} (probe ratio {info.get('fma_probe_ratio', '?')})")
        lines.append(f"bprop     {details['version']}: ISA {info['isa']}, kernel {info['gemm_kernels']['float32']}, "
                     f"threads: {harness.threading_name(info)}")
        gemm = info.get("gemm")
        if gemm:
            lines.append(f"blocking  kc {gemm['kc']}, mc {gemm['mc']}, nc {gemm['nc']} ({gemm['family']}); "
                         f"in place up to {harness.human_bytes(gemm['in_place_bytes'])}")
        peaks = "; ".join(f"{isa} " + ", ".join(f"{t}t {g:.1f}" for t, g in sorted(by_threads.items()))
                          for isa, by_threads in fma_peaks(records).items())
        lines.append(f"FMA peak  {peaks or 'none (no SIMD ISA)'} GFLOP/s (float32, measured now)")
    else:
        lines.append("bprop     no result: no machine info and no FMA peak")
    for peer in ("numpy", "numpy-skylakex"):
        record = first_success(records, peer)
        if record:
            lines.append(f"{PEER_COLUMN[peer]:<9} numpy {record['result']['details']['version']}: "
                         f"{openblas_summary(record)}")
    torch_record = next((r for r in records if r["peer"] == "torch" and "result" in r), None)
    if torch_record and "skipped" in torch_record["result"]:
        lines.append(f"torch     skipped: {torch_record['result']['skipped']}")
    elif torch_record:
        details = torch_record["result"]["details"]
        lines.append(f"torch     {details['version']} (BLAS {details['blas']})")
    jax_record = next((r for r in records if r["peer"] == "jax" and "result" in r), None)
    if jax_record and "skipped" in jax_record["result"]:
        lines.append(f"jax       skipped: {jax_record['result']['skipped']}")
    elif jax_record:
        lines.append(f"jax       {jax_record['result']['details']['version']} (XLA CPU, jit)")
    lines.append(harness.load_line(load))
    return "\n".join(lines)


def shape_results(record):
    return harness.item_results(record, "shapes")


def bprop_peak(records, threads):
    """(ISA bprop used, its measured FMA peak) at this thread count; the peak is None if not measured."""
    record = harness.find_record(records, "bprop", threads)
    if not record:
        return None, None
    details = record["result"]["details"]
    isa = details["cpu_info"]["isa"]
    return isa, details["fma_peak_gflops"].get(isa)  # None for "reference": it has no SIMD peak


def thread_table(args, records, threads):
    peers = [p for p in args.peer_list if harness.find_record(records, p, threads)]
    results = {p: shape_results(harness.find_record(records, p, threads)) for p in peers}
    has_bprop = "bprop" in peers
    others = [p for p in peers if p != "bprop"] if has_bprop else []
    isa, peak = bprop_peak(records, threads)
    single = shape_results(harness.find_record(records, "bprop", 1)) if has_bprop and threads != 1 else {}

    columns = [("", "shape", "<")] + [("GFLOP/s", PEER_COLUMN[p], ">") for p in peers]
    columns += [("bprop / peer", PEER_COLUMN[p], ">") for p in others]
    if has_bprop:
        columns.append(("bprop", "%peak", ">"))
    if single:
        columns.append(("bprop", f"{threads}t/1t", ">"))

    def cell(value, fmt):
        return "-" if value is None else format(value, fmt)

    rows, wrong = [], []
    for shape in select_shapes(args.shapes, args.quick):
        label = shape["label"]
        gflops = {p: results[p][label]["gflops"] if label in results[p] else None for p in peers}
        wrong += [f"{PEER_COLUMN[p]} on {label}: relative error {results[p][label]['relative_error']:.1e}"
                  for p in peers if label in results[p] and results[p][label]["relative_error"] > MAX_RELATIVE_ERROR]
        row = [label] + [cell(gflops[p], ".1f" if gflops[p] is None or gflops[p] >= 0.1 else ".1e") for p in peers]
        ours = gflops.get("bprop")
        row += [cell(results[p].get(label, {}).get("paired_ratio"), ".2f") for p in others]
        if has_bprop:
            row.append(cell(100 * ours / peak if ours and peak else None, ".0f"))
        if single:
            one = single.get(label, {}).get("gflops")
            row.append(cell(ours / one if ours and one else None, ".2f"))
        rows.append(row)
    title = f"{threads} thread{'s' if threads != 1 else ''}"
    if peak:
        title += f"  (%peak: of the {isa} FMA peak at {threads}t, {peak:.1f} GFLOP/s)"
    text = f"{title}\n{harness.format_table(columns, rows)}"
    if wrong:
        text += "\n!! wrong results (C·v vs op(A)·(op(B)·v)):\n" + "\n".join(f"   {w}" for w in wrong)
    return text


def print_gemm_report(args, records, load):
    print()
    print(machine_header(args, records, load))
    for warning in harness.thread_mismatches(records):
        print(f"!! {warning}")
    if any(harness.find_record(records, "bprop", t) for t in args.thread_counts):
        print("ratios: bprop / peer = median over rounds of (peer time / bprop time) within each round, paired\n"
              "        so drift between rounds cancels (> 1: bprop is faster); %peak and 2t/1t use the medians")
    for threads in args.thread_counts:
        if any(harness.find_record(records, p, threads) for p in args.peer_list):
            print()
            print(thread_table(args, records, threads))


def print_threshold_report(args, records, load):
    record = records[0]
    if not harness.succeeded(record):
        return
    info = record["result"]["details"]["cpu_info"]
    rows = record["result"]["threshold"]
    print(f"\nbprop {record['result']['details']['version']}, ISA {info['isa']}: 1 vs 2 threads, median of "
          f"{args.resolved_repeats} alternating repeats")
    print(harness.load_line(load))
    print(f"The parallel threshold is lowered to 0 for this run (bprop's default, kParallelMinFlops in "
          f"cpp/gemm/gemm.cpp:\n{record['result']['details']['default_parallel_min_flops']:.1e} flops; below it "
          f"bprop stays on one thread).\n")
    columns = [("", title, ">") for title in ("m", "n", "k", "flops", "t1 us", "t2 us", "t1/t2")]
    table = [[str(r["m"]), str(r["n"]), str(r["k"]), f"{r['flops']:.1e}", f"{r['t1_seconds'] * 1e6:.1f}",
              f"{r['t2_seconds'] * 1e6:.1f}", f"{r['speedup']:.2f}"] for r in rows]
    print(harness.format_table(columns, table))
    print(f"\n{threshold_verdict(rows)}")


def threshold_verdict(rows):
    """The smallest flop count from which every measured shape gains THRESHOLD_MIN_SPEEDUP or more."""
    paying_from = None
    for row in reversed(rows):  # rows are sorted by flops
        if row["speedup"] < THRESHOLD_MIN_SPEEDUP:
            break
        paying_from = row
    if paying_from is None:
        return f"A second thread gave t1/t2 >= {THRESHOLD_MIN_SPEEDUP:.2f} on none of the largest shapes here."
    return (f"A second thread pays (t1/t2 >= {THRESHOLD_MIN_SPEEDUP:.2f} on every shape from here up) from "
            f"{paying_from['flops']:.1e} flops ({paying_from['m']}x{paying_from['n']}x{paying_from['k']}).")


def write_json(path, args, records, load):
    config = {"threads": args.thread_counts, "peers": args.peer_list, "shapes": args.shapes,
              "repeats": args.resolved_repeats, "quick": args.quick, "isa": args.isa, "threshold": args.threshold}
    bprop_record = first_success(records, "bprop")
    harness.write_json(
        path, config, load, records,
        cpu_info=bprop_record["result"]["details"]["cpu_info"] if bprop_record else None,
        fma_peak_gflops={isa: {str(t): g for t, g in by_threads.items()}
                         for isa, by_threads in fma_peaks(records).items()},
        method="per thread count, one child per peer; each round every child times every shape once, "
               "in an order rotating by round; gflops from the median over rounds; paired_ratio = median over "
               "rounds of peer time / bprop time in the same round (> 1: bprop faster)")


def parent_main(args):
    benchmark = gemm_benchmark(args)
    if args.threshold:
        print("bprop 1 vs 2 threads on small GEMMs (--threshold)", file=sys.stderr, flush=True)
        args.peer_list, args.thread_counts = ["bprop"], [2]

        def run():
            print("  bprop, 1 vs 2 threads ...", file=sys.stderr, flush=True)
            return [harness.run_alone(benchmark, "bprop", 2)]

        records, load = harness.measure_load(run)
        print_threshold_report(args, records, load)
    else:
        records, load = harness.measure_load(
            lambda: harness.run_interleaved(benchmark, args.peer_list, args.thread_counts, args.resolved_repeats))
        print_gemm_report(args, records, load)
    if args.json:
        write_json(args.json, args, records, load)
    return harness.exit_status(records)


# ---------------------------------------------------------------------------------------------------
# Command line


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2", help="comma list of thread counts (default 1,2)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma list from {','.join(PEERS)} (default all)")
    parser.add_argument("--shapes", default="squares,mlp",
                        help="comma list of 'squares', 'mlp' and square sizes (default squares,mlp)")
    parser.add_argument("--repeats", type=int,
                        help="rounds: timed repeats of each shape per peer (default 7; 3 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 3 rounds of ~10 ms loops, the 'squares' group only up to 512")
    parser.add_argument("--isa", choices=("reference", "avx2", "avx512"), help="BPROP_ISA for bprop's child")
    parser.add_argument("--json", metavar="PATH", help="also write machine info, medians, paired ratios and all round times here")
    parser.add_argument("--threshold", action="store_true",
                        help="bprop only, 1 vs 2 threads on small GEMMs, to set kParallelMinFlops "
                             "(ignores --threads, --peers, --shapes)")
    args = harness.parse_options(parser, argv, PEERS)
    args.resolved_repeats = args.repeats or (3 if args.quick else 7)
    try:
        select_shapes(args.shapes, args.quick)
    except ValueError as error:
        parser.error(str(error))
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        child_main(args)
        return 0
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
