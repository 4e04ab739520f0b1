"""bprop and PyTorch at 1 and 2 threads while other processes keep the cores busy.

What it measures
    Users train beside other work (a data loader, a notebook, a second job). This runs bprop and PyTorch,
    each at 1 and 2 threads, with 0, 1 and 2 competing busy processes (pure-Python spin loops started here,
    at normal priority, killed at the end of every turn and on any error), on bench_train.py's workloads:
      1. the MLP 784-512-256-10, ReLU, softmax cross-entropy, Adam lr 1e-3, batch 128, one epoch over
         12,800 synthetic samples (100 batches; bench_train.py's data, a fifth of its 60,000 so the slow
         cases under load stay bearable): samples/s;
      2. predict with the trained MLP at batch 1 and at batch 1024: samples/s.
    The ratios the targets need, each the median over rounds of a ratio paired within one round and one load:
      * bprop 2t / bprop 1t under the same load (target >= 0.8: a second thread must not cost much);
      * bprop 2t / torch 2t under the same load (target >= 1).

How it measures: in rounds (harness.py explains the design)
    One persistent child per (peer, thread count) imports its library, builds the data, trains its setup
    epochs and calibrates its loops once, on the quiet machine. In each of --repeats rounds every load level
    is set up in turn (its busy processes started and spinning before the first child computes), every
    child times every workload once under it, one child at a time in an order rotating by round, then the
    busy processes are killed. The loops keep the iteration counts calibrated without load, so a child that
    collapses under load takes proportionally longer. Rates are medians over rounds.

How to run it
    python benchmarks/bench_load.py                    # bprop and torch, 1 and 2 threads, loads 0, 1, 2
    python benchmarks/bench_load.py --quick            # smoke run: 1,280 samples, short loops, 2 rounds
    python benchmarks/bench_load.py --loads 0,1 --peers bprop --json out.json

A benchmark, never a timed test: it reports and never fails on a speed. Start it on an otherwise idle
machine: the only load should be the one it makes itself.
"""
import argparse
import contextlib
import datetime
import os
import signal
import statistics
import subprocess
import sys
import time

# The harness and bench_train sit next to this script: importable however it is started, with no install.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_train  # noqa: E402
import harness  # noqa: E402

PEERS = ("bprop", "torch")
LOADS = (0, 1, 2)
SIZES = {"full": {"samples": 12_800, "loop_seconds": 0.25, "repeats": 9},
         "quick": {"samples": 1_280, "loop_seconds": 0.03, "repeats": 2}}
# A busy process: a pure-Python loop that says it has started, then spins until its parent is gone (so an
# orphan never outlives a killed benchmark by more than one inner loop, ~20 ms).
SPIN_CODE = """import os, sys
parent = os.getppid()
sys.stdout.write("spinning\\n"); sys.stdout.flush()
while os.getppid() == parent:
    for _ in range(1_000_000):
        pass
"""
TARGET_OWN = 0.8  # bprop 2t / bprop 1t under the same load
TARGET_TORCH = 1.0  # bprop 2t / torch 2t under the same load


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2", help="comma list of thread counts (default 1,2)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma list from {','.join(PEERS)} (default all)")
    parser.add_argument("--loads", default=",".join(map(str, LOADS)),
                        help="comma list of competing busy process counts (default 0,1,2)")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"rounds (default {SIZES['full']['repeats']}, --quick {SIZES['quick']['repeats']})")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,280 samples, ~30 ms loops, 2 rounds")
    parser.add_argument("--json", metavar="PATH", help="also write machine info, medians, ratios and all round times")
    args = harness.parse_options(parser, argv, PEERS)
    try:
        args.load_list = [int(n) for n in harness.comma_list(args.loads)]
    except ValueError:
        parser.error(f"--loads: expected a comma list of integers; got {args.loads!r}")
    if not args.load_list or min(args.load_list) < 0:
        parser.error("--loads: every count must be >= 0")
    args.size = SIZES["quick" if args.quick else "full"]
    args.repeats = args.repeats or args.size["repeats"]
    return args


def workloads(args):
    """bench_train's MLP epoch (on fewer samples) and predict items, which its peers know how to run."""
    items = [item for item in bench_train.workloads(args.quick) if item["workload"] in ("mlp", "predict")]
    for item in items:
        if item["workload"] == "mlp":
            item.update(samples=args.size["samples"], work=args.size["samples"])
    return items


def load_benchmark(args):
    return harness.Benchmark(
        script=__file__, peers={peer: bench_train.PEER_LOADERS[peer] for peer in PEERS}, items=workloads(args),
        work=lambda item: item["work"], reference="bprop", items_key="workloads", rate_key="per_second",
        loop_seconds=args.size["loop_seconds"], child_arguments=["--quick"] if args.quick else [])


def child_main(args):
    # NumPy only builds the data: one OpenBLAS thread, so no idle pool spins.
    harness.set_thread_environment(args.child_threads, blas_threads=1)
    channel = harness.reply_channel()
    harness.serve_child(load_benchmark(args), channel, args.child, args.child_threads)
    return 0


# ---------------------------------------------------------------------------------------------------
# Parent: the competing load


@contextlib.contextmanager
def busy_processes(count):
    """count pure-Python spin loops, each spinning before this yields, all killed when it exits."""
    processes = []
    try:
        for _ in range(count):
            processes.append(subprocess.Popen([sys.executable, "-c", SPIN_CODE], stdin=subprocess.DEVNULL,
                                              stdout=subprocess.PIPE))
        for process in processes:
            if not process.stdout.readline():
                raise RuntimeError(f"a busy process died at start (exit code {process.wait()})")
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()
            process.stdout.close()


def load_label(count):
    return f"{count} busy"


def cpu_seconds():
    """(busy CPU seconds of the whole machine, of this process and its children) from /proc; None elsewhere.
    The children are the benchmark's own (timed children and busy processes); what remains is other work."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
        machine = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        own = 0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    with open(f"/proc/{entry}/stat") as handle:
                        stat = handle.read().rsplit(")", 1)[1].split()
                    if int(entry) == os.getpid() or int(stat[1]) == os.getpid():
                        own += int(stat[11]) + int(stat[12])  # utime, stime
        return machine / tick, own / tick
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def condition(count, foreign):
    """count busy processes while the children take their turns; appends to foreign[count] how many cores
    other processes kept busy meanwhile (their CPU seconds per second), which skews the figures."""
    with busy_processes(count):
        start, before = time.perf_counter(), cpu_seconds()
        yield
        after, elapsed = cpu_seconds(), time.perf_counter() - start
    if before and after and elapsed > 0:
        foreign.setdefault(count, []).append(max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / elapsed)


def conditions(args, foreign):
    return [(load_label(count), lambda count=count: condition(count, foreign)) for count in args.load_list]


# ---------------------------------------------------------------------------------------------------
# Parent: the report


def find(records, peer, threads, load):
    return next((r for r in records if r["peer"] == peer and r["threads"] == threads
                 and r["condition"] == load_label(load) and harness.succeeded(r)), None)


def paired_ratio(ours, theirs):
    """Median over rounds of theirs' time / ours' time (ours' rate / theirs' rate): > 1 means ours is faster."""
    if not ours or not theirs:
        return None
    ratios = [t / o for o, t in zip(ours["round_seconds_per_call"], theirs["round_seconds_per_call"])]
    return statistics.median(ratios) if ratios else None


def item(records, peer, threads, load, label):
    return harness.item_results(find(records, peer, threads, load), "workloads").get(label)


def ratio_cell(value, target):
    if value is None:
        return "-"
    return f"{value:.2f}" + (" ok" if value >= target else " MISS")


def load_table(args, records):
    members = [(peer, threads) for peer in args.peer_list for threads in args.thread_counts]
    columns = [("", "workload", "<"), ("", "load", "<")]
    columns += [("measured (samples/s)", f"{peer} {threads}t", ">") for peer, threads in members]
    ratios = [("bprop 2t / bprop 1t", ("bprop", 2), ("bprop", 1), TARGET_OWN),
              ("bprop 2t / torch 2t", ("bprop", 2), ("torch", 2), TARGET_TORCH),
              ("torch 2t / torch 1t", ("torch", 2), ("torch", 1), None)]
    ratios = [r for r in ratios if r[1] in members and r[2] in members]
    columns += [("paired ratios", title, ">") for title, *_ in ratios]
    rows = []
    for work in workloads(args):
        for load in args.load_list:
            cells = [work["label"], load_label(load)]
            for peer, threads in members:
                found = item(records, peer, threads, load, work["label"])
                cells.append(bench_train.rate_cell(found and found.get("per_second")))
            for _, (peer_a, threads_a), (peer_b, threads_b), target in ratios:
                value = paired_ratio(item(records, peer_a, threads_a, load, work["label"]),
                                     item(records, peer_b, threads_b, load, work["label"]))
                cells.append(ratio_cell(value, target) if target else ("-" if value is None else f"{value:.2f}"))
            rows.append(cells)
    return harness.format_table(columns, rows)


def header(args, records, load, started):
    size = args.size
    lines = [f"bprop under load: {args.repeats} rounds, started {started:%Y-%m-%d %H:%M}; MLP "
             f"{'-'.join(map(str, bench_train.MLP_SIZES))} Adam batch {bench_train.MLP_BATCH} epoch on "
             f"{size['samples']:,} samples, predict at batch {' and '.join(map(str, bench_train.PREDICT_BATCHES))}; "
             f"load = competing pure-Python spin loops ({', '.join(map(str, args.load_list))})"]
    if harness.machine_line(records):
        lines.append(harness.machine_line(records))
    for peer in args.peer_list:
        record = next((r for r in records if r["peer"] == peer), None)
        if record:
            lines.append(bench_train.peer_line(peer, record))
    lines.append(f"threads   {', '.join(map(str, args.thread_counts))} (set_num_threads, OMP/OPENBLAS/MKL_NUM_THREADS)")
    lines.append(harness.load_line(load) + "; the busy processes are this script's own")
    lines += [f"!! {warning}" for warning in harness.thread_mismatches(records)]
    lines.append(f"ratios: median over rounds of the per-round ratio of rates at the same load; targets: "
                 f"bprop 2t / bprop 1t >= {TARGET_OWN}, bprop 2t / torch 2t >= {TARGET_TORCH}")
    return "\n".join(lines)


def foreign_line(foreign):
    """How busy other processes kept the cores while the children were timed (the benchmark's own excluded)."""
    if not foreign:
        return "others    not measured (no /proc)"
    parts = [f"{load_label(count)}: median {statistics.median(v):.2f}, max {max(v):.2f}"
             for count, v in sorted(foreign.items())]
    return (f"others    cores kept busy by other processes while timing, per round ({'; '.join(parts)}); "
            f"anything above ~0.05 skews the figures")


def write_json(path, args, records, load, foreign):
    config = {"threads": args.thread_counts, "peers": args.peer_list, "loads": args.load_list,
              "repeats": args.repeats, "quick": args.quick, "samples": args.size["samples"]}
    reference = next((r for r in records if r["peer"] == "bprop" and harness.succeeded(r)), None)
    harness.write_json(
        path, config, load, records, cpu_info=reference["result"]["details"]["cpu_info"] if reference else None,
        foreign_cores_per_round={load_label(count): v for count, v in foreign.items()},
        method="one child per peer and thread count, set up without load; each round, for every load level "
               "(that many pure-Python spin loops) every child runs every workload once; per_second from the "
               "median over rounds")


def parent_main(args):
    # A SIGTERM unwinds like Ctrl-C, so the busy processes and children are killed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.datetime.now()
    members = [(peer, threads) for threads in args.thread_counts for peer in args.peer_list]
    foreign = {}
    records, load = harness.measure_load(lambda: harness.run_under_conditions(
        load_benchmark(args), members, conditions(args, foreign), args.repeats))
    print("\n".join(["", header(args, records, load, started), foreign_line(foreign), "",
                      load_table(args, records)]))
    if args.json:
        write_json(args.json, args, records, load, foreign)
    return harness.exit_status(records)


if __name__ == "__main__":
    sys.exit(harness.script_main(parse_args, child_main, parent_main))
