"""Shared machinery of bprop's peer benchmarks: persistent child processes timed in interleaved rounds.

Why rounds: the machine drifts
    On a shared host the same computation can run 50% faster a few minutes later, so peers timed one after
    the other would be timed in different periods. Instead each (peer, thread count) gets one persistent
    child process (the benchmark script itself with the hidden --child flag, so thread counts and wait
    policies are in the environment before any library loads) that imports its library, builds its data and
    calibrates its loops once, then waits on stdin. In each round the parent asks every child in turn,
    starting one peer later each round, to time every item once and reply with a JSON line; only one child
    computes at a time. Rates are medians over rounds; paired ratios are medians of the per-round ratios, the
    reference peer against each other peer within the same round, which the drift cancels out of.
    All children of one thread count run as a group, then those of the next, never side by side, and an idle
    child must not spin on the core the next one needs: see set_thread_environment and let_workers_sleep.

What a benchmark script provides: a Benchmark (its peers, items, work per call), and then
    * in the child (--child PEER --threads N): set_thread_environment, reply_channel, serve_child (run_child
      does all three);
    * in the parent: measure_load(lambda: run_interleaved(...)) (or run_alone for a one-reply child, or
      run_under_conditions to time every child under each of several machine conditions), its
      report from find_record, item_results, format_table, load_line, human_bytes and thread_mismatches,
      write_json, and exit_status(records) as the exit code (parent_main does the run, report and exit code
      for run_interleaved).
    Scripts timing workloads against bprop (bench_train, bench_conv) share more: parse_run_options,
    workload_benchmark, bprop_details and shuffled_batches in the child, and report_header (peer_line),
    print_report, fma_peak, rate_cell and reference_cpu_info in the report.
    A record is {"peer", "threads", "setup_seconds", "result": {"details", <items_key>: [item, ...],
    "round_positions"}}, or a skip {"peer", "threads", "result": {"skipped"}}, or {"peer", "threads",
    "failed", "stderr"}. Each item gains "iterations", "round_seconds_per_call", "median_seconds_per_call",
    <rate_key> and, for peers other than the reference, "paired_ratio_per_round" and "paired_ratio".
"""
import argparse
import contextlib
import copy
import dataclasses
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

# Caps on waiting for a child, far above what a healthy one needs: only a hung or runaway child hits
# them, and it is then killed and reported while the others go on. Setup is imports, data, calibration
# and whatever the loader measures (for a child run alone: its whole run); a turn is every item timed once.
SETUP_TIMEOUT_SECONDS = 900
TURN_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 10
# OpenBLAS workers spin for 2^28 TSC cycles (~0.1 s here) after a call before they sleep, libgomp's
# for GOMP_SPINCOUNT (far less); a multi-threaded turn is followed by this pause so neither takes a
# core from the next child.
HANDOVER_PAUSE_SECONDS = 0.15
# The peer --baseline adds: the reference peer's loader run by another interpreter (another bprop build), so a
# change is timed against the build before it in the same rounds and paired like any other peer.
BASELINE_PEER = "baseline"
STDERR_TAIL_LINES = 20
# bprop_details: the FMA peak is the median of PEAK_SAMPLES measurements of PEAK_SECONDS each.
PEAK_SECONDS = 0.3
PEAK_SAMPLES = 3


@dataclasses.dataclass
class Benchmark:
    """What a benchmark script supplies; the harness does the rest.

    peers: name -> loader(threads), called in the child once its environment is set, returning
        (prepare, details). prepare(item) returns (call, check): call() is the timed work on that item's
        data; check(), run once the calls have run, returns extra JSON fields for the item (a result check,
        say), or {}. details is a JSON-able dict about the peer (versions, libraries, and "threads_seen" if it
        can tell, which thread_mismatches compares). An ImportError skips the peer: an optional library.
    items: dicts with a unique "label" and whatever prepare and work need (a shape, a workload).
    work: item -> work done by one call (flops, samples); the item's rate_key is work / second / rate_unit.
    """
    script: str  # the benchmark script's path: children run it with --child PEER --threads N
    peers: dict
    items: list
    work: Callable
    reference: str  # the peer that paired ratios compare every other peer with
    items_key: str = "items"  # name of the item list in replies, records and JSON ("shapes")
    rate_key: str = "rate"  # name of an item's rate ("gflops")
    rate_unit: float = 1.0  # 1e9 for GFLOP/s
    loop_seconds: float = 0.05  # one timed loop of one item lasts about this long
    child_arguments: list = dataclasses.field(default_factory=list)  # the script's options every child needs
    baseline_python: str = None  # --baseline: the interpreter whose bprop the BASELINE_PEER child runs


# ---------------------------------------------------------------------------------------------------
# Timing (children only)


def seconds_per_call(call, iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        call()
    return (time.perf_counter() - start) / iterations


def calibrate_iterations(call, target_seconds):
    """Iterations for one timed loop to last about target_seconds; running it also warms the call up."""
    call()  # first touch: page faults on outputs, packing buffers, lazy library initialisation
    iterations = 1
    while True:
        elapsed = seconds_per_call(call, iterations) * iterations
        if elapsed >= target_seconds / 4:
            return max(1, round(iterations * target_seconds / elapsed))
        iterations *= 2


# ---------------------------------------------------------------------------------------------------
# Children: one peer at one thread count, talking one JSON line at a time


def set_thread_environment(threads, blas_threads=None):
    """Thread counts for every library a child may load; call it before any import, as they read it at load.

    blas_threads: OpenBLAS's threads when it is not what the peer measures (NumPy only builds the data): 1,
    so no idle OpenBLAS pool spins. OpenMP's wait policy stays the default, the one users run with: idle
    workers spin briefly after each call (fast back-to-back calls), then sleep; let_workers_sleep gives
    them that time before the next child's turn.
    """
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    if blas_threads is not None:
        os.environ["OPENBLAS_NUM_THREADS"] = str(blas_threads)


def confine_to_cpus(threads):
    """Run this process on its first `threads` CPUs only: for a library with no thread setting that holds
    (XLA's CPU backend, measured above the 1-core FMA peak with its thread flags set to 1)."""
    cpus = sorted(os.sched_getaffinity(0))
    if threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])


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


def serve_child(benchmark, channel, peer, threads):
    """Sets up once and says so in one JSON line, then answers every line on stdin (one per round) with
    one turn: each item timed once, a loop of its calibrated iteration count. EOF ends the child."""
    try:
        prepare, details = benchmark.peers[peer](threads)
    except ImportError as error:
        send(channel, {"skipped": f"import failed: {error}"})
        return
    timed, items = [], []
    for item in benchmark.items:
        # The parent keeps stderr for failures: its tail then names the item the child died on.
        print(f"    setting up {item['label']}", file=sys.stderr, flush=True)
        call, check = prepare(item)
        iterations = calibrate_iterations(call, benchmark.loop_seconds)
        timed.append((item["label"], call, iterations))
        items.append({**item, "iterations": iterations, **check()})
    send(channel, {"details": details, benchmark.items_key: items})
    for _request in sys.stdin:
        seconds = []
        for label, call, iterations in timed:
            print(f"    timing {label}", file=sys.stderr, flush=True)
            seconds.append(seconds_per_call(call, iterations))
        send(channel, {"seconds_per_call": seconds})


def run_child(args, make_benchmark, blas_threads=None):
    """A script's --child entry: the thread environment first (before any library loads; blas_threads as in
    set_thread_environment), then the reply channel and serve_child on make_benchmark(args). Returns 0."""
    set_thread_environment(args.child_threads, blas_threads=blas_threads)
    channel = reply_channel()
    serve_child(make_benchmark(args), channel, args.child, args.child_threads)
    return 0


def bprop_details(bprop, threads):
    """A bprop peer's details: its version, cpu_info(), the threads it sees and the float32 FMA peak measured
    now at this thread count (median of PEAK_SAMPLES; None with the portable kernels, which have no SIMD
    peak), which fma_peak reads back and the reports' % of peak divide by. Call it after set_num_threads."""
    info = bprop.cpu_info()
    peak = None
    if info["isa"] != "reference":
        peak = statistics.median(bprop._core.fma_peak_gflops(info["isa"], threads, PEAK_SECONDS)
                                 for _ in range(PEAK_SAMPLES))
    return {"version": bprop.__version__, "cpu_info": info, "threads_seen": bprop.get_num_threads(),
            "fma_peak_gflops": peak}


def shuffled_batches(rng, samples, batch):
    """One epoch's batches as index arrays: a fresh permutation cut in order (the last batch may be short)."""
    order = rng.permutation(samples)
    return [order[start:start + batch] for start in range(0, samples, batch)]


# ---------------------------------------------------------------------------------------------------
# Parent: the children, round by round


class ChildFailed(Exception):
    """A child died, outlived its time cap or wrote something other than a JSON line."""


class Child:
    """One peer at one thread count in its own process, and its record: what it reported, or its failure.

    Its stderr goes to a file, not a pipe: the child can never block on a full pipe nobody reads, and the
    tail is there to report if it fails.
    """

    def __init__(self, benchmark, peer, threads):
        self.record = {"peer": peer, "threads": threads}
        self.stderr = tempfile.TemporaryFile()
        python, loader = sys.executable, peer
        if peer == BASELINE_PEER:
            python, loader = benchmark.baseline_python, benchmark.reference
        command = [python, os.path.abspath(benchmark.script), "--child", loader, "--threads", str(threads)]
        self.process = subprocess.Popen(command + benchmark.child_arguments, stdin=subprocess.PIPE,
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
        """Seconds per call of every item, in item order, each timed once now."""
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
        peer, threads = self.record["peer"], self.record["threads"]
        self.record = {"peer": peer, "threads": threads, "failed": str(error), "stderr": self.stop()}
        print(f"\n!! {peer} at {threads} thread(s) failed: {error}")
        for line in self.record["stderr"].strip().splitlines()[-STDERR_TAIL_LINES:]:
            print(f"   | {line}")


def start_child(benchmark, peer, threads):
    """A child once it has set up; its record then holds its details and items, a skip or a failure."""
    print(f"  {peer}, {threads} thread(s): setting up ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    child = Child(benchmark, peer, threads)
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
    for item in ready[benchmark.items_key]:
        item["round_seconds_per_call"] = []
    return child


def let_workers_sleep(threads):
    """After a multi-threaded child computed: wait until its OpenBLAS or OpenMP workers stop spinning."""
    if threads > 1:
        time.sleep(HANDOVER_PAUSE_SECONDS)


def run_round(benchmark, children, round_index, threads):
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
        for item, value in zip(result[benchmark.items_key], seconds):
            item["round_seconds_per_call"].append(value)
        let_workers_sleep(threads)


def summarise_rounds(benchmark, record):
    for item in record["result"][benchmark.items_key]:
        median = statistics.median(item["round_seconds_per_call"])
        item["median_seconds_per_call"] = median
        item[benchmark.rate_key] = benchmark.work(item) / median / benchmark.rate_unit


def add_paired_ratios(benchmark, records):
    """Per peer and item: the reference's speed over the peer's within each round (peer time / reference
    time) and the median of those. Drift between rounds slows both sides of a ratio alike, so it cancels."""
    reference = next((r for r in records if r["peer"] == benchmark.reference and succeeded(r)), None)
    if reference is None:
        return
    for record in records:
        if record is reference or not succeeded(record):
            continue
        for ours, theirs in zip(reference["result"][benchmark.items_key], record["result"][benchmark.items_key]):
            ratios = [t / b for b, t in zip(ours["round_seconds_per_call"], theirs["round_seconds_per_call"])]
            theirs["paired_ratio_per_round"] = ratios
            theirs["paired_ratio"] = statistics.median(ratios)


def run_thread_group(benchmark, peers, threads, repeats):
    """Records of these peers at one thread count, timed in interleaved rounds."""
    children = []
    for peer in peers:  # one setup at a time: the children already started wait idle on stdin
        children.append(start_child(benchmark, peer, threads))
        let_workers_sleep(threads)
    for round_index in range(repeats):
        running = [c for c in children if succeeded(c.record)]
        if not running:
            break
        start = time.perf_counter()
        run_round(benchmark, running, round_index, threads)
        print(f"  {threads} thread(s), round {round_index + 1}/{repeats}: "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    for child in children:
        if succeeded(child.record):
            child.stop()
            summarise_rounds(benchmark, child.record)
    records = [child.record for child in children]
    add_paired_ratios(benchmark, records)
    return records


def run_interleaved(benchmark, peers, thread_counts, repeats):
    """Records of every peer at every thread count: one thread count's group after the other, so a
    2-thread child never runs next to a 1-thread one, each group timed in `repeats` rounds."""
    print("one child per peer and thread count, interleaved in rounds:", file=sys.stderr, flush=True)
    records, skipped_peers = [], set()
    for threads in thread_counts:
        group = run_thread_group(benchmark, [p for p in peers if p not in skipped_peers], threads, repeats)
        # A missing library stays missing at every thread count.
        skipped_peers.update(r["peer"] for r in group if "skipped" in r.get("result", {}))
        records += group
    return records


def run_under_conditions(benchmark, members, conditions, repeats):
    """Records of every (peer, threads) member under every condition, timed in interleaved rounds.

    conditions: (label, hold) pairs; hold() is a context manager that keeps the condition up (competing busy
    processes, say) while every child takes one turn. The children are set up once, before any condition (so
    their calibration never depends on one); each round then goes through every condition, in an order
    rotating by round, and every child takes its turn under it. Unlike run_interleaved, children of different
    thread counts share the rounds, so ratios between thread counts can be paired within a round too.
    Returns one record per member and condition, each marked "condition": label.
    """
    children = []
    for peer, threads in members:  # one setup at a time, no condition held
        children.append(start_child(benchmark, peer, threads))
        let_workers_sleep(threads)
    most_threads = max(threads for _, threads in members)
    records = {(index, label): {**copy.deepcopy(child.record), "condition": label}
               for index, child in enumerate(children) for label, _ in conditions}
    for round_index in range(repeats):
        start = time.perf_counter()
        shift = round_index % len(conditions)
        for label, hold in conditions[shift:] + conditions[:shift]:
            running = [i for i, child in enumerate(children) if succeeded(child.record)]
            with hold():
                for i in running:
                    children[i].record = records[i, label]
                run_round(benchmark, [children[i] for i in running], round_index, most_threads)
            for i in running:  # a child that failed keeps its failure here and takes no further turn
                records[i, label] = {**children[i].record, "condition": label}
        print(f"  round {round_index + 1}/{repeats}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    for child in children:
        if succeeded(child.record):
            child.stop()
    for record in records.values():
        if succeeded(record):
            summarise_rounds(benchmark, record)
    return list(records.values())


def run_alone(benchmark, peer, threads):
    """The record of a child that does its whole run by itself and answers once (its "result")."""
    child = Child(benchmark, peer, threads)
    try:
        child.record["result"] = child.read_reply(SETUP_TIMEOUT_SECONDS)
    except ChildFailed as error:
        child.fail(error)
    else:
        child.stop()
    return child.record


def measure_load(run):
    """(run()'s records, the 1-minute load average before and after it) for load_line and the JSON."""
    load = {"before": os.getloadavg()[0]}
    records = run()
    load["after"] = os.getloadavg()[0]
    return records, load


def exit_status(records):
    """Fail only when nothing ran: a skipped peer is a note, one failed child is reported already."""
    failed = any("failed" in r for r in records)
    return 1 if failed and not any(succeeded(r) for r in records) else 0


def workload_benchmark(script, peers, items, args, loop_seconds):
    """The Benchmark of a script that times "workloads" against bprop in rounds, with --quick passed on to its
    children and --baseline as a peer (bench_train, bench_conv): rates in "per_second" of each item's "work"."""
    return Benchmark(script=script, peers=peers, items=items, work=lambda item: item["work"], reference="bprop",
                     items_key="workloads", rate_key="per_second", loop_seconds=loop_seconds,
                     child_arguments=["--quick"] if args.quick else [], baseline_python=args.baseline)


def parent_main(args, benchmark, print_report, write_json):
    """A script's parent run: every peer timed in interleaved rounds under measure_load, not-applicable
    items dropped (a no-op where no item is marked), print_report(args, records, load), write_json(path,
    args, records, load) if --json was given. Returns the exit code (exit_status)."""
    records, load = measure_load(lambda: run_interleaved(benchmark, args.peer_list, args.thread_counts,
                                                         args.repeats))
    drop_not_applicable(records, benchmark.items_key)
    print_report(args, records, load)
    if args.json:
        write_json(args.json, args, records, load)
    return exit_status(records)


# ---------------------------------------------------------------------------------------------------
# Parent: pieces of the report


def drop_not_applicable(records, items_key):
    """A peer's no-op timings of an item it does not run are no result: keep only its not_applicable mark."""
    for record in records:
        if succeeded(record):
            for item in record["result"][items_key]:
                if item.get("not_applicable"):
                    for key in ("per_second", "median_seconds_per_call", "paired_ratio", "paired_ratio_per_round",
                                "round_seconds_per_call"):
                        item.pop(key, None)


def succeeded(record):
    return "result" in record and "skipped" not in record["result"]


def find_record(records, peer, threads):
    return next((r for r in records if r["peer"] == peer and r["threads"] == threads and succeeded(r)), None)


def item_results(record, items_key):
    """{label: item} of a record, {} for no record."""
    return {item["label"]: item for item in record["result"][items_key]} if record else {}


def thread_mismatches(records):
    return [f"{r['peer']} asked for {r['threads']} thread(s) but reports {seen}"
            for r in records if succeeded(r)
            for seen in [r["result"]["details"].get("threads_seen")] if seen is not None and seen != r["threads"]]


def peer_table(args, records, threads, items, item_cells, rate_header, title_of=lambda item: item["label"]):
    """One row per item: each peer's rate, its % of the FMA peak and its paired ratio to bprop.
    item_cells(item, result, peak) gives a peer's (rate, % of peak, ratio) cells."""
    peers = [p for p in args.peer_list if find_record(records, p, threads)]
    results = {p: item_results(find_record(records, p, threads), "workloads") for p in peers}
    others = [p for p in peers if p != "bprop"] if "bprop" in peers else []
    _, peak = fma_peak(records, threads)
    columns = ([("", "workload", "<")] + [(rate_header, p, ">") for p in peers]
               + [("% of FMA peak", p, ">") for p in peers] + [("ratio, > 1 = bprop faster", p, ">") for p in others])
    rows = []
    for item in items:
        cells = {p: item_cells(item, results[p].get(item["label"]), peak) for p in peers}
        rows.append([title_of(item)] + [cells[p][0] for p in peers] + [cells[p][1] for p in peers]
                    + [cells[p][2] for p in others])
    return format_table(columns, rows)


def torch_jax_extras(details):
    """torch's oneDNN and jax's devices, for peer_line."""
    parts = []
    if details.get("mkldnn") is not None:
        parts.append(f"oneDNN {'available' if details['mkldnn'] else 'not available'}")
    if details.get("devices"):
        parts.append(", ".join(details["devices"]))
    return parts


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


def human_bytes(n):
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def threading_name(cpu_info):
    """How a bprop build runs its threads, from cpu_info() (builds before the pool had OpenMP)."""
    if cpu_info.get("thread_pool"):
        return f"{cpu_info['thread_pool']} thread pool"
    return "OpenMP" if cpu_info.get("openmp") else "one thread"


def machine_line(records, reference="bprop"):
    """The report's "machine" line from the reference peer's cpu_info, or None when it did not run."""
    record = next((r for r in records if r["peer"] == reference and succeeded(r)), None)
    if record is None:
        return None
    info = record["result"]["details"]["cpu_info"]
    caches = " / ".join(f"{name} {human_bytes(bytes_)}" for name, bytes_ in info["caches"].items())
    return f"machine   {info['cpu']}: {info['cores']} cores, caches {caches}"


def load_line(load):
    """Load averages before and after the run: anything near a core or more means a busy machine."""
    return (f"load      1-min average {load['before']:.2f} before, {load['after']:.2f} after "
            f"(other work on the cores skews timings, 2-thread ones most)")


def reference_cpu_info(records, reference="bprop"):
    """The reference peer's cpu_info() for the JSON, None when it did not run."""
    record = next((r for r in records if r["peer"] == reference and succeeded(r)), None)
    return record["result"]["details"]["cpu_info"] if record else None


def fma_peak(records, threads):
    """(ISA, measured FMA peak GFLOP/s) of bprop's child at this thread count (bprop_details); (None, None)
    without it."""
    record = find_record(records, "bprop", threads)
    if not record:
        return None, None
    details = record["result"]["details"]
    return details["cpu_info"]["isa"], details["fma_peak_gflops"]


def rate_cell(value):
    """A rate for a table cell: thousands separated from 100 up, 3 significant digits below, "-" for None."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def peer_line(peer, record, extra_parts=None):
    """What a peer ran with (its version; bprop's ISA, float32 kernel and threading; then the script's
    extra_parts(details), a list of strings), or why it did not."""
    if "failed" in record:
        return f"{peer:<9} failed: {record['failed']}"
    if "skipped" in record["result"]:
        return f"{peer:<9} skipped: {record['result']['skipped']}"
    details = record["result"]["details"]
    parts = []
    if "cpu_info" in details:
        info = details["cpu_info"]
        parts.append(f"ISA {info['isa']} (float32 kernel {info['gemm_kernels']['float32']}), "
                     f"threads: {threading_name(info)}")
    parts += extra_parts(details) if extra_parts else []
    return f"{peer:<9} {details['version']}" + (f": {', '.join(parts)}" if parts else "")


def report_header(title, args, records, load, extra_parts=None, threads_note=""):
    """The report's head: the title, the machine line, one peer_line per peer asked for, the thread counts
    (threads_note adds to how they are set) and the load line."""
    lines = [title, machine_line(records) or
             "machine   unknown: bprop did not run (no machine info, FMA peak or ratios)"]
    for peer in args.peer_list:  # the first record says it all: a skipped library is skipped at every count
        record = next((r for r in records if r["peer"] == peer), None)
        if record:
            lines.append(peer_line(peer, record, extra_parts))
    lines.append(f"threads   {', '.join(map(str, args.thread_counts))}: the same count for every peer "
                 f"(set_num_threads, OMP/OPENBLAS/MKL_NUM_THREADS{threads_note})")
    lines.append(load_line(load))
    return "\n".join(lines)


def print_report(args, records, header, notes, section):
    """Prints the header, any thread mismatch, the notes (strings), then section(threads) for every thread
    count at which some peer ran, each after a blank line."""
    lines = ["", header]
    lines += [f"!! {warning}" for warning in thread_mismatches(records)]
    lines += notes
    for threads in args.thread_counts:
        if any(find_record(records, p, threads) for p in args.peer_list):
            lines += ["", section(threads)]
    print("\n".join(lines))


def write_json(path, config, load, records, method, **facts):
    """The run as JSON: config (plus the Python version), load, the script's facts (machine, peaks), how it
    was measured, and every record with all round times."""
    document = {"config": {**config, "python": sys.version}, "load_average_1min": load, **facts,
                "method": method, "runs": records}
    with open(path, "w") as handle:
        json.dump(document, handle, indent=1)
    print(f"\nwrote {path}")


# ---------------------------------------------------------------------------------------------------
# Command line: the options every benchmark has (--threads, --peers, the hidden --child)


def comma_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_options(parser, argv, known_peers, baseline=False):
    """The script's own options plus the shared ones: the hidden --child, a --repeats >= 1 (when given),
    and resolve_common_options. Usage errors exit through parser.error."""
    parser.add_argument("--child", choices=known_peers, help=argparse.SUPPRESS)
    if baseline:  # for scripts whose Benchmark passes baseline_python on
        parser.add_argument("--baseline", metavar="PYTHON",
                            help=f"also time the bprop that this interpreter imports (an earlier build in another "
                                 f"environment) as peer '{BASELINE_PEER}', paired with this one round by round")
    args = parser.parse_args(argv)
    if getattr(args, "repeats", None) is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")
    resolve_common_options(parser, args, known_peers)
    return args


def parse_run_options(description, argv, known_peers, repeats_help, quick_help, json_help,
                      threads_help="comma list of thread counts (default 2)", threads_default="2"):
    """The options of a script run in rounds against bprop (bench_train, bench_conv, bench_rnn): --threads
    (default threads_default), --peers (default all), --repeats (default 3), --quick, --json and --baseline,
    through parse_options; the help texts are the script's."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default=threads_default, help=threads_help)
    parser.add_argument("--peers", default=",".join(known_peers),
                        help=f"comma list from {','.join(known_peers)} (default all)")
    parser.add_argument("--repeats", type=int, default=3, help=repeats_help)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", metavar="PATH", help=json_help)
    return parse_options(parser, argv, known_peers, baseline=True)


def resolve_common_options(parser, args, known_peers):
    """args.thread_counts, args.peer_list and, in a child, args.child_threads, or a usage error."""
    try:
        args.thread_counts = [int(t) for t in comma_list(args.threads)]
    except ValueError:
        parser.error(f"--threads: expected a comma list of integers; got {args.threads!r}")
    if not args.thread_counts or min(args.thread_counts) < 1:
        parser.error("--threads: every count must be >= 1")
    args.peer_list = comma_list(args.peers)
    if set(args.peer_list) - set(known_peers) or not args.peer_list:
        parser.error(f"--peers: choose from {','.join(known_peers)}; got {args.peers!r}")
    if getattr(args, "baseline", None):
        if not (os.path.isfile(args.baseline) and os.access(args.baseline, os.X_OK)):
            parser.error(f"--baseline: not an executable file: {args.baseline!r}")
        args.peer_list.append(BASELINE_PEER)
    if args.child:
        if len(args.thread_counts) != 1:
            parser.error("--child runs one thread count")
        args.child_threads = args.thread_counts[0]


def script_main(parse_args, child_main, parent_main, argv=None):
    """A benchmark script's entry point: the child's loop when started with --child, the parent's run else."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return child_main(args) if args.child else parent_main(args)
