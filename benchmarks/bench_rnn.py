"""Recurrent networks with bprop against PyTorch and JAX, in one run.

What it measures
    Each peer in its own child process, at the same thread count:
      * bprop: Sequential.fit (one C++ call per epoch) and Sequential.predict, as users train, with
        nn.LSTM / nn.GRU (samples (time, features); the last layer's final hidden state, or every step with
        return_sequences=True). Skipped, saying so, by a bprop build without the recurrent layers;
      * torch: eager PyTorch: an nn.Module of torch.nn.LSTM/GRU (batch_first) and torch.nn.Linear, trained by
        a plain loop (zero_grad, loss.backward, Adam step) over shuffled index batches; predict in eval mode
        under inference_mode;
      * jax: a jax.jit-compiled step (the LSTM and GRU cells written out with PyTorch's equations and gate
        order, the input projection of all steps in one matmul, the recurrence in jax.lax.scan; jax.grad;
        Adam written out; buffers donated) called per shuffled batch; predict a jitted forward. Below the
        machine's core count the child is confined to that many CPUs (XLA has no thread setting that holds).
        Optional: skipped when jax is not installed.
    Every network is one description (NETWORKS) that each peer builds in its own library, so the peers run
    the same network, and the flop counts come from the same description.
    The workloads, all float32, Adam lr 1e-3, batch 32:
      1. LSTM: input 64, hidden 128, sequence 32; the last step's hidden state → Linear 10 → cross-entropy:
         training sequences/s over an epoch of 2,048 sequences (256 with --quick);
      2. GRU: the same with a GRU;
      3. char LSTM: Embedding(96, 64) → 2-layer LSTM(64, 256) on every step → Linear(256, 96) with a
         cross-entropy per position (next-token prediction), sequence 64: training sequences/s over an epoch of
         512 sequences (64 with --quick);
      4. inference of the trained LSTM of 1 at batch 1 and batch 64: sequences/s.
    The data, the same for every peer. LSTM and GRU: y uniform over 10 classes; x standard normal noise plus
    0.5 × a fixed random pattern of the sample's class at every step (learnt in a few dozen steps, so the check
    tells a working peer from a broken one). Char model: sequences of a Markov chain over 96 tokens in which
    each token is followed by one of 4 fixed successors (drawn uniformly, with repeats), the targets the next
    tokens: its per-position accuracy ranges from chance (~0.01) to the chain's best possible (≈0.3).
    Every peer's result is checked loosely: training accuracy after the setup epochs, as predict gives it, on
    (up to) the first 1,024 sequences (per position for the char model), beside the best possible. A peer
    that is fast because it is wrong shows.
    The % of peak columns: GEMM flops (per step 2·batch·(in + hidden)·gates·hidden per layer, gates 4 for the
    LSTM and 3 for the GRU, and the Linear layers; training counts forward, dW and dX but the first layer's
    dX where its input is data: the char model's embedding needs it) per second over the float32 FMA peak that
    bprop._core.fma_peak_gflops measures now in bprop's child at that thread count (the peak bench_gemm.py
    reports; not measured when bprop did not run). Gates, activations, the loss and the update are real time
    but not GEMM work.
    Each library initialises the weights its own way (bprop: its layers' defaults; torch: its defaults; jax:
    PyTorch's ±1/√hidden and N(0, 1) embeddings, drawn in NumPy), which changes how fast the nets learn, not
    the work per step.
    Issue 14's targets, reported below the tables: at 2 threads LSTM and GRU training ≥ 2× PyTorch and ≥ 1.3×
    JAX; at 1 thread ≥ 1.5× PyTorch.

How it measures: in rounds, because the machine drifts (harness.py explains the design)
    One persistent child per (peer, thread count) imports its library, builds the data, trains each network
    (two setup epochs: warm-up and calibration) and calibrates its loops once. In each of --repeats rounds
    every child runs every workload once (one epoch of each network; a loop of ~0.25 s of each predict call),
    one child at a time, in an order rotating by round. Rates are medians over rounds; ratios are medians of
    the per-round ratios, paired within a round so drift cancels. The networks keep training from round to
    round.

How to run it
    python benchmarks/bench_rnn.py                              # every peer at 1 and 2 threads, 3 rounds
    python benchmarks/bench_rnn.py --threads 2                  # one thread count
    python benchmarks/bench_rnn.py --quick --repeats 1          # smoke run: short epochs, ~30 ms loops
    python benchmarks/bench_rnn.py --peers torch,jax --quick    # the peers alone (a bprop without LSTM)
    python benchmarks/bench_rnn.py --peers bprop,torch --json out.json
    python benchmarks/bench_rnn.py --peers bprop --baseline ../old-env/bin/python --repeats 15  # A/B a change

It is a benchmark, never a timed test: it reports and never fails on a speed, and no test may assert on
what it prints. Its figures mean something on a quiet machine only; the paired ratios hold up best.
"""
import functools
import math
import os
import sys

# The harness sits next to this script: importable however the script is started, with no install.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PEERS = ("bprop", "torch", "jax")
BATCH = 32
LR = 1e-3
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # the defaults of all three
PREDICT_BATCHES = (1, 64)
SIZES = {"full": {"samples": 2_048, "char_samples": 512, "loop_seconds": 0.25},
         "quick": {"samples": 256, "char_samples": 64, "loop_seconds": 0.03}}
DATA_SEED = 0
CHECK_SAMPLES = 1_024  # training accuracy on at most this many of the training sequences
PATTERN_AMPLITUDE = 0.5  # of the class patterns added to the noise of the classifiers' sequences
SUCCESSORS = 4  # each token of the char model's Markov chain is followed by one of this many
GATES = {"lstm": 4, "gru": 3}
# Issue 14's targets: {threads: {workload label: {peer: the paired ratio bprop must reach}}}.
TARGETS = {1: {"LSTM training": {"torch": 1.5}, "GRU training": {"torch": 1.5}},
           2: {"LSTM training": {"torch": 2.0, "jax": 1.3}, "GRU training": {"torch": 2.0, "jax": 1.3}}}
RATIO_NOTE = """ratios: the median over rounds of (peer time / bprop time) within each round, paired so drift
        cancels: > 1 means bprop is faster. Rates are medians over rounds. % of peak: GEMM GFLOP/s over
        the FMA peak bprop measured in its child at that thread count."""

# ---------------------------------------------------------------------------------------------------
# The networks, as data every peer builds in its own library: an optional Embedding(vocab, input), a
# `layers`-layer LSTM or GRU(input, hidden), then Linear(hidden, classes) on the last step ("last") or on
# every step ("sequence", with a label per position).

NETWORKS = {
    "lstm": {"name": "LSTM", "cell": "lstm", "input": 64, "hidden": 128, "layers": 1, "time": 32, "classes": 10,
             "head": "last"},
    "gru": {"name": "GRU", "cell": "gru", "input": 64, "hidden": 128, "layers": 1, "time": 32, "classes": 10,
            "head": "last"},
    "char": {"name": "char LSTM", "cell": "lstm", "vocab": 96, "input": 64, "hidden": 256, "layers": 2, "time": 64,
             "classes": 96, "head": "sequence"},
}


# ---------------------------------------------------------------------------------------------------
# Flop counts, from the descriptions


def network_flops(network):
    """(forward, training) GEMM flops per sequence: per step and layer the input projection 2·in·gates·hidden
    and the recurrent one 2·hidden·gates·hidden, then the Linear on one step or on every step; training =
    forward + dW of every GEMM + dX of all but the first layer's input projection when that input is data
    (with an Embedding first, its gradient needs that dX too)."""
    info = NETWORKS[network]
    gates, hidden, time = GATES[info["cell"]], info["hidden"], info["time"]
    forward, size, first_input = 0, info["input"], 0
    for layer in range(info["layers"]):
        projection = 2 * size * gates * hidden * time
        first_input = first_input or projection
        forward += projection + 2 * hidden * gates * hidden * time
        size = hidden
    forward += 2 * hidden * info["classes"] * (time if info["head"] == "sequence" else 1)
    return forward, 3 * forward - (0 if "vocab" in info else first_input)


# ---------------------------------------------------------------------------------------------------
# Command line and items


def parse_args(argv):
    return harness.parse_run_options(
        __doc__.split("\n\n")[0], argv, PEERS,
        repeats_help="rounds: timed runs of every workload per peer (default 3; an epoch takes seconds)",
        quick_help="smoke run: 256 LSTM/GRU and 64 char-model sequences per epoch, ~30 ms predict loops",
        json_help="also write machine info, medians, ratios and all round times",
        threads_help="comma list of thread counts (default 1,2: issue 14's targets are at both)",
        threads_default="1,2")


def workloads(quick):
    """The harness's items, in the order every child sets them up: each network's training epoch, then the
    predict calls (on the LSTM that the first epoch trained)."""
    size = SIZES["quick" if quick else "full"]
    items = [{"label": f"{NETWORKS[network]['name']} training", "workload": "train", "network": network,
              "samples": size[key], "work": size[key], "unit": "sequences/s"}
             for network, key in (("lstm", "samples"), ("gru", "samples"), ("char", "char_samples"))]
    items += [{"label": f"LSTM predict batch {batch}", "workload": "predict", "network": "lstm", "batch": batch,
               "work": batch, "unit": "sequences/s"} for batch in PREDICT_BATCHES]
    return items


def rnn_benchmark(args):
    return harness.workload_benchmark(__file__, PEER_LOADERS, workloads(args.quick), args,
                                      SIZES["quick" if args.quick else "full"]["loop_seconds"])


def item_gemm_flops(item):
    """GEMM flops of one call of an item, for its % of the FMA peak."""
    forward, training = network_flops(item["network"])
    return (training if item["workload"] == "train" else forward) * item["work"]


# ---------------------------------------------------------------------------------------------------
# Children: data, shared by every peer


def make_sequences(np, network, samples):
    """(x, y, best): the same for every peer. Classifiers: y (int64) uniform over the classes, x (float32)
    standard normal noise + PATTERN_AMPLITUDE × the class's pattern at every step. Char model: x (int64) and
    y (int64, x shifted by one) from a Markov chain with SUCCESSORS fixed successors per token; best is the
    most likely successor of each token (what the best possible model predicts), None for the classifiers."""
    info = NETWORKS[network]
    rng = np.random.default_rng(DATA_SEED)
    time = info["time"]
    if "vocab" not in info:
        patterns = rng.standard_normal((info["classes"], info["input"]), dtype=np.float32)
        y = rng.integers(0, info["classes"], samples)
        x = rng.standard_normal((samples, time, info["input"]), dtype=np.float32)
        x += PATTERN_AMPLITUDE * patterns[y][:, None, :]
        return x, y.astype(np.int64), None
    vocab = info["vocab"]
    successors = rng.integers(0, vocab, (vocab, SUCCESSORS))
    tokens = np.empty((samples, time + 1), np.int64)
    tokens[:, 0] = rng.integers(0, vocab, samples)
    choices = rng.integers(0, SUCCESSORS, (samples, time))
    for t in range(time):
        tokens[:, t + 1] = successors[tokens[:, t], choices[:, t]]
    best = np.array([np.bincount(row, minlength=vocab).argmax() for row in successors])
    return tokens[:, :-1].copy(), tokens[:, 1:].copy(), best


# ---------------------------------------------------------------------------------------------------
# Children: the peers. Each has details, train(network, x, y) -> one epoch's call, and predict(network, x) ->
# logits as predict gives them (eval mode): (n, classes), or (n, time, classes) for the char model.


class BpropPeer:
    def __init__(self, threads, np):
        import bprop
        from bprop import nn, optim

        missing = [name for name in ("LSTM", "GRU") if not hasattr(nn, name)]
        if missing:  # the harness reports an ImportError as a skip, with this message
            raise ImportError(f"bprop {bprop.__version__} has no nn.{' or nn.'.join(missing)} (a build without "
                              "the recurrent layers of issue 14)")
        self.bprop, self.nn, self.optim, self.np = bprop, nn, optim, np
        bprop.set_num_threads(threads)
        bprop.manual_seed(0)
        self.details = harness.bprop_details(bprop, threads)
        self.models = {}

    def layers(self, info):
        nn = self.nn
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[info["cell"]]
        layers = [nn.Embedding(info["vocab"], info["input"])] if "vocab" in info else []
        return layers + [rnn(info["input"], info["hidden"], num_layers=info["layers"],
                             return_sequences=info["head"] == "sequence"),
                         nn.Linear(info["hidden"], info["classes"])]

    def train(self, network, x, y):
        model = self.models[network] = self.bprop.Sequential(self.layers(NETWORKS[network]))
        model.compile(optimizer=self.optim.Adam(lr=LR), loss=self.nn.CrossEntropy())
        return functools.partial(model.fit, x, y, epochs=1, batch_size=BATCH, shuffle=True, seed=0, verbose=0)

    def predict(self, network, x):
        return self.models[network].predict(x, batch_size=len(x))


class TorchPeer:
    """Eager PyTorch as its tutorials write it: an nn.Module of nn.LSTM/GRU (batch_first), Adam, a plain loop."""

    def __init__(self, threads, np):
        import torch  # ImportError is the harness's "skip torch"

        self.torch, self.np = torch, np
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.details = {"version": torch.__version__, "threads_seen": torch.get_num_threads(),
                        "mkldnn": torch.backends.mkldnn.is_available()}
        self.Network = torch_network_class(torch)
        self.models = {}

    def train(self, network, x, y):
        torch = self.torch
        info = NETWORKS[network]
        model = self.models[network] = self.Network(info)
        optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=ADAM_BETAS, eps=ADAM_EPS)
        loss_fn = torch.nn.CrossEntropyLoss()
        x_all, y_all = torch.from_numpy(x), torch.from_numpy(y)  # shares the arrays: no copy
        rng = self.np.random.default_rng(DATA_SEED)

        def epoch():
            model.train()
            for index in harness.shuffled_batches(rng, len(x), BATCH):
                index = torch.from_numpy(index)
                optimizer.zero_grad()
                logits = model(x_all[index])
                loss = loss_fn(logits.reshape(-1, info["classes"]), y_all[index].reshape(-1))
                loss.backward()
                optimizer.step()

        return epoch

    def predict(self, network, x):
        model = self.models[network]
        model.eval()
        with self.torch.inference_mode():
            return model(self.torch.from_numpy(x)).numpy()


def torch_network_class(torch):
    """The network as an nn.Module class (made once torch is imported: the module needs torch)."""

    class Network(torch.nn.Module):
        """[Embedding →] LSTM/GRU (batch_first) → Linear on the last step, or on every step."""

        def __init__(self, info):
            super().__init__()
            self.embedding = torch.nn.Embedding(info["vocab"], info["input"]) if "vocab" in info else None
            rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[info["cell"]]
            self.rnn = rnn(info["input"], info["hidden"], num_layers=info["layers"], batch_first=True)
            self.linear = torch.nn.Linear(info["hidden"], info["classes"])
            self.every_step = info["head"] == "sequence"

        def forward(self, x):
            if self.embedding is not None:
                x = self.embedding(x)
            out, _ = self.rnn(x)
            return self.linear(out if self.every_step else out[:, -1])

    return Network


class JaxNet:
    """A network description as JAX functions: init (parameters as PyTorch initialises them, drawn in NumPy)
    and apply(params, x) -> logits. The cells are PyTorch's: LSTM gates i, f, g, o; GRU gates r, z, n with
    n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)). The input projection of every step is one matmul before the
    scan (as PyTorch and cuDNN do), the recurrence a jax.lax.scan over time."""

    def __init__(self, jax, info):
        self.jax, self.jnp, self.info = jax, jax.numpy, info

    def init(self, np, rng):
        """{"embedding"?, "layers": [(w_ih (in, gates·hidden), w_hh (hidden, gates·hidden), b_ih, b_hh)],
        "linear": (w, b)}: uniform ±1/√hidden as PyTorch's RNNs and Linear(hidden, ·), N(0, 1) embeddings."""
        info = self.info
        hidden, width = info["hidden"], GATES[info["cell"]] * info["hidden"]
        bound = 1 / math.sqrt(hidden)

        def uniform(*shape):
            return rng.uniform(-bound, bound, shape).astype(np.float32)

        params = {"layers": [], "linear": (uniform(hidden, info["classes"]), uniform(info["classes"]))}
        if "vocab" in info:
            params["embedding"] = rng.standard_normal((info["vocab"], info["input"]), dtype=np.float32)
        size = info["input"]
        for _ in range(info["layers"]):
            params["layers"].append((uniform(size, width), uniform(hidden, width), uniform(width), uniform(width)))
            size = hidden
        return params

    def apply(self, params, x):
        info = self.info
        if "vocab" in info:
            x = params["embedding"][x]
        last = len(params["layers"]) - 1
        for index, layer in enumerate(params["layers"]):
            x = self.layer(layer, x, every_step=index < last or info["head"] == "sequence")
        w, b = params["linear"]
        return x @ w + b

    def layer(self, weights, x, every_step):
        """One recurrent layer over x (batch, time, in): (batch, time, hidden), or the last state (batch, hidden)."""
        jax, jnp = self.jax, self.jnp
        w_ih, w_hh, b_ih, b_hh = weights
        inputs = jnp.swapaxes(x @ w_ih + b_ih, 0, 1)  # (time, batch, gates·hidden): every step's projection
        h = jnp.zeros((x.shape[0], w_hh.shape[0]), x.dtype)
        if self.info["cell"] == "lstm":
            def step(carry, gates_in):
                h, c = carry
                i, f, g, o = jnp.split(gates_in + h @ w_hh + b_hh, 4, axis=-1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h, c), h if every_step else None

            (h, _), hs = jax.lax.scan(step, (h, h), inputs)
        else:
            def step(h, gates_in):
                x_r, x_z, x_n = jnp.split(gates_in, 3, axis=-1)
                h_r, h_z, h_n = jnp.split(h @ w_hh + b_hh, 3, axis=-1)
                r, z = jax.nn.sigmoid(x_r + h_r), jax.nn.sigmoid(x_z + h_z)
                h = (1 - z) * jnp.tanh(x_n + r * h_n) + z * h
                return h, h if every_step else None

            h, hs = jax.lax.scan(step, h, inputs)
        return jnp.swapaxes(hs, 0, 1) if every_step else h


class JaxPeer:
    """JAX as its users write a training loop: a jit-compiled step (forward, grad, Adam) called per batch,
    parameters a pytree of arrays, the batch gathered in NumPy. Adam is written out (optax is not a
    dependency)."""

    def __init__(self, threads, np):
        harness.confine_to_cpus(threads)
        import jax  # ImportError is the harness's "skip jax"

        jax.config.update("jax_platforms", "cpu")
        self.jax, self.jnp, self.np = jax, jax.numpy, np
        self.details = {"version": jax.__version__, "devices": [str(d) for d in jax.devices()]}
        self.trained = {}

    def adam(self):
        jax, jnp = self.jax, self.jnp
        (beta1, beta2), tree = ADAM_BETAS, jax.tree_util

        def init(params):  # m and v in buffers of their own: the step donates both
            return tree.tree_map(jnp.zeros_like, params), tree.tree_map(jnp.zeros_like, params), jnp.zeros((), jnp.int32)

        def update(params, grads, state):
            m, v, t = state
            t = t + 1
            m = tree.tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, m, grads)
            v = tree.tree_map(lambda v, g: beta2 * v + (1 - beta2) * g * g, v, grads)
            scale = LR * jnp.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
            params = tree.tree_map(lambda p, m, v: p - scale * m / (jnp.sqrt(v) + ADAM_EPS), params, m, v)
            return params, (m, v, t)

        return init, update

    def train(self, network, x, y):
        jax, jnp, np = self.jax, self.jnp, self.np
        net = JaxNet(jax, NETWORKS[network])
        init, update = self.adam()
        params = jax.tree_util.tree_map(jnp.asarray, net.init(np, np.random.default_rng(0)))
        trained = self.trained[network] = {"params": params, "predict": jax.jit(net.apply)}
        state = init(params)

        def loss(params, xb, yb):
            logits = net.apply(params, xb)
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[..., None], axis=-1))

        @functools.partial(jax.jit, donate_argnums=(0, 1))
        def step(params, state, xb, yb):
            return update(params, jax.grad(loss)(params, xb, yb), state)

        rng = np.random.default_rng(DATA_SEED)

        def epoch():
            nonlocal state
            for index in harness.shuffled_batches(rng, len(x), BATCH):
                trained["params"], state = step(trained["params"], state, x[index], y[index])
            jax.block_until_ready(trained["params"])

        return epoch

    def predict(self, network, x):
        trained = self.trained[network]
        return self.np.asarray(trained["predict"](trained["params"], x))  # the copy is part of it, as for torch


# ---------------------------------------------------------------------------------------------------
# Children: the harness's loader and the child's entry point


def rnn_peer(peer_class):
    """A harness loader: the peer's library imported (ImportError skips it), then per item its call."""
    def load(threads):
        import numpy as np

        peer = peer_class(threads, np)
        data = {}

        def prepare(item):
            network = item["network"]
            if item["workload"] == "train":
                x, y, best = data[network] = make_sequences(np, network, item["samples"])
                return peer.train(network, x, y), lambda: train_check(np, peer, network, x, y, best)
            return functools.partial(peer.predict, network, data[network][0][:item["batch"]]), dict

        return prepare, peer.details

    return load


def train_check(np, peer, network, x, y, best):
    """Training accuracy after the setup epochs, as predict gives it, on the first CHECK_SAMPLES sequences
    (fewer with --quick): per sequence, or per position for the char model; with the best possible beside
    it (the Markov chain's most likely successors; 1 for the classifiers, whose patterns are learnable)."""
    count = min(CHECK_SAMPLES, len(x))
    predicted = np.argmax(np.asarray(peer.predict(network, x[:count])), axis=-1)
    check = {"train_accuracy": float(np.mean(predicted == y[:count])), "check_samples": count}
    if best is not None:
        check["best_accuracy"] = float(np.mean(best[x[:count]] == y[:count]))
    return check


PEER_LOADERS = {"bprop": rnn_peer(BpropPeer), "torch": rnn_peer(TorchPeer), "jax": rnn_peer(JaxPeer)}


def child_main(args):
    # NumPy only builds the data: one OpenBLAS thread, so no idle pool spins.
    return harness.run_child(args, rnn_benchmark, blas_threads=1)


# ---------------------------------------------------------------------------------------------------
# Parent: the report


def machine_header(args, records, load):
    size = SIZES["quick" if args.quick else "full"]
    title = (f"bprop recurrent benchmark: {args.repeats} round(s); batch {BATCH}, Adam lr {LR:g}; LSTM and GRU "
             f"(64 → 128, 32 steps) on {size['samples']:,} sequences, char LSTM (2 × 256, 64 steps) on "
             f"{size['char_samples']:,}, LSTM predict at batch {' and '.join(map(str, PREDICT_BATCHES))}")
    return harness.report_header(title, args, records, load, harness.torch_jax_extras,
                                 threads_note="; jax confined to that many CPUs")


def item_cells(item, result, peak):
    """(rate, % of peak, ratio) cells of one peer's item."""
    if not result or result.get("per_second") is None:
        return "-", "-", "-"
    gflops = item_gemm_flops(item) / result["median_seconds_per_call"] / 1e9
    share = f"{100 * gflops / peak:.0f}%" if peak else "-"
    ratio = f"{result['paired_ratio']:.2f}" if result.get("paired_ratio") is not None else "-"
    return harness.rate_cell(result["per_second"]), share, ratio


def network_notes(records, threads, peers):
    isa, peak = harness.fma_peak(records, threads)
    notes = [f"FMA peak ({isa}, {threads}t): {peak:.1f} GFLOP/s, measured now in bprop's child" if peak else
             "FMA peak: not measured (bprop did not run, or runs its portable kernels): no % of peak"]
    for network, info in NETWORKS.items():
        forward, training = network_flops(network)
        notes.append(f"  {info['name']}: {forward / 1e6:.2f} MFLOP forward, {training / 1e6:.2f} MFLOP training per "
                     f"sequence (GEMM flops: gates' projections and Linear layers)")
    for network, info in NETWORKS.items():
        label = f"{info['name']} training"
        checks = {p: harness.item_results(harness.find_record(records, p, threads), "workloads").get(label, {})
                  for p in peers}
        cells = [f"{p} {c['train_accuracy']:.2f}" for p, c in checks.items() if "train_accuracy" in c]
        best = next((c["best_accuracy"] for c in checks.values() if "best_accuracy" in c), None)
        if cells:
            notes.append(f"checks: {label} accuracy after the setup epochs: {', '.join(cells)} (chance "
                         f"{1 / info['classes']:.2f}" + (f", best possible {best:.2f}" if best is not None else "")
                         + (", per position)" if info["head"] == "sequence" else ")"))
    return notes


def target_notes(records, threads):
    """Issue 14's targets at this thread count: met or missed, from the paired ratios."""
    goals = TARGETS.get(threads)
    if not goals:
        return []
    if not harness.find_record(records, "bprop", threads):
        return [f"targets (issue 14) at {threads}t: not assessed, bprop did not run"]
    cells = []
    for label, peers in goals.items():
        for peer, goal in peers.items():
            ratio = harness.item_results(harness.find_record(records, peer, threads), "workloads").get(
                label, {}).get("paired_ratio")
            verdict = "no figure" if ratio is None else f"{ratio:.2f}, {'met' if ratio >= goal else 'MISSED'}"
            cells.append(f"{label} ≥ {goal:g}× {peer}: {verdict}")
    return [f"targets (issue 14) at {threads}t: " + "; ".join(cells)]


def thread_section(args, records, threads):
    peers = [p for p in args.peer_list if harness.find_record(records, p, threads)]
    lines = [f"{threads} thread{'s' if threads != 1 else ''}: sequences/s",
             harness.peer_table(args, records, threads, workloads(args.quick), item_cells, "sequences/s")]
    lines += network_notes(records, threads, peers)
    lines += target_notes(records, threads)
    return "\n".join(lines)


def print_report(args, records, load):
    harness.print_report(args, records, machine_header(args, records, load), [RATIO_NOTE],
                         lambda threads: thread_section(args, records, threads))


def write_json(path, args, records, load):
    size = SIZES["quick" if args.quick else "full"]
    config = {"threads": args.thread_counts, "peers": args.peer_list, "repeats": args.repeats, "quick": args.quick,
              "batch": BATCH, "lr": LR, "samples": size["samples"], "char_samples": size["char_samples"],
              "networks": NETWORKS}
    harness.write_json(
        path, config, load, records, cpu_info=harness.reference_cpu_info(records),
        fma_peak_gflops={str(t): harness.fma_peak(records, t)[1] for t in args.thread_counts},
        gemm_flops_per_call={item["label"]: item_gemm_flops(item) for item in workloads(args.quick)},
        method="per thread count, one child per peer; each round every child runs every workload once (one epoch "
               "of each network, a calibrated loop of the predict calls), in an order rotating by round; "
               "per_second (sequences/s) from the median over rounds; paired_ratio = median over rounds of peer "
               "time / bprop time in the same round (> 1: bprop faster)")


def parent_main(args):
    return harness.parent_main(args, rnn_benchmark(args), print_report, write_json)


if __name__ == "__main__":
    sys.exit(harness.script_main(parse_args, child_main, parent_main))
