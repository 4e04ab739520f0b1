"""Recurrent networks with bprop against PyTorch (and JAX when installed), in one run.

What it measures
    Each peer in its own child process, at the same thread count (harness.py: interleaved rounds, medians,
    ratios paired within rounds; > 1 means bprop is faster).
      1. "LSTM train": LSTM(64 → 128), sequences of 32 steps, batch 32, the final state → Linear(10) →
         cross-entropy, Adam lr 1e-3: training sequences/s over 1,024 sequences per call (32 steps).
         bprop: Sequential.fit (one C++ call for the 32 steps, BPTT inside); torch: an nn.Module trained by a
         plain loop (zero_grad, backward, step) over the same batches; jax: a jitted step (lax.scan over the
         steps of a hand-written LSTM, PyTorch's equations) called per batch, buffers donated.
      2. "GRU train": the same with a GRU.
      3. "char LSTM train": Embedding(64 → 64) → 2-layer LSTM(256) with every step's output → Linear(64) per
         step, cross-entropy on the next character at every step, sequences of 64, batch 32, Adam: training
         sequences/s over 256 sequences per call (8 steps). (torch and bprop only.)
      4. "LSTM predict b1" / "b64": the model of 1 in evaluation mode, one call per batch of 1 or 64
         sequences: sequences/s.
    The data are random (standard normal sequences, uniform labels and characters): a speed benchmark; the
    losses are not compared.

Targets (issue 14): at 2 threads LSTM and GRU training ≥ 2× PyTorch and ≥ 1.3× JAX; at 1 thread ≥ 1.5× PyTorch.

How to run it
    python benchmarks/bench_rnn.py                       # bprop, torch, jax at 1 and 2 threads, 3 rounds
    python benchmarks/bench_rnn.py --threads 1 --peers bprop,torch --json out.json

It is a benchmark, never a timed test: it reports and never fails on a speed.
"""
import argparse
import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PEERS = ("bprop", "torch", "jax")
INPUT, HIDDEN, STEPS, BATCH, CLASSES, SEQUENCES = 64, 128, 32, 32, 10, 1024
CHARS, EMBED, CHAR_HIDDEN, CHAR_STEPS, CHAR_SEQUENCES = 64, 64, 256, 64, 256
ADAM_LR = 1e-3
ITEMS = [
    {"label": "LSTM train", "kind": "train", "cell": "LSTM", "work": SEQUENCES},
    {"label": "GRU train", "kind": "train", "cell": "GRU", "work": SEQUENCES},
    {"label": "char LSTM train", "kind": "char", "cell": "LSTM", "work": CHAR_SEQUENCES},
    {"label": "LSTM predict b1", "kind": "predict", "cell": "LSTM", "batch": 1, "work": 1},
    {"label": "LSTM predict b64", "kind": "predict", "cell": "LSTM", "batch": 64, "work": 64},
]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2", help="comma list of thread counts (default 1,2)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma list from {','.join(PEERS)}")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--json", metavar="PATH", help="also write every round's times and the ratios here")
    return harness.parse_options(parser, argv, PEERS)


def benchmark():
    return harness.Benchmark(script=__file__, peers=LOADERS, items=ITEMS, work=lambda item: item["work"],
                             reference="bprop", rate_key="per_second", loop_seconds=0.5)


def data(np):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SEQUENCES, STEPS, INPUT)).astype(np.float32)
    y = rng.integers(0, CLASSES, SEQUENCES)
    text = rng.integers(0, CHARS, (CHAR_SEQUENCES, CHAR_STEPS + 1))
    return x, y, text[:, :-1], text[:, 1:]  # characters in, the next ones out


def bprop_loader(threads):
    import numpy as np

    import bprop
    from bprop import nn, optim

    bprop.set_num_threads(threads)
    details = harness.bprop_details(bprop, threads)
    x, y, chars, targets = data(np)

    def model_for(cell):
        model = bprop.Sequential([getattr(nn, cell)(INPUT, HIDDEN, seed=1), nn.Linear(HIDDEN, CLASSES, seed=2)])
        model.compile(optim.Adam(lr=ADAM_LR), nn.CrossEntropy())
        return model

    def prepare(item):
        if item["kind"] == "train":
            model = model_for(item["cell"])
            return functools.partial(model.fit, x, y, epochs=1, batch_size=BATCH, verbose=0), dict
        if item["kind"] == "char":
            model = bprop.Sequential([nn.Embedding(CHARS, EMBED, seed=1),
                                      nn.LSTM(EMBED, CHAR_HIDDEN, num_layers=2, return_sequences=True, seed=2),
                                      nn.Linear(CHAR_HIDDEN, CHARS, seed=3)])
            model.compile(optim.Adam(lr=ADAM_LR), nn.CrossEntropy())
            return functools.partial(model.fit, chars, targets, epochs=1, batch_size=BATCH, verbose=0), dict
        model = model_for(item["cell"])
        batch = x[:item["batch"]]
        return functools.partial(model.predict, batch, batch_size=item["batch"]), dict

    return prepare, details


def torch_loader(threads):
    import numpy as np
    import torch  # ImportError skips the peer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    details = {"version": torch.__version__, "threads_seen": torch.get_num_threads()}
    x, y, chars, targets = (torch.from_numpy(a) for a in data(np))

    class LastState(torch.nn.Module):
        def __init__(self, cell):
            super().__init__()
            self.rnn = getattr(torch.nn, cell)(INPUT, HIDDEN, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, CLASSES)

        def forward(self, inputs):
            _, state = self.rnn(inputs)
            return self.head((state[0] if isinstance(state, tuple) else state)[-1])

    class CharModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(CHARS, EMBED)
            self.rnn = torch.nn.LSTM(EMBED, CHAR_HIDDEN, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(CHAR_HIDDEN, CHARS)

        def forward(self, inputs):
            return self.head(self.rnn(self.embed(inputs))[0])

    def epoch(model, inputs, labels):
        optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LR)

        def run():
            order = torch.randperm(len(inputs))
            for start in range(0, len(inputs), BATCH):
                index = order[start:start + BATCH]
                out = model(inputs[index])
                loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), labels[index].reshape(-1))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            return loss.item()
        return run

    def prepare(item):
        if item["kind"] == "train":
            return epoch(LastState(item["cell"]), x, y), dict
        if item["kind"] == "char":
            return epoch(CharModel(), chars, targets), dict
        model = LastState(item["cell"]).eval()
        batch = x[:item["batch"]]

        def predict():
            with torch.inference_mode():
                return model(batch)
        return predict, dict

    return prepare, details


def jax_loader(threads):
    import numpy as np
    import jax  # ImportError skips the peer
    import jax.numpy as jnp

    harness.confine_to_cpus(threads)
    details = {"version": jax.__version__}
    x, y, _, _ = data(np)
    rng = np.random.default_rng(1)

    def init(cell):
        gates = 4 if cell == "LSTM" else 3
        bound = 1 / np.sqrt(HIDDEN)
        draw = lambda *shape: jnp.asarray(rng.uniform(-bound, bound, shape).astype(np.float32))  # noqa: E731
        return {"w_ih": draw(gates * HIDDEN, INPUT), "w_hh": draw(gates * HIDDEN, HIDDEN),
                "b_ih": draw(gates * HIDDEN), "b_hh": draw(gates * HIDDEN),
                "w": draw(CLASSES, HIDDEN), "b": draw(CLASSES)}

    def final_state(p, inputs, cell):  # PyTorch's equations, one lax.scan over the steps
        projected = jnp.einsum("bti,gi->tbg", inputs, p["w_ih"]) + p["b_ih"]
        h = jnp.zeros((inputs.shape[0], HIDDEN), jnp.float32)

        def lstm(carry, xp):
            h, c = carry
            i, f, g, o = jnp.split(xp + h @ p["w_hh"].T + p["b_hh"], 4, axis=1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None

        def gru(h, xp):
            hr, hz, hn = jnp.split(h @ p["w_hh"].T + p["b_hh"], 3, axis=1)
            xr, xz, xn = jnp.split(xp, 3, axis=1)
            r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
            n = jnp.tanh(xn + r * hn)
            return (1 - z) * n + z * h, None

        if cell == "LSTM":
            (h, _), _ = jax.lax.scan(lstm, (h, h), projected)
        else:
            h, _ = jax.lax.scan(gru, h, projected)
        return h @ p["w"].T + p["b"]

    def loss_fn(p, inputs, labels, cell):
        logits = final_state(p, inputs, cell)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))

    def prepare(item):
        cell = item["cell"]
        if item["kind"] == "char":
            return (lambda: None), lambda: {"not_applicable": True}
        params = init(cell)
        if item["kind"] == "predict":
            forward = jax.jit(functools.partial(final_state, cell=cell))
            batch = jnp.asarray(x[:item["batch"]])
            return (lambda: forward(params, batch).block_until_ready()), dict
        state = {"p": params, "m": jax.tree.map(jnp.zeros_like, params), "v": jax.tree.map(jnp.zeros_like, params),
                 "t": jnp.zeros((), jnp.float32)}

        @functools.partial(jax.jit, donate_argnums=0)
        def step(state, inputs, labels):
            grads = jax.grad(loss_fn)(state["p"], inputs, labels, cell)
            t = state["t"] + 1
            m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, state["m"], grads)
            v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, state["v"], grads)
            p = jax.tree.map(lambda p, m, v: p - ADAM_LR * (m / (1 - 0.9 ** t)) / (jnp.sqrt(v / (1 - 0.999 ** t)) + 1e-8),
                             state["p"], m, v)
            return {"p": p, "m": m, "v": v, "t": t}

        batches = [(jnp.asarray(x[s:s + BATCH]), jnp.asarray(y[s:s + BATCH])) for s in range(0, SEQUENCES, BATCH)]

        def run():
            for inputs, labels in batches:
                state.update(step(dict(state), inputs, labels))
            jax.block_until_ready(state["p"])
        return run, dict

    return prepare, details


LOADERS = {"bprop": bprop_loader, "torch": torch_loader, "jax": jax_loader}


def child_main(args):
    harness.set_thread_environment(args.child_threads, blas_threads=1)
    channel = harness.reply_channel()
    harness.serve_child(benchmark(), channel, args.child, args.child_threads)
    return 0


# ---------------------------------------------------------------------------------------------------
# Parent


def report(args, records, load):
    lines = ["", f"bprop recurrent benchmark: {args.repeats} rounds; LSTM/GRU {INPUT}→{HIDDEN}, {STEPS} steps, batch "
                 f"{BATCH}; char model Embedding {CHARS}×{EMBED} → 2×LSTM {CHAR_HIDDEN} → Linear, {CHAR_STEPS} steps"]
    for peer in args.peer_list:
        record = next((r for r in records if r["peer"] == peer), None)
        if record and harness.succeeded(record):
            lines.append(f"{peer:<6} {record['result']['details']['version']}")
        elif record:
            lines.append(f"{peer:<6} {record.get('failed') or record['result'].get('skipped')}")
    lines.append(harness.load_line(load))
    for threads in args.thread_counts:
        peers = [p for p in args.peer_list if harness.find_record(records, p, threads)
                 and harness.succeeded(harness.find_record(records, p, threads))]
        results = {p: harness.item_results(harness.find_record(records, p, threads), "items") for p in peers}
        columns = [("", "item (sequences/s)", "<")] + [("measured", p, ">") for p in peers]
        columns += [("ratio, > 1 = bprop faster", p, ">") for p in peers if p != "bprop"]
        rows = []
        for item in ITEMS:
            found = {p: results[p].get(item["label"]) for p in peers}

            def cell(r):
                return "n/a" if not r or r.get("not_applicable") else f"{r['per_second']:,.0f}"

            ratios = [("n/a" if not found[p] or found[p].get("not_applicable") or "paired_ratio" not in found[p]
                       else f"{found[p]['paired_ratio']:.2f}") for p in peers if p != "bprop"]
            rows.append([item["label"]] + [cell(found[p]) for p in peers] + ratios)
        lines += ["", f"{threads} thread{'s' if threads != 1 else ''}", harness.format_table(columns, rows)]
    print("\n".join(lines))


def parent_main(args):
    records, load = harness.measure_load(lambda: harness.run_interleaved(
        benchmark(), args.peer_list, args.thread_counts, args.repeats))
    harness.drop_not_applicable(records, "items")
    report(args, records, load)
    if args.json:
        harness.write_json(args.json, {"threads": args.thread_counts, "peers": args.peer_list,
                                       "repeats": args.repeats}, load, records,
                           method="interleaved rounds (harness.py); paired_ratio = median over rounds of peer "
                                  "time / bprop time")
    return harness.exit_status(records)


if __name__ == "__main__":
    sys.exit(harness.script_main(parse_args, child_main, parent_main))
