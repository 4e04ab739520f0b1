"""Inference from several Python threads on one shared model: bprop against PyTorch, in one run.

What it measures
    The MLP 784-512-256-10 (ReLU) of bench_train.py, untrained (the speed does not depend on the weights),
    one model per library shared by every Python thread of its child. Each item is predict at one batch size
    from P Python threads at once (P = 1 or 8), each thread calling predict in a loop on its own batch;
    samples/s over all threads. The library computes on --threads threads per call (default 1: the web-server
    setting, where the Python threads are the parallelism). The issue's target: bprop's predict from 8
    threads at 1 thread each reaches >= 1.6x its own 1-thread throughput on this 2-core machine, which needs
    the GIL released while the kernels run and no lock shared between inference calls.

How it measures
    harness.py's rounds: one persistent child per library, every item timed once per round in an order
    rotating by round; medians over rounds; the ratio column is each library's P-thread rate over its own
    1-thread rate at the same batch (per-round pairs, median). The threads are started once per item; in each
    timed run every thread calls predict back to back, enough calls for ~256 samples, as a server's threads do
    (a barrier after every single call would time the barrier: ~0.1 ms for 9 threads, three batch-1 calls).

How to run it
    python benchmarks/bench_predict_threads.py                 # 1 intra-op thread, 5 rounds
    python benchmarks/bench_predict_threads.py --quick         # a smoke run
    python benchmarks/bench_predict_threads.py --threads 2 --peers bprop

A benchmark, never a timed test: it reports and never fails on a speed.
"""
import argparse
import os
import statistics
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PEERS = ("bprop", "torch")
SIZES = (784, 512, 256, 10)
BATCHES = (1, 64, 1024)
PYTHON_THREADS = (1, 8)
SAMPLES_PER_RUN = 256  # per thread and timed run: calls = this // batch (at least 1)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1", help="threads each predict call computes on (default 1)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma list from {','.join(PEERS)}")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="smoke run: short loops")
    return harness.parse_options(parser, argv, PEERS)


def items():
    return [{"label": f"batch {batch}, {threads} Python thread{'s' if threads > 1 else ''}", "batch": batch,
             "python_threads": threads, "calls": max(1, SAMPLES_PER_RUN // batch)}
            for batch in BATCHES for threads in PYTHON_THREADS]


class ThreadTeam:
    """`count` persistent threads; run() has each call work(index) once, all at once, and returns when every
    thread is done. With one thread the caller does the work itself."""

    def __init__(self, count, work):
        self.count, self.work = count, work
        if count > 1:
            self.start, self.done = threading.Barrier(count + 1), threading.Barrier(count + 1)
            for i in range(count):
                threading.Thread(target=self._serve, args=(i,), daemon=True).start()

    def _serve(self, index):
        while True:
            self.start.wait()
            self.work(index)
            self.done.wait()

    def run(self):
        if self.count == 1:
            self.work(0)
            return
        self.start.wait()
        self.done.wait()


def make_predict(peer, threads):
    """(predict(x) on one shared model, details) for `peer` computing on `threads` threads per call."""
    if peer == "bprop":
        import bprop
        from bprop import nn

        bprop.set_num_threads(threads)
        bprop.manual_seed(0)
        layers = [layer for fan_in, fan_out in zip(SIZES, SIZES[1:]) for layer in (nn.Linear(fan_in, fan_out), nn.ReLU())]
        model = bprop.Sequential(layers[:-1])
        return (lambda x: model.predict(x, batch_size=len(x))), {"version": bprop.__version__,
                                                                "cpu_info": bprop.cpu_info()}
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = [layer for fan_in, fan_out in zip(SIZES, SIZES[1:])
              for layer in (torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU())]
    model = torch.nn.Sequential(*layers[:-1]).eval()

    def predict(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x)).numpy()

    return predict, {"version": torch.__version__, "threads_seen": torch.get_num_threads()}


def peer_loader(peer):
    def load(threads):
        import numpy as np

        predict, details = make_predict(peer, threads)
        rng = np.random.default_rng(0)

        def prepare(item):
            inputs = [rng.standard_normal((item["batch"], SIZES[0])).astype(np.float32)
                      for _ in range(item["python_threads"])]
            expected = [predict(x) for x in inputs]
            def calls(i):
                for _ in range(item["calls"]):
                    predict(inputs[i])

            team = ThreadTeam(item["python_threads"], calls)

            def check():  # after the timed calls: every thread still gets its own batch's answer
                wrong = []
                team.work = lambda i: None if np.array_equal(predict(inputs[i]), expected[i]) else wrong.append(i)
                team.run()
                team.work = calls  # the timed runs that follow
                return {"wrong_results": len(wrong)}

            return team.run, check

        return prepare, details

    return load


def predict_benchmark(args):
    return harness.Benchmark(
        script=__file__, peers={peer: peer_loader(peer) for peer in PEERS}, items=items(),
        work=lambda item: item["batch"] * item["python_threads"] * item["calls"], reference="bprop", items_key="items",
        rate_key="samples_per_second", loop_seconds=0.03 if args.quick else 0.3,
        child_arguments=["--quick"] if args.quick else [])


def child_main(args):
    harness.set_thread_environment(args.child_threads, blas_threads=1)
    channel = harness.reply_channel()
    harness.serve_child(predict_benchmark(args), channel, args.child, args.child_threads)
    return 0


def scaling(one, many, threads):
    """Median over rounds of (P-thread rate / 1-thread rate) within each round; None without both."""
    if not one or not many:
        return None
    return statistics.median(threads * o / m for o, m in zip(one["round_seconds_per_call"],
                                                              many["round_seconds_per_call"]))


def parent_main(args):
    benchmark = predict_benchmark(args)
    records, load = harness.measure_load(lambda: harness.run_interleaved(
        benchmark, args.peer_list, args.thread_counts, args.repeats))
    lines = [f"predict from Python threads on one shared MLP {'-'.join(map(str, SIZES))}: {args.repeats} rounds"]
    reference = next((r for r in records if r["peer"] == "bprop" and harness.succeeded(r)), None)
    if reference:
        info = reference["result"]["details"]["cpu_info"]
        lines.append(f"machine   {info['cpu']}: {info['cores']} cores, ISA {info['isa']}")
    lines.append(harness.load_line(load))
    for threads in args.thread_counts:
        peers = [p for p in args.peer_list if harness.find_record(records, p, threads)]
        columns = [("", "workload", "<")] + [("samples/s", p, ">") for p in peers]
        columns += [("vs 1 Python thread", p, ">") for p in peers]
        columns += [("wrong results", p, ">") for p in peers]
        results = {p: harness.item_results(harness.find_record(records, p, threads), "items") for p in peers}
        rows = []
        for item in items():
            one_label = next(i["label"] for i in items() if i["batch"] == item["batch"] and i["python_threads"] == 1)
            found = {p: results[p].get(item["label"]) for p in peers}
            ratios = {p: scaling(results[p].get(one_label), found[p], item["python_threads"]) for p in peers}
            rows.append([item["label"]]
                        + ["-" if not found[p] else f"{found[p]['samples_per_second']:,.0f}" for p in peers]
                        + ["-" if ratios[p] is None else f"{ratios[p]:.2f}" for p in peers]
                        + ["-" if not found[p] else str(found[p].get("wrong_results", "-")) for p in peers])
        lines += ["", f"{threads} compute thread{'s' if threads > 1 else ''} per call",
                  harness.format_table(columns, rows)]
    print("\n".join(lines))
    return harness.exit_status(records)


if __name__ == "__main__":
    sys.exit(harness.script_main(parse_args, child_main, parent_main))
