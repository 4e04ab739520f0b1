"""Autograd with bprop against PyTorch, in one run: per-op latency and a tensor-written MLP training step.

What it measures
    Each peer in its own child process, at the same thread count (harness.py: interleaved rounds).
      1. Per-op latency on small tensors (16 × 16 float32), where the framework's overhead is the cost:
           * "add, forward only": a + b with no tensor requiring grad;
           * "mul+sum, forward+backward": (a * b).sum().backward() on two leaves;
           * "tanh+sum, forward+backward": a.tanh().sum().backward();
           * "matmul+sum, forward+backward": (a @ b).sum().backward().
         Each call records its ops and runs the whole backward (engine, accumulation into .grad).
      2. A 2-layer MLP (784-256-10, ReLU, softmax cross-entropy, Adam lr 1e-3), 20 batches of 128 per
         call (2,560 synthetic samples, in order), one training step per batch:
           * "MLP steps, Module": nn.Linear layers in a Module, as the PyTorch tutorials write it
             (torch: nn.Module with nn.Linear);
           * "MLP steps, raw tensors": (x @ W1 + b1).relu() @ W2 + b2 on Parameters (torch: the same
             expression on leaf tensors);
           * "MLP steps, Sequential.fit" (bprop only): the same model through Sequential.fit, one C++
             call for the 20 steps: the reference the tensor-written steps are held to (target: within
             1.3×).
    Reported: µs per call for the ops, steps/s for the MLP; ratios > 1 mean bprop is faster. The
    tensor-written/Sequential.fit ratio is paired within each bprop round, like the peer ratios.

How to run it
    python benchmarks/bench_autograd.py                    # bprop and torch at 2 threads, 5 rounds
    python benchmarks/bench_autograd.py --threads 1 --json out.json

It is a benchmark, never a timed test: it reports and never fails on a speed.
"""
import argparse
import functools
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PEERS = ("bprop", "torch")
OP_SIZE = 16
MLP_SIZES = (784, 256, 10)
BATCH, BATCHES = 128, 20
ADAM_LR = 1e-3
DATA_SEED = 0
SEQUENTIAL_LABEL = "MLP steps, Sequential.fit"
ITEMS = [
    {"label": "add, forward only", "kind": "op", "op": "add", "work": 1},
    {"label": "mul+sum, forward+backward", "kind": "op", "op": "mul", "work": 1},
    {"label": "tanh+sum, forward+backward", "kind": "op", "op": "tanh", "work": 1},
    {"label": "matmul+sum, forward+backward", "kind": "op", "op": "matmul", "work": 1},
    {"label": "MLP steps, Module", "kind": "mlp", "style": "module", "work": BATCHES},
    {"label": "MLP steps, raw tensors", "kind": "mlp", "style": "raw", "work": BATCHES},
    {"label": SEQUENTIAL_LABEL, "kind": "mlp", "style": "sequential", "work": BATCHES},
]
TENSOR_WRITTEN = ("MLP steps, Module", "MLP steps, raw tensors")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="2", help="comma list of thread counts (default 2)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma list from {','.join(PEERS)}")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--json", metavar="PATH", help="also write every round's times and the ratios here")
    return harness.parse_options(parser, argv, PEERS)


def benchmark():
    return harness.Benchmark(script=__file__, peers=LOADERS, items=ITEMS, work=lambda item: item["work"],
                             reference="bprop", rate_key="per_second", loop_seconds=0.2)


def mlp_data(np):
    rng = np.random.default_rng(DATA_SEED)
    x = rng.standard_normal((BATCH * BATCHES, MLP_SIZES[0])).astype(np.float32)
    y = np.argmax(x @ rng.standard_normal((MLP_SIZES[0], MLP_SIZES[-1])), axis=1).astype(np.int64)
    return x, y


def glorot(np, rng, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


# ---------------------------------------------------------------------------------------------------
# Children: the items are written once; each loader supplies its library's pieces


def op_call(item, rng, leaf):
    """An op item's timed call. leaf(array) makes a float32 tensor that requires grad in the library."""
    a, b = leaf(rng.standard_normal((OP_SIZE, OP_SIZE))), leaf(rng.standard_normal((OP_SIZE, OP_SIZE)))
    if item["op"] == "add":
        a0, b0 = a.detach(), b.detach()
        return lambda: a0 + b0
    expression = {"mul": lambda: (a * b).sum(), "tanh": lambda: a.tanh().sum(),
                  "matmul": lambda: (a @ b).sum()}[item["op"]]
    return lambda: expression().backward()


def training_steps(batches, to_input, forward, cross_entropy, optimizer):
    """An MLP item's timed call: one step per (inputs, labels) batch, the loop as users write it (making
    the input tensor is part of the step)."""
    def run():
        for inputs, labels in batches:
            loss = cross_entropy(forward(to_input(inputs)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()
    return run


def raw_mlp(rng, np, parameter, zeros):
    """(forward, parameters) of the MLP written as tensor expressions on the library's leaves."""
    w1, b1 = parameter(glorot(np, rng, *MLP_SIZES[:2])), zeros(MLP_SIZES[1])
    w2, b2 = parameter(glorot(np, rng, *MLP_SIZES[1:])), zeros(MLP_SIZES[2])
    return (lambda t: (t @ w1 + b1).relu() @ w2 + b2), [w1, b1, w2, b2]


def bprop_loader(threads):
    import numpy as np

    import bprop
    from bprop import nn, optim

    bprop.set_num_threads(threads)
    bprop.manual_seed(0)
    details = {"version": bprop.__version__, "cpu_info": bprop.cpu_info(), "threads_seen": bprop.get_num_threads()}
    rng = np.random.default_rng(1)
    x, y = mlp_data(np)
    batches = [(x[s:s + BATCH], y[s:s + BATCH]) for s in range(0, len(x), BATCH)]

    class MLP(bprop.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(*MLP_SIZES[:2]), nn.Linear(*MLP_SIZES[1:])

        def forward(self, inputs):
            return self.fc2(self.fc1(inputs).relu())

    def steps(forward, parameters):
        return training_steps(batches, bprop.tensor, forward, nn.functional.cross_entropy,
                              optim.Adam(parameters, lr=ADAM_LR))

    def prepare(item):
        if item["kind"] == "op":
            return op_call(item, rng, lambda a: bprop.tensor(a, dtype="float32", requires_grad=True)), dict
        if item["style"] == "module":
            net = MLP()
            return steps(net, net.parameters()), dict
        if item["style"] == "raw":
            return steps(*raw_mlp(rng, np, bprop.Parameter, lambda n: bprop.Parameter(np.zeros(n, np.float32)))), dict
        model = bprop.Sequential([nn.Linear(*MLP_SIZES[:2]), nn.ReLU(), nn.Linear(*MLP_SIZES[1:])])
        model.compile(optim.Adam(lr=ADAM_LR), nn.CrossEntropy())
        return functools.partial(model.fit, x, y, epochs=1, batch_size=BATCH, shuffle=False, verbose=0), dict

    return prepare, details


def torch_loader(threads):
    import numpy as np
    import torch  # ImportError skips the peer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    details = {"version": torch.__version__, "threads_seen": torch.get_num_threads()}
    rng = np.random.default_rng(1)
    x, y = (torch.from_numpy(a) for a in mlp_data(np))  # shares the arrays: batches are views, as users slice
    batches = [(x[s:s + BATCH], y[s:s + BATCH]) for s in range(0, len(x), BATCH)]

    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(*MLP_SIZES[:2]), torch.nn.Linear(*MLP_SIZES[1:])

        def forward(self, inputs):
            return self.fc2(self.fc1(inputs).relu())

    def steps(forward, parameters):
        return training_steps(batches, lambda inputs: inputs, forward, torch.nn.functional.cross_entropy,
                              torch.optim.Adam(parameters, lr=ADAM_LR))

    def prepare(item):
        if item["kind"] == "op":
            return op_call(item, rng, lambda a: torch.tensor(a, dtype=torch.float32, requires_grad=True)), dict
        if item["style"] == "module":
            net = MLP()
            return steps(net, net.parameters()), dict
        if item["style"] == "raw":
            return steps(*raw_mlp(rng, np, lambda a: torch.tensor(a, requires_grad=True),
                                  lambda n: torch.zeros(n, requires_grad=True))), dict
        return (lambda: None), lambda: {"not_applicable": True}

    return prepare, details


LOADERS = {"bprop": bprop_loader, "torch": torch_loader}


def child_main(args):
    harness.set_thread_environment(args.child_threads, blas_threads=1)
    channel = harness.reply_channel()
    harness.serve_child(benchmark(), channel, args.child, args.child_threads)
    return 0


# ---------------------------------------------------------------------------------------------------
# Parent


def tensor_written_ratios(record):
    """{label: median over rounds of (tensor-written step time / Sequential.fit step time)}, paired."""
    items = harness.item_results(record, "items")
    reference = items[SEQUENTIAL_LABEL]["round_seconds_per_call"]
    return {label: statistics.median(t / s for t, s in zip(items[label]["round_seconds_per_call"], reference))
            for label in TENSOR_WRITTEN}


def report(args, records, load):
    lines = ["", f"bprop autograd benchmark: {args.repeats} rounds; ops on {OP_SIZE}x{OP_SIZE} float32; MLP "
                 f"{'-'.join(map(str, MLP_SIZES))}, {BATCHES} Adam steps of batch {BATCH} per call"]
    for peer in args.peer_list:
        record = next((r for r in records if r["peer"] == peer), None)
        if record and harness.succeeded(record):
            lines.append(f"{peer:<6} {record['result']['details']['version']}")
        elif record:
            lines.append(f"{peer:<6} {record.get('failed') or record['result'].get('skipped')}")
    lines.append(harness.load_line(load))
    for threads in args.thread_counts:
        peers = [p for p in args.peer_list if harness.find_record(records, p, threads)]
        results = {p: harness.item_results(harness.find_record(records, p, threads), "items") for p in peers}
        columns = [("", "item", "<")] + [("measured", p, ">") for p in peers]
        columns += [("ratio, > 1 = bprop faster", p, ">") for p in peers if p != "bprop"]
        rows = []
        for item in ITEMS:
            found = {p: results[p].get(item["label"]) for p in peers}
            op = item["kind"] == "op"
            unit = "µs/call" if op else "steps/s"

            def cell(r):
                if not r or r.get("not_applicable"):
                    return "n/a"
                return f"{r['median_seconds_per_call'] * 1e6:.2f}" if op else f"{r['per_second']:,.0f}"

            ratios = [("n/a" if not found[p] or found[p].get("not_applicable") or "paired_ratio" not in found[p]
                       else f"{found[p]['paired_ratio']:.2f}") for p in peers if p != "bprop"]
            rows.append([f"{item['label']} ({unit})"] + [cell(found[p]) for p in peers] + ratios)
        lines += ["", f"{threads} thread{'s' if threads != 1 else ''}", harness.format_table(columns, rows)]
        record = harness.find_record(records, "bprop", threads)
        if record:
            for label, ratio in tensor_written_ratios(record).items():
                lines.append(f"bprop {label} vs Sequential.fit: {ratio:.2f}x the time per step "
                             f"(target <= 1.3x; paired within rounds)")
    print("\n".join(lines))


def parent_main(args):
    records, load = harness.measure_load(lambda: harness.run_interleaved(
        benchmark(), args.peer_list, args.thread_counts, args.repeats))
    harness.drop_not_applicable(records, "items")  # torch has no Sequential.fit
    report(args, records, load)
    if args.json:
        ratios = {str(t): tensor_written_ratios(r) for t in args.thread_counts
                  for r in [harness.find_record(records, "bprop", t)] if r}
        harness.write_json(args.json, {"threads": args.thread_counts, "peers": args.peer_list,
                                       "repeats": args.repeats}, load, records,
                           method="interleaved rounds (harness.py); paired_ratio = median over rounds of peer "
                                  "time / bprop time; tensor_written_vs_sequential = median over rounds of the "
                                  "step time ratio within bprop's child",
                           tensor_written_vs_sequential=ratios)
    return harness.exit_status(records)


if __name__ == "__main__":
    sys.exit(harness.script_main(parse_args, child_main, parent_main))
