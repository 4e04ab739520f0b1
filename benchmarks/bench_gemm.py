"""bprop's float32 GEMM against NumPy (OpenBLAS) and PyTorch, in one run.

What it measures
    GFLOP/s (2·m·n·k per call, median over rounds) of bprop.matmul, NumPy's matmul and, when it is
    installed, torch.matmul, at 1 and 2 threads, on
      * squares 64, 128, 256, 512, 1024, 2048;
      * the shapes an MLP trains with: forward (128x784)·(784x512) and (128x512)·(512x256), backward
        Xᵀ·dY (784x128)·(128x512) and dY·Wᵀ (128x512)·(512x784), with the transposed operand passed
        as the layers pass it (a transpose flag or a .T view, never a copy).
    Every result goes into a preallocated output. NumPy runs twice: with the OpenBLAS kernel it picks
    itself, and with OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels), so the strongest peer is always in
    the table. bprop's share of the machine's float32 FMA peak is measured here too
    (bprop._core.fma_peak_gflops) and printed next to it.

How it measures: in rounds, because the machine drifts
    On a shared host the same GEMM can run 50% faster a few minutes later, so peers timed one after the
    other would be timed in different periods. Instead each (peer, thread count) gets one persistent
    child process (this script with the hidden --child flag, so thread counts, OpenBLAS's core type and
    BPROP_ISA are in the environment before any library loads) that imports its library, builds its
    operands and calibrates its loops once, then waits on stdin. In each of --repeats rounds the parent
    asks every child in turn, starting one peer later each round, to time every shape once (one loop of
    ~50 ms) and reply with a JSON line; only one child computes at a time. GFLOP/s are medians over
    rounds; the ratio columns are medians of the per-round ratios, bprop against each peer within the
    same round, which the drift cancels out of.
    All 1-thread children run as one group, then all 2-thread ones, never side by side. An idle child
    must not spin on the core the next one needs: bprop and torch run with OMP_WAIT_POLICY=PASSIVE
    (libgomp would spin for GOMP_SPINCOUNT after each parallel region; passive costs a thread wake-up per
    call, visible only on the smallest shapes) and one OpenBLAS thread (they use NumPy only to build
    operands). NumPy keeps its requested OpenBLAS threads, whose workers spin ~0.1 s after a call, so
    the parent pauses that long after each multi-threaded turn.

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
import contextlib
import functools
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time

PEERS = ("bprop", "numpy", "numpy-skylakex", "torch")
PEER_COLUMN = {"bprop": "bprop", "numpy": "np", "numpy-skylakex": "np-skx", "torch": "torch"}
SQUARE_SIZES = (64, 128, 256, 512, 1024, 2048)
QUICK_MAX_SQUARE = 512
REPEAT_SECONDS = {"full": 0.05, "quick": 0.01}
THRESHOLD_REPEAT_SECONDS = {"full": 0.02, "quick": 0.01}
PEAK_SECONDS = 0.3
PEAK_SAMPLES = 3
# Caps on waiting for a child, far above what a healthy one needs: only a hung or runaway child hits
# them, and it is then killed and reported while the others go on. Setup is import, operands,
# calibration and FMA peaks (for --threshold: its whole run); a turn is every shape timed once.
SETUP_TIMEOUT_SECONDS = 900
TURN_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 10
# NumPy's OpenBLAS workers spin for 2^28 TSC cycles (~0.1 s here) after a call before they sleep; a
# multi-threaded turn is followed by this pause so they do not take a core from the next child.
HANDOVER_PAUSE_SECONDS = 0.15
STDERR_TAIL_LINES = 20
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


# ---------------------------------------------------------------------------------------------------
# Timing (children only)


def seconds_per_call(call, iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        call()
    return (time.perf_counter() - start) / iterations


def calibrate_iterations(call, target_seconds):
    """Iterations for one timed loop to last about target_seconds; running it also warms the call up."""
    call()  # first touch: page faults on out, packing buffers, lazy library initialisation
    iterations = 1
    while True:
        elapsed = seconds_per_call(call, iterations) * iterations
        if elapsed >= target_seconds / 4:
            return max(1, round(iterations * target_seconds / elapsed))
        iterations *= 2


# ---------------------------------------------------------------------------------------------------
# Child processes: one peer at one thread count, talking one JSON line at a time on stdout


def set_child_environment(peer, threads, isa, threshold):
    """Pin threads and kernel choice before any library reads the environment (they read it at load)."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    if peer in ("bprop", "torch"):
        # NumPy only builds their operands: one OpenBLAS thread, so no idle OpenBLAS pool spins.
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        # Idle OpenMP workers sleep at once rather than spin on a core the next child in the round needs.
        # The --threshold child runs alone and keeps libgomp's default, the policy bprop's users get.
        if not threshold:
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
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
    import torch  # ImportError is the caller's "skip torch"

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


PEER_LOADERS = {"bprop": load_bprop, "numpy": load_numpy, "numpy-skylakex": load_numpy, "torch": load_torch}


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


def reply_channel():
    """A private copy of stdout for the JSON replies. File descriptor 1 then points at stderr, so nothing a
    library prints (from Python or from C) can land in the middle of a reply."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return channel


def send(channel, message):
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def prepare_shape(np, bind, shape, target_seconds):
    """(timed call, its calibrated iteration count, relative error of its result) on this shape's operands."""
    a, b, c = make_operands(np, shape)
    call = bind(shape, a, b, c)
    iterations = calibrate_iterations(call, target_seconds)
    return call, iterations, relative_error(np, shape, a, b, c)


def run_gemm_child(args, np, channel):
    """Sets up once and says so in one JSON line, then answers every line on stdin (one per round) with
    one turn: each shape timed once, a loop of its calibrated iteration count. EOF ends the child."""
    try:
        bind, details = PEER_LOADERS[args.child](args.child_threads, np)
    except ImportError as error:
        send(channel, {"skipped": f"import failed: {error}"})
        return
    target = REPEAT_SECONDS["quick" if args.quick else "full"]
    timed, shapes = [], []
    for shape in select_shapes(args.shapes, args.quick):
        # The parent keeps stderr for failures: its tail then names the shape the child died on.
        print(f"    setting up {shape['label']}", file=sys.stderr, flush=True)
        call, iterations, error = prepare_shape(np, bind, shape, target)
        timed.append((shape["label"], call, iterations))
        shapes.append({**shape, "iterations": iterations, "relative_error": error})
    send(channel, {"details": details, "shapes": shapes})
    for _request in sys.stdin:
        seconds = []
        for label, call, iterations in timed:
            print(f"    timing {label}", file=sys.stderr, flush=True)
            seconds.append(seconds_per_call(call, iterations))
        send(channel, {"seconds_per_call": seconds})


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
        iterations = calibrate_iterations(call, target)
        times = {1: [], 2: []}
        for _ in range(args.resolved_repeats):
            for threads in (1, 2):
                bprop.set_num_threads(threads)
                call()  # wake the thread pool: a training loop calls GEMMs back to back, pool hot
                times[threads].append(seconds_per_call(call, iterations))
        t1, t2 = statistics.median(times[1]), statistics.median(times[2])
        rows.append({"m": m, "n": n, "k": k, "flops": gemm_flops(m, n, k), "iterations": iterations,
                     "t1_seconds": t1, "t2_seconds": t2, "speedup": t1 / t2,
                     "repeat_seconds_per_call": {"1": times[1], "2": times[2]}})
    return {"details": {"version": bprop.__version__, "cpu_info": bprop.cpu_info(),
                        "default_parallel_min_flops": default_threshold}, "threshold": rows}


def child_main(args):
    set_child_environment(args.child, args.child_threads, args.isa, args.threshold)
    channel = reply_channel()
    import numpy as np

    if args.threshold:
        send(channel, run_threshold_child(args, np))
    else:
        run_gemm_child(args, np, channel)


# ---------------------------------------------------------------------------------------------------
# Parent: the children, round by round


def child_command(args, peer, threads):
    command = [sys.executable, os.path.abspath(__file__), "--child", peer, "--threads", str(threads),
               "--shapes", args.shapes, "--repeats", str(args.resolved_repeats)]
    if args.quick:
        command.append("--quick")
    if args.isa:
        command += ["--isa", args.isa]
    if args.threshold:
        command.append("--threshold")
    return command


class ChildFailed(Exception):
    """A child died, outlived its time cap or wrote something other than a JSON line."""


class Child:
    """One peer at one thread count in its own process, and its record: what it reported, or its failure.

    Its stderr goes to a file, not a pipe: the child can never block on a full pipe nobody reads, and the
    tail is there to report if it fails.
    """

    def __init__(self, args, peer, threads):
        self.record = {"peer": peer, "threads": threads}
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(child_command(args, peer, threads), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.stderr)
        self.unread = b""

    def read_reply(self, timeout):
        """The child's next JSON line, waited for at most timeout seconds."""
        deadline = time.monotonic() + timeout
        stdout = self.process.stdout.fileno()
        while b"\n" not in self.unread:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([stdout], [], [], remaining)[0]:
                raise ChildFailed(f"no reply within {timeout} s")
            chunk = os.read(stdout, 1 << 16)
            if not chunk:
                raise ChildFailed(f"exit code {self.process.wait()}")
            self.unread += chunk
        line, self.unread = self.unread.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise ChildFailed(f"not a JSON line on stdout: {line[:200]!r}") from None

    def take_turn(self):
        """Seconds per call of every shape, in shape order, each timed once now."""
        try:
            self.process.stdin.write(b"time\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise ChildFailed(f"exit code {self.process.wait()}") from None
        return self.read_reply(TURN_TIMEOUT_SECONDS)["seconds_per_call"]

    def stop(self):
        """Ends the child (EOF on stdin, or a kill if it lingers) and returns what it wrote on stderr."""
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def fail(self, error):
        """Kills the child at once (a hung one may be spinning on a core) and records why, with its stderr."""
        self.process.kill()
        self.record = {"peer": self.record["peer"], "threads": self.record["threads"], "failed": str(error),
                       "stderr": self.stop()}
        report_failure(self.record)


def report_failure(record):
    print(f"\n!! {record['peer']} at {record['threads']} thread(s) failed: {record['failed']}")
    tail = (record.get("stderr") or "").strip().splitlines()[-STDERR_TAIL_LINES:]
    for line in tail:
        print(f"   | {line}")


def start_child(args, peer, threads):
    """A child once it has set up; its record then holds its details and shapes, a skip or a failure."""
    print(f"  {peer}, {threads} thread(s): setting up ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    child = Child(args, peer, threads)
    try:
        ready = child.read_reply(SETUP_TIMEOUT_SECONDS)
    except ChildFailed as error:
        child.fail(error)
        return child
    child.record["setup_seconds"] = time.perf_counter() - start
    child.record["result"] = ready
    if "skipped" in ready:
        child.stop()
        return child
    ready["round_positions"] = []  # the child's place in each round's order
    for shape in ready["shapes"]:
        shape["round_seconds_per_call"] = []
    return child


def let_workers_sleep(threads):
    """After a multi-threaded child computed: wait until its OpenBLAS workers stop spinning."""
    if threads > 1:
        time.sleep(HANDOVER_PAUSE_SECONDS)


def run_round(children, round_index, threads):
    """Every child's turn, one at a time, each round starting one child later than the one before."""
    shift = round_index % len(children)
    for position, child in enumerate(children[shift:] + children[:shift]):
        try:
            seconds = child.take_turn()
        except ChildFailed as error:
            child.fail(error)
            continue
        result = child.record["result"]
        result["round_positions"].append(position)
        for shape, value in zip(result["shapes"], seconds):
            shape["round_seconds_per_call"].append(value)
        let_workers_sleep(threads)


def summarise_rounds(record):
    for shape in record["result"]["shapes"]:
        median = statistics.median(shape["round_seconds_per_call"])
        shape["median_seconds_per_call"] = median
        shape["gflops"] = gemm_flops(shape["m"], shape["n"], shape["k"]) / median / 1e9


def add_paired_ratios(records):
    """Per peer and shape: bprop's speed over the peer's within each round (peer time / bprop time) and
    the median of those. Drift between rounds slows both sides of a ratio alike, so it cancels out."""
    bprop = next((r for r in records if r["peer"] == "bprop" and succeeded(r)), None)
    if bprop is None:
        return
    for record in records:
        if record is bprop or not succeeded(record):
            continue
        for ours, theirs in zip(bprop["result"]["shapes"], record["result"]["shapes"]):
            ratios = [t / b for b, t in zip(ours["round_seconds_per_call"], theirs["round_seconds_per_call"])]
            theirs["paired_ratio_per_round"] = ratios
            theirs["paired_ratio"] = statistics.median(ratios)


def run_thread_group(args, peers, threads):
    """Records of these peers at one thread count, timed in interleaved rounds."""
    children = []
    for peer in peers:  # one setup at a time: the children already started wait idle on stdin
        children.append(start_child(args, peer, threads))
        let_workers_sleep(threads)
    for round_index in range(args.resolved_repeats):
        running = [c for c in children if succeeded(c.record)]
        if not running:
            break
        start = time.perf_counter()
        run_round(running, round_index, threads)
        print(f"  {threads} thread(s), round {round_index + 1}/{args.resolved_repeats}: "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    for child in children:
        if succeeded(child.record):
            child.stop()
            summarise_rounds(child.record)
    records = [child.record for child in children]
    add_paired_ratios(records)
    return records


def run_gemm_children(args):
    """Every thread count's group in turn, so a 2-thread child never runs next to a 1-thread one."""
    records, skipped_peers = [], set()
    for threads in args.thread_counts:
        group = run_thread_group(args, [p for p in args.peer_list if p not in skipped_peers], threads)
        # A missing library stays missing at every thread count.
        skipped_peers.update(r["peer"] for r in group if "skipped" in r.get("result", {}))
        records += group
    return records


def run_threshold(args):
    """The --threshold record: one child, bprop alternating 1 and 2 threads by itself."""
    print("  bprop, 1 vs 2 threads ...", file=sys.stderr, flush=True)
    child = Child(args, "bprop", 2)
    try:
        child.record["result"] = child.read_reply(SETUP_TIMEOUT_SECONDS)
    except ChildFailed as error:
        child.fail(error)
    else:
        child.stop()
    return child.record


def succeeded(record):
    return "result" in record and "skipped" not in record["result"]


# ---------------------------------------------------------------------------------------------------
# Parent: the report


def format_table(columns, rows):
    """Plain aligned text. columns: (group, title, align) with align '<' or '>'; rows: lists of strings.

    Consecutive columns sharing a non-empty group get the group's name centred over them.
    """
    widths = [max([len(title)] + [len(row[i]) for row in rows]) for i, (_, title, _) in enumerate(columns)]
    groups, i = [], 0
    while i < len(columns):
        j = i
        while j + 1 < len(columns) and columns[j + 1][0] == columns[i][0]:
            j += 1
        span = sum(widths[i:j + 1]) + 2 * (j - i)
        groups.append(f"{columns[i][0]:^{span}}" if columns[i][0] else " " * span)
        i = j + 1
    lines = ["  ".join(groups).rstrip()] if any(group for group, _, _ in columns) else []
    lines.append("  ".join(f"{title:{align}{w}}" for (_, title, align), w in zip(columns, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(f"{cell:{align}{w}}" for cell, (_, _, align), w in zip(row, columns, widths)).rstrip()
              for row in rows]
    return "\n".join(lines)


def find_record(records, peer, threads):
    return next((r for r in records if r["peer"] == peer and r["threads"] == threads and succeeded(r)), None)


def human_bytes(n):
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def fma_peaks(records):
    """{isa: {threads: GFLOP/s}} from the bprop children (the --threshold child measures none)."""
    peaks = {}
    for record in records:
        if record["peer"] == "bprop" and succeeded(record):
            for isa, gflops in record["result"]["details"].get("fma_peak_gflops", {}).items():
                peaks.setdefault(isa, {})[record["threads"]] = gflops
    return peaks


def openblas_summary(record):
    pools = record["result"]["details"]["openblas"]
    if pools is None:
        return "kernel unknown (threadpoolctl not installed)"
    return ", ".join(f"{p['internal_api']} {p['version']} {p['architecture']}" for p in pools) or "no BLAS found"


def load_line(load):
    """Load averages before and after the run: anything near a core or more means a busy machine."""
    return (f"load      1-min average {load['before']:.2f} before, {load['after']:.2f} after "
            f"(other work on the cores skews timings, 2-thread ones most)")


def machine_header(args, records, load):
    lines = [f"bprop GEMM benchmark: float32, {args.resolved_repeats} rounds, each timing every shape once per peer "
             f"(a ~{REPEAT_SECONDS['quick' if args.quick else 'full'] * 1e3:.0f} ms loop); "
             f"GFLOP/s = 2mnk / median time"]
    bprop_record = next((r for r in records if r["peer"] == "bprop" and succeeded(r)), None)
    if bprop_record:
        details = bprop_record["result"]["details"]
        info = details["cpu_info"]
        caches = ", ".join(f"{name} {human_bytes(size)}" for name, size in info["caches"].items())
        lines.append(f"cpu       {info['cpu']}, {info['cores']} cores ({caches})")
        lines.append(f"bprop     {details['version']}: ISA {info['isa']}, kernel {info['gemm_kernels']['float32']}, "
                     f"OpenMP {'yes' if info['openmp'] else 'no'}")
        peaks = "; ".join(f"{isa} " + ", ".join(f"{t}t {g:.1f}" for t, g in sorted(by_threads.items()))
                          for isa, by_threads in fma_peaks(records).items())
        lines.append(f"FMA peak  {peaks or 'none (no SIMD ISA)'} GFLOP/s (float32, measured now)")
    else:
        lines.append("bprop     no result: no machine info and no FMA peak")
    for peer in ("numpy", "numpy-skylakex"):
        record = next((r for r in records if r["peer"] == peer and succeeded(r)), None)
        if record:
            lines.append(f"{PEER_COLUMN[peer]:<9} numpy {record['result']['details']['version']}: "
                         f"{openblas_summary(record)}")
    torch_record = next((r for r in records if r["peer"] == "torch" and "result" in r), None)
    if torch_record and "skipped" in torch_record["result"]:
        lines.append(f"torch     skipped: {torch_record['result']['skipped']}")
    elif torch_record:
        details = torch_record["result"]["details"]
        lines.append(f"torch     {details['version']} (BLAS {details['blas']})")
    lines.append(load_line(load))
    return "\n".join(lines)


def thread_mismatches(records):
    return [f"{r['peer']} asked for {r['threads']} thread(s) but reports {seen}"
            for r in records if succeeded(r)
            for seen in [r["result"]["details"].get("threads_seen")] if seen is not None and seen != r["threads"]]


def shape_results(record):
    return {s["label"]: s for s in record["result"]["shapes"]} if record else {}


def bprop_peak(records, threads):
    """(ISA bprop used, its measured FMA peak) at this thread count; the peak is None if not measured."""
    record = find_record(records, "bprop", threads)
    if not record:
        return None, None
    details = record["result"]["details"]
    isa = details["cpu_info"]["isa"]
    return isa, details["fma_peak_gflops"].get(isa)  # None for "reference": it has no SIMD peak


def thread_table(args, records, threads):
    peers = [p for p in args.peer_list if find_record(records, p, threads)]
    results = {p: shape_results(find_record(records, p, threads)) for p in peers}
    has_bprop = "bprop" in peers
    others = [p for p in peers if p != "bprop"] if has_bprop else []
    isa, peak = bprop_peak(records, threads)
    single = shape_results(find_record(records, "bprop", 1)) if has_bprop and threads != 1 else {}

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
    text = f"{title}\n{format_table(columns, rows)}"
    if wrong:
        text += "\n!! wrong results (C·v vs op(A)·(op(B)·v)):\n" + "\n".join(f"   {w}" for w in wrong)
    return text


def print_gemm_report(args, records, load):
    print()
    print(machine_header(args, records, load))
    for warning in thread_mismatches(records):
        print(f"!! {warning}")
    if any(find_record(records, "bprop", t) for t in args.thread_counts):
        print("ratios: bprop / peer = median over rounds of (peer time / bprop time) within each round, paired\n"
              "        so drift between rounds cancels (> 1: bprop is faster); %peak and 2t/1t use the medians")
    for threads in args.thread_counts:
        if any(find_record(records, p, threads) for p in args.peer_list):
            print()
            print(thread_table(args, records, threads))


def print_threshold_report(args, records, load):
    record = records[0]
    if not succeeded(record):
        return
    info = record["result"]["details"]["cpu_info"]
    rows = record["result"]["threshold"]
    print(f"\nbprop {record['result']['details']['version']}, ISA {info['isa']}: 1 vs 2 threads, median of "
          f"{args.resolved_repeats} alternating repeats")
    print(load_line(load))
    print(f"The parallel threshold is lowered to 0 for this run (bprop's default, kParallelMinFlops in "
          f"cpp/gemm/gemm.cpp:\n{record['result']['details']['default_parallel_min_flops']:.1e} flops; below it "
          f"bprop stays on one thread).\n")
    columns = [("", title, ">") for title in ("m", "n", "k", "flops", "t1 us", "t2 us", "t1/t2")]
    table = [[str(r["m"]), str(r["n"]), str(r["k"]), f"{r['flops']:.1e}", f"{r['t1_seconds'] * 1e6:.1f}",
              f"{r['t2_seconds'] * 1e6:.1f}", f"{r['speedup']:.2f}"] for r in rows]
    print(format_table(columns, table))
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
    document = {
        "config": {"threads": args.thread_counts, "peers": args.peer_list, "shapes": args.shapes,
                   "repeats": args.resolved_repeats, "quick": args.quick, "isa": args.isa,
                   "threshold": args.threshold, "python": sys.version},
        "load_average_1min": load,
        "cpu_info": next((r["result"]["details"]["cpu_info"] for r in records
                          if r["peer"] == "bprop" and succeeded(r)), None),
        "fma_peak_gflops": {isa: {str(t): g for t, g in by_threads.items()}
                            for isa, by_threads in fma_peaks(records).items()},
        "method": "per thread count, one child per peer; each round every child times every shape once, "
                  "in an order rotating by round; gflops from the median over rounds; paired_ratio = median over "
                  "rounds of peer time / bprop time in the same round (> 1: bprop faster)",
        "runs": records,
    }
    with open(path, "w") as handle:
        json.dump(document, handle, indent=1)
    print(f"\nwrote {path}")


def parent_main(args):
    load = {"before": os.getloadavg()[0]}
    if args.threshold:
        print("bprop 1 vs 2 threads on small GEMMs (--threshold)", file=sys.stderr, flush=True)
        args.peer_list, args.thread_counts = ["bprop"], [2]
        records = [run_threshold(args)]
        load["after"] = os.getloadavg()[0]
        print_threshold_report(args, records, load)
    else:
        print("one child per peer and thread count, interleaved in rounds:", file=sys.stderr, flush=True)
        records = run_gemm_children(args)
        load["after"] = os.getloadavg()[0]
        print_gemm_report(args, records, load)
    if args.json:
        write_json(args.json, args, records, load)
    # Fail only when nothing ran: a skipped torch is a note, one failed child is reported above.
    failed = any("failed" in r for r in records)
    return 1 if failed and not any(succeeded(r) for r in records) else 0


# ---------------------------------------------------------------------------------------------------
# Command line


def comma_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


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
    parser.add_argument("--child", choices=PEERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    args.resolved_repeats = args.repeats or (3 if args.quick else 7)
    if args.resolved_repeats < 1:
        parser.error("--repeats must be >= 1")
    try:
        args.thread_counts = [int(t) for t in comma_list(args.threads)]
    except ValueError:
        parser.error(f"--threads: expected a comma list of integers; got {args.threads!r}")
    if not args.thread_counts or min(args.thread_counts) < 1:
        parser.error("--threads: every count must be >= 1")
    args.peer_list = comma_list(args.peers)
    unknown = set(args.peer_list) - set(PEERS)
    if unknown or not args.peer_list:
        parser.error(f"--peers: choose from {','.join(PEERS)}; got {args.peers!r}")
    try:
        select_shapes(args.shapes, args.quick)
    except ValueError as error:
        parser.error(str(error))
    if args.child:
        if len(args.thread_counts) != 1:
            parser.error("--child runs one thread count")
        args.child_threads = args.thread_counts[0]
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        child_main(args)
        return 0
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
