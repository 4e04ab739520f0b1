"""Convolutional networks with bprop against PyTorch and JAX, in one run.

What it measures
    Each peer in its own child process, at the same thread count:
      * bprop: Sequential.fit (one C++ call per epoch) and Sequential.predict, as users train; the single
        convolutions through the Conv2d layer's C++ core and, for the backward parts, nn.functional.conv2d
        on tensors (see below);
      * torch: eager PyTorch (oneDNN convolutions): an nn.Module trained by a plain loop (zero_grad,
        loss.backward, optimizer.step) over shuffled index batches; predict in eval mode under inference_mode;
      * jax: a jax.jit-compiled step (forward written with jax.lax.conv_general_dilated in NCHW/OIHW, batch
        norm written out with batch statistics and running ones for inference, jax.grad, SGD with momentum
        written out, buffers donated) called per shuffled batch; predict a jitted forward with the running
        statistics. Below the machine's core count the child is confined to that many CPUs (XLA has no
        thread setting that holds). Optional: skipped when jax is not installed.
    Every network is one description (LENET5, RESNET8: tuples of layers) that each peer builds in its own
    library, so the peers run the same network, and the flop counts come from the same description.
    The workloads:
      1. LeNet-5: conv 6@5×5 (padding 2, the classic MNIST LeNet) → ReLU → max-pool 2 → conv 16@5×5 → ReLU →
         max-pool 2 → Flatten → Linear 120 → ReLU → Linear 84 → ReLU → Linear 10, on 28×28×1 images, batch 64,
         SGD lr 0.01 momentum 0.9, cross-entropy: training samples/s over an epoch of 6,400 samples (1,280
         with --quick);
      2. ResNet-8 as MLPerf Tiny defines it for CIFAR-10: stem conv 3×3 16 + BN + ReLU; three stages
         [conv 3×3, BN, ReLU, conv 3×3, BN] + shortcut, then ReLU: 16 channels with the identity, then 32 and
         64 channels with stride 2 and a projection shortcut (conv 1×1, stride 2, no BN); global average
         pool; Linear 10. Every convolution has a bias (Keras's default, as MLPerf's model). On 32×32×3
         images, batch 64, SGD lr 0.01 momentum 0.9 (not MLPerf's Adam: one optimizer for both networks),
         training samples/s over an epoch of 1,280 samples (256 with --quick); then inference (eval mode,
         running statistics) at batch 1 and batch 256: samples/s;
      3. single layers: each distinct 3×3 convolution of ResNet-8 at batch 64, padding 1, no bias (the
         bias is not GEMM work): 16→16 at 32×32, 16→32 stride 2 from 32×32, 32→32 at 16×16, 32→64 stride 2
         from 16×16, 64→64 at 8×8. Each in four parts, in GFLOP/s (2·N·O·C·KH·KW·OH·OW flops per pass; the
         two-pass part counts two) and as a share of the FMA peak:
           forward        bprop: layer.core().forward(x); torch: F.conv2d under inference_mode;
                          jax: a jitted lax.conv_general_dilated;
           data           backward-data alone (dx). bprop: nn.functional.conv2d on a tensor x that requires
                          a gradient and a weight that does not, bprop.grad on the retained graph (it calls
                          the same ops::conv_backward_data the layer does); torch:
                          aten.convolution_backward with output_mask (True, False, False); jax: a jitted vjp
                          with respect to x;
           weights        backward-weights alone (dW), the same three ways the other way round;
           data+weights   both, as training needs them. bprop: the layer's core.backward(x, y, dy), which
                          computes both in one call; torch: convolution_backward with mask (True, True,
                          False); jax: a jitted vjp with respect to (x, w).
    The data, the same for every peer: y uniform over 10 classes; x standard normal noise (float32) plus 0.5 ×
    a fixed random pattern of the sample's class, constant over 7×7 (LeNet) or 8×8 (ResNet) blocks. A pure
    "argmax of a random linear map of x" (bench_train's labels) stays near chance for two epochs at lr 0.01;
    these patterns are learnt in a few hundred steps, so the check can tell a working peer from a broken one.
    Every peer's result is checked loosely: training accuracy after the setup epochs, as predict gives it, on
    (up to) the first 1,024 samples, and for ResNet-8 also with the batch statistics of one batch of 256 (its
    running statistics lag the weights in the first few hundred steps); for the single layers the 2-norm of
    each result against bprop's (the same x, weight and dy for every peer). A peer that is fast because it is
    wrong shows.
    The % of peak columns: GEMM flops (convolutions and Linear layers; training counts forward, dW and dX
    but the first layer's dX, which no peer computes) per second over the float32 FMA peak that
    bprop._core.fma_peak_gflops measures now in bprop's child at that thread count (the peak bench_gemm.py
    reports). Pooling, batch norm, activations, the loss and the update are not counted: they are real time
    but not GEMM work. The peak is measured once, at set-up: on a busy machine a peer timed in a quieter
    moment can show more than 100%.
    Each library initialises the weights its own way (bprop: its layers' defaults, Glorot-uniform; torch: its
    defaults; jax: PyTorch's ±1/√fan_in, drawn in NumPy), which changes how fast the nets learn, not the
    work per step.

How it measures: in rounds, because the machine drifts (harness.py explains the design)
    One persistent child per (peer, thread count) imports its library, builds the data, trains each network
    (two setup epochs: warm-up and calibration) and calibrates its loops once. In each of --repeats rounds
    every child runs every workload once (one epoch of each network; a loop of ~0.25 s of each predict and
    single-layer call), one child at a time, in an order rotating by round. Rates are medians over rounds;
    ratios are medians of the per-round ratios, paired within a round so drift cancels. The networks keep
    training from round to round.

How to run it
    python benchmarks/bench_conv.py                             # every peer at 2 threads, 3 rounds
    python benchmarks/bench_conv.py --threads 1,2               # both thread counts, one group after the other
    python benchmarks/bench_conv.py --quick --repeats 1         # smoke run: short epochs, ~30 ms loops
    python benchmarks/bench_conv.py --peers bprop,torch --json out.json
    python benchmarks/bench_conv.py --peers bprop --baseline ../old-env/bin/python --repeats 15  # A/B a change

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
BATCH = 64
LR, MOMENTUM = 0.01, 0.9
BN_EPS, BN_MOMENTUM = 1e-5, 0.1  # PyTorch's and bprop's defaults
PREDICT_BATCHES = (1, 256)
SIZES = {"full": {"lenet_samples": 6_400, "resnet_samples": 1_280, "loop_seconds": 0.25},
         "quick": {"lenet_samples": 1_280, "resnet_samples": 256, "loop_seconds": 0.03}}
DATA_SEED = 0
CHECK_SAMPLES = 1_024  # training accuracy on at most this many of the training samples (running statistics)
BATCH_STATS_SAMPLES = 256  # and on this many as one batch with batch statistics (networks with batch norm)
PATTERN_AMPLITUDE = 0.5  # of the class patterns added to the noise: learnt in two epochs, not at once
RATIO_NOTE = """ratios: the median over rounds of (peer time / bprop time) within each round, paired so drift
        cancels: > 1 means bprop is faster. Rates are medians over rounds. % of peak: GEMM GFLOP/s over
        the FMA peak bprop measured in its child at that thread count."""

# ---------------------------------------------------------------------------------------------------
# The networks, as data every peer builds in its own library:
#   ("conv", in, out, kernel, stride, padding)  with a bias, as the peers' defaults
#   ("bn", channels)  ("relu",)  ("maxpool", size)  ("gap",) global average pool  ("flatten",)
#   ("linear", in, out)  ("residual", body, shortcut)  y = body(x) + shortcut(x), None: the identity

LENET5 = (("conv", 1, 6, 5, 1, 2), ("relu",), ("maxpool", 2),
          ("conv", 6, 16, 5, 1, 0), ("relu",), ("maxpool", 2),
          ("flatten",), ("linear", 400, 120), ("relu",), ("linear", 120, 84), ("relu",), ("linear", 84, 10))


def resnet_stage(cin, cout, stride):
    """[conv 3×3, BN, ReLU, conv 3×3, BN] + shortcut, then ReLU; the shortcut a 1×1 convolution where the
    shape changes (MLPerf Tiny's, without BN), else the identity."""
    body = (("conv", cin, cout, 3, stride, 1), ("bn", cout), ("relu",), ("conv", cout, cout, 3, 1, 1), ("bn", cout))
    shortcut = None if stride == 1 and cin == cout else (("conv", cin, cout, 1, stride, 0),)
    return (("residual", body, shortcut), ("relu",))


RESNET8 = ((("conv", 3, 16, 3, 1, 1), ("bn", 16), ("relu",))
           + resnet_stage(16, 16, 1) + resnet_stage(16, 32, 2) + resnet_stage(32, 64, 2)
           + (("gap",), ("flatten",), ("linear", 64, 10)))

NETWORKS = {"lenet5": {"name": "LeNet-5", "spec": LENET5, "sample_shape": (1, 28, 28), "block": 7},
            "resnet8": {"name": "ResNet-8", "spec": RESNET8, "sample_shape": (3, 32, 32), "block": 8}}

# The distinct 3×3 convolutions of ResNet-8: (in channels, out channels, input height = width, stride).
SINGLE_CONVS = ((16, 16, 32, 1), (16, 32, 32, 2), (32, 32, 16, 1), (32, 64, 16, 2), (64, 64, 8, 1))
CONV_PARTS = ("forward", "data", "weights", "data+weights")


# ---------------------------------------------------------------------------------------------------
# Flop counts, from the descriptions


def conv_out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def layer_flops(layer, shape):
    """(forward GEMM flops per sample, output sample shape) of one layer on a sample of `shape`."""
    kind = layer[0]
    if kind == "conv":
        _, cin, cout, k, s, p = layer
        oh, ow = conv_out(shape[1], k, s, p), conv_out(shape[2], k, s, p)
        return 2 * cout * cin * k * k * oh * ow, (cout, oh, ow)
    if kind == "linear":
        return 2 * layer[1] * layer[2], (layer[2],)
    if kind == "maxpool":
        return 0, (shape[0], shape[1] // layer[1], shape[2] // layer[1])
    if kind == "gap":
        return 0, (shape[0], 1, 1)
    if kind == "flatten":
        return 0, (math.prod(shape),)
    if kind == "residual":
        body, body_shape = spec_flops(layer[1], shape)
        shortcut = spec_flops(layer[2], shape)[0] if layer[2] else []
        return body + shortcut, body_shape
    return 0, shape


def spec_flops(spec, shape):
    """([forward flops of each GEMM layer, in order], output shape); a residual's list is nested in place."""
    flops = []
    for layer in spec:
        count, shape = layer_flops(layer, shape)
        flops += count if isinstance(count, list) else ([count] if count else [])
    return flops, shape


def network_flops(network):
    """(forward, training) GEMM flops per sample: training = forward + dW of every layer + dX of all but
    the first (its input needs no gradient)."""
    flops, _ = spec_flops(NETWORKS[network]["spec"], NETWORKS[network]["sample_shape"])
    forward = sum(flops)
    return forward, 3 * forward - flops[0]


def single_conv_flops(cin, cout, size, stride):
    """2·N·O·C·KH·KW·OH·OW: one pass (forward, backward-data or backward-weights) of a 3×3 convolution."""
    out = conv_out(size, 3, stride, 1)
    return 2 * BATCH * cout * cin * 9 * out * out


# ---------------------------------------------------------------------------------------------------
# Command line and items


def parse_args(argv):
    return harness.parse_run_options(
        __doc__.split("\n\n")[0], argv, PEERS,
        repeats_help="rounds: timed runs of every workload per peer (default 3; an epoch takes seconds)",
        quick_help="smoke run: 1,280 LeNet and 256 ResNet samples per epoch, ~30 ms loops of the others",
        json_help="also write machine info, medians, ratios and all round times")


def conv_label(cin, cout, size, stride):
    return f"{cin}→{cout} {size}×{size}" + (f" s{stride}" if stride > 1 else "")


def workloads(quick):
    """The harness's items, in the order every child sets them up: each network's training epoch, its
    predict calls (on the network that epoch trained), then the single convolutions."""
    size = SIZES["quick" if quick else "full"]
    items = [{"label": "LeNet-5 training", "workload": "train", "network": "lenet5",
              "samples": size["lenet_samples"], "work": size["lenet_samples"], "unit": "samples/s"},
             {"label": "ResNet-8 training", "workload": "train", "network": "resnet8",
              "samples": size["resnet_samples"], "work": size["resnet_samples"], "unit": "samples/s"}]
    items += [{"label": f"ResNet-8 predict batch {batch}", "workload": "predict", "network": "resnet8",
               "batch": batch, "work": batch, "unit": "samples/s"} for batch in PREDICT_BATCHES]
    for cin, cout, height, stride in SINGLE_CONVS:
        flops = single_conv_flops(cin, cout, height, stride)
        items += [{"label": f"{conv_label(cin, cout, height, stride)} {part}", "workload": "conv", "part": part,
                   "conv": [cin, cout, height, stride], "work": flops * (2 if part == "data+weights" else 1),
                   "unit": "flop/s"} for part in CONV_PARTS]
    return items


def conv_benchmark(args):
    return harness.workload_benchmark(__file__, PEER_LOADERS, workloads(args.quick), args,
                                      SIZES["quick" if args.quick else "full"]["loop_seconds"])


def item_gemm_flops(item):
    """GEMM flops of one call of an item, for its % of the FMA peak."""
    if item["workload"] == "conv":
        return item["work"]
    forward, training = network_flops(item["network"])
    return (training if item["workload"] == "train" else forward) * item["work"]


# ---------------------------------------------------------------------------------------------------
# Children: data, shared by every peer


def make_images(np, network, samples):
    """y (int64) uniform over 10 classes; x (float32) = standard normal noise + PATTERN_AMPLITUDE × the class's
    pattern (standard normal values, constant over blocks of the network's block size): a conv net learns it
    in a few hundred steps, so the accuracy check tells a working peer (well above 0.10) from a broken one.
    The same seed, patterns and samples for every peer."""
    info = NETWORKS[network]
    channels, height, width = info["sample_shape"]
    block = info["block"]
    rng = np.random.default_rng(DATA_SEED)
    coarse = rng.standard_normal((10, channels, height // block, 1, width // block, 1), dtype=np.float32)
    patterns = np.broadcast_to(coarse, (10, channels, height // block, block, width // block, block))
    y = rng.integers(0, 10, samples)
    x = rng.standard_normal((samples, channels, height, width), dtype=np.float32)
    x += PATTERN_AMPLITUDE * patterns.reshape(10, channels, height, width)[y]
    return x, y.astype(np.int64)


def make_conv_data(np, cin, cout, size, stride):
    """x (BATCH, cin, size, size), a weight (cout, cin, 3, 3) as PyTorch initialises one and dy of the output's
    shape: the same for every peer."""
    rng = np.random.default_rng(DATA_SEED)
    out = conv_out(size, 3, stride, 1)
    bound = 1 / math.sqrt(cin * 9)
    return (rng.standard_normal((BATCH, cin, size, size), dtype=np.float32),
            rng.uniform(-bound, bound, (cout, cin, 3, 3)).astype(np.float32),
            rng.standard_normal((BATCH, cout, out, out), dtype=np.float32))


def result_norm(np, arrays):
    """The 2-norm (float64) of a result, all its arrays together: what the peers' single layers must agree on."""
    return float(math.sqrt(sum(float(np.sum(np.asarray(a, dtype=np.float64) ** 2)) for a in arrays)))


# ---------------------------------------------------------------------------------------------------
# Children: the peers. Each has details, layers or a net built from a description, train(network, x, y) ->
# one epoch's call, predict(network, x) -> logits as predict gives them (eval mode), batch_stats_logits(network,
# x) -> logits with the batch's statistics (for the check), and conv(part, x, w, dy, stride) -> a call
# returning the part's arrays.


class BpropPeer:
    def __init__(self, threads, np):
        import bprop
        from bprop import nn, optim

        self.bprop, self.nn, self.optim, self.np = bprop, nn, optim, np
        bprop.set_num_threads(threads)
        bprop.manual_seed(0)
        self.details = harness.bprop_details(bprop, threads)
        self.models = {}

    def layers(self, spec):
        nn = self.nn
        make = {"conv": lambda cin, cout, k, s, p: nn.Conv2d(cin, cout, k, stride=s, padding=p),
                "bn": nn.BatchNorm2d, "relu": nn.ReLU, "maxpool": nn.MaxPool2d,
                "gap": lambda: nn.AdaptiveAvgPool2d(1), "flatten": nn.Flatten, "linear": nn.Linear,
                "residual": lambda body, shortcut: nn.Residual(self.layers(body),
                                                               shortcut=self.layers(shortcut) if shortcut else None)}
        return [make[layer[0]](*layer[1:]) for layer in spec]

    def train(self, network, x, y):
        model = self.models[network] = self.bprop.Sequential(self.layers(NETWORKS[network]["spec"]))
        model.compile(optimizer=self.optim.SGD(lr=LR, momentum=MOMENTUM), loss=self.nn.CrossEntropy())
        return functools.partial(model.fit, x, y, epochs=1, batch_size=BATCH, shuffle=True, seed=0, verbose=0)

    def predict(self, network, x):
        return self.models[network].predict(x, batch_size=len(x))

    def batch_stats_logits(self, network, x):
        return self.models[network].forward(x, training=True)

    def conv(self, part, x, w, dy, stride):
        layer = self.nn.Conv2d(w.shape[1], w.shape[0], 3, stride=stride, padding=1, bias=False)
        layer.weight.set_value(w)
        core = layer.core()
        core.build(list(x.shape[1:]))
        if part == "forward":
            return lambda: (core.forward(x, True),)
        if part == "data+weights":  # the layer's own backward: dW and dx in one call
            y = core.forward(x, True)
            return lambda: (core.backward(x, y, dy), layer.weight.grad)
        return self.backward_part(part, x, w, dy, stride)

    def backward_part(self, part, x, w, dy, stride):
        """Backward-data or backward-weights alone: a graph of nn.functional.conv2d in which only that input
        wants a gradient (its node then calls just ops::conv_backward_data or _weights, the layer's kernels),
        retained, so each call is that backward alone. A test-only binding that runs one part on the layer
        (say _core.conv2d_backward_parts) would replace this function alone."""
        bprop = self.bprop
        xt = bprop.tensor(x, requires_grad=part == "data")
        wt = bprop.tensor(w, requires_grad=part == "weights")
        yt = self.nn.functional.conv2d(xt, wt, stride=stride, padding=1)
        dyt, wanted = bprop.tensor(dy), [xt if part == "data" else wt]
        return lambda: [g.numpy() for g in bprop.grad(yt, wanted, grad_outputs=dyt, retain_graph=True)]


class TorchPeer:
    """Eager PyTorch as its tutorials write it: an nn.Module, SGD, a plain loop."""

    def __init__(self, threads, np):
        import torch  # ImportError is the harness's "skip torch"

        self.torch, self.np = torch, np
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.details = {"version": torch.__version__, "threads_seen": torch.get_num_threads(),
                        "mkldnn": torch.backends.mkldnn.is_available()}
        self.models = {}
        self.Residual = torch_residual_class(torch)

    def layers(self, spec):
        nn = self.torch.nn
        make = {"conv": lambda cin, cout, k, s, p: nn.Conv2d(cin, cout, k, stride=s, padding=p),
                "bn": lambda c: nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM), "relu": nn.ReLU,
                "maxpool": nn.MaxPool2d, "gap": lambda: nn.AdaptiveAvgPool2d(1), "flatten": nn.Flatten,
                "linear": nn.Linear,
                "residual": lambda body, shortcut: self.Residual(self.layers(body),
                                                                 self.layers(shortcut) if shortcut else None)}
        return [make[layer[0]](*layer[1:]) for layer in spec]

    def train(self, network, x, y):
        torch = self.torch
        model = self.models[network] = torch.nn.Sequential(*self.layers(NETWORKS[network]["spec"]))
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        loss_fn = torch.nn.CrossEntropyLoss()
        x_all, y_all = torch.from_numpy(x), torch.from_numpy(y)  # shares the arrays: no copy
        rng = self.np.random.default_rng(DATA_SEED)

        def epoch():
            model.train()
            for index in harness.shuffled_batches(rng, len(x), BATCH):
                index = torch.from_numpy(index)
                optimizer.zero_grad()
                loss = loss_fn(model(x_all[index]), y_all[index])
                loss.backward()
                optimizer.step()

        return epoch

    def predict(self, network, x):
        model = self.models[network]
        model.eval()
        with self.torch.inference_mode():
            return model(self.torch.from_numpy(x)).numpy()

    def batch_stats_logits(self, network, x):
        model = self.models[network]
        model.train()
        with self.torch.no_grad():
            return model(self.torch.from_numpy(x)).numpy()

    def conv(self, part, x, w, dy, stride):
        torch = self.torch
        x, w, dy = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(dy)
        if part == "forward":
            def forward():
                with torch.inference_mode():
                    return (torch.nn.functional.conv2d(x, w, None, stride, 1),)
            return forward
        mask = {"data": [True, False, False], "weights": [False, True, False], "data+weights": [True, True, False]}
        backward = functools.partial(torch.ops.aten.convolution_backward, dy, x, w, None, [stride] * 2, [1, 1],
                                     [1, 1], False, [0, 0], 1, mask[part])
        return lambda: [g for g in backward() if g is not None]


def torch_residual_class(torch):
    """The residual block as an nn.Module class (made once torch is imported: the module needs torch)."""

    class Residual(torch.nn.Module):
        """y = body(x) + shortcut(x), the shortcut the identity when None."""

        def __init__(self, body, shortcut):
            super().__init__()
            self.body = torch.nn.Sequential(*body)
            self.shortcut = torch.nn.Sequential(*shortcut) if shortcut else torch.nn.Identity()

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    return Residual


class JaxNet:
    """A network description as JAX functions: init (parameters as PyTorch initialises them, in NumPy, and
    the batch norms' running statistics) and apply(params, state, x, training) -> (y, new state)."""

    def __init__(self, jax, spec):
        self.jax, self.jnp, self.spec = jax, jax.numpy, spec

    def init(self, np, rng, spec=None):
        params, state = [], []
        for layer in self.spec if spec is None else spec:
            kind = layer[0]
            if kind in ("conv", "linear"):
                fan_in = layer[1] * (layer[3] ** 2 if kind == "conv" else 1)
                shape = (layer[2], layer[1], layer[3], layer[3]) if kind == "conv" else (layer[1], layer[2])
                bound = 1 / math.sqrt(fan_in)
                params += [rng.uniform(-bound, bound, shape).astype(np.float32),
                           rng.uniform(-bound, bound, layer[2]).astype(np.float32)]
            elif kind == "bn":
                params += [np.ones(layer[1], np.float32), np.zeros(layer[1], np.float32)]
                state += [np.zeros(layer[1], np.float32), np.ones(layer[1], np.float32)]
            elif kind == "residual":
                for part in layer[1:]:
                    if part:
                        more_params, more_state = self.init(np, rng, part)
                        params += more_params
                        state += more_state
        return params, state

    def apply(self, params, state, x, training):
        new_state = []
        y = self.run(self.spec, iter(params), iter(state), new_state, x, training)
        return y, new_state

    def run(self, spec, params, state, new_state, x, training):
        for layer in spec:
            x = self.layer(layer, params, state, new_state, x, training)
        return x

    def layer(self, layer, params, state, new_state, x, training):
        jax, jnp, kind = self.jax, self.jnp, layer[0]
        if kind == "conv":
            w, b = next(params), next(params)
            pad = [(layer[5], layer[5])] * 2
            y = jax.lax.conv_general_dilated(x, w, (layer[4],) * 2, pad, dimension_numbers=("NCHW", "OIHW", "NCHW"))
            return y + b[None, :, None, None]
        if kind == "bn":
            return self.batch_norm(next(params), next(params), next(state), next(state), new_state, x, training)
        if kind == "relu":
            return jnp.maximum(x, 0)
        if kind == "maxpool":
            window = (1, 1, layer[1], layer[1])
            return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, window, window, "VALID")
        if kind == "gap":
            return jnp.mean(x, axis=(2, 3), keepdims=True)
        if kind == "flatten":
            return x.reshape(x.shape[0], -1)
        if kind == "linear":
            w, b = next(params), next(params)
            return x @ w + b
        body = self.run(layer[1], params, state, new_state, x, training)
        return body + (self.run(layer[2], params, state, new_state, x, training) if layer[2] else x)

    def batch_norm(self, gamma, beta, mean, var, new_state, x, training):
        """PyTorch's BatchNorm2d: batch statistics in training (the running variance takes the unbiased
        one), the running ones in inference."""
        jnp = self.jnp
        if training:
            batch_mean, batch_var = jnp.mean(x, axis=(0, 2, 3)), jnp.var(x, axis=(0, 2, 3))
            count = x.size // x.shape[1]
            new_state += [(1 - BN_MOMENTUM) * mean + BN_MOMENTUM * batch_mean,
                          (1 - BN_MOMENTUM) * var + BN_MOMENTUM * batch_var * count / (count - 1)]
            mean, var = batch_mean, batch_var
        else:
            new_state += [mean, var]
        scale = gamma * (1 / jnp.sqrt(var + BN_EPS))
        return x * scale[None, :, None, None] + (beta - mean * scale)[None, :, None, None]


class JaxPeer:
    """JAX as its users write a training loop: a jit-compiled step (forward, grad, SGD with momentum) called
    per batch, the batch gathered in NumPy; the same PyTorch-style initialisation."""

    def __init__(self, threads, np):
        harness.confine_to_cpus(threads)
        import jax  # ImportError is the harness's "skip jax"

        jax.config.update("jax_platforms", "cpu")
        self.jax, self.jnp, self.np = jax, jax.numpy, np
        self.details = {"version": jax.__version__, "devices": [str(d) for d in jax.devices()]}
        self.trained = {}

    def train(self, network, x, y):
        jax, jnp, np = self.jax, self.jnp, self.np
        net = JaxNet(jax, NETWORKS[network]["spec"])
        params, state = net.init(np, np.random.default_rng(0))
        trained = self.trained[network] = {"params": [jnp.asarray(p) for p in params],
                                           "state": [jnp.asarray(s) for s in state],
                                           "predict": jax.jit(functools.partial(self.logits, net)),
                                           "batch_stats": jax.jit(functools.partial(self.logits, net, training=True))}
        velocity = [jnp.zeros_like(p) for p in trained["params"]]

        def loss(params, state, xb, yb):
            logits, new_state = net.apply(params, state, xb, True)
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1)), new_state

        @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
        def step(params, velocity, state, xb, yb):
            grads, new_state = jax.grad(loss, has_aux=True)(params, state, xb, yb)
            velocity = [MOMENTUM * v + g for v, g in zip(velocity, grads)]
            return [p - LR * v for p, v in zip(params, velocity)], velocity, new_state

        rng = np.random.default_rng(DATA_SEED)

        def epoch():
            nonlocal velocity
            for index in harness.shuffled_batches(rng, len(x), BATCH):
                trained["params"], velocity, trained["state"] = step(trained["params"], velocity, trained["state"],
                                                                     x[index], y[index])
            jax.block_until_ready(trained["params"])

        return epoch

    @staticmethod
    def logits(net, params, state, x, training=False):
        return net.apply(params, state, x, training)[0]

    def predict(self, network, x):
        trained = self.trained[network]
        return self.np.asarray(trained["predict"](trained["params"], trained["state"], x))

    def batch_stats_logits(self, network, x):
        trained = self.trained[network]
        return self.np.asarray(trained["batch_stats"](trained["params"], trained["state"], x))

    def conv(self, part, x, w, dy, stride):
        jax = self.jax
        x, w, dy = (self.jnp.asarray(a) for a in (x, w, dy))

        def conv(x, w):
            return jax.lax.conv_general_dilated(x, w, (stride, stride), [(1, 1), (1, 1)],
                                                dimension_numbers=("NCHW", "OIHW", "NCHW"))

        if part == "forward":
            run = jax.jit(lambda x, w, dy: (conv(x, w),))
        elif part == "data":
            run = jax.jit(lambda x, w, dy: jax.vjp(lambda x_: conv(x_, w), x)[1](dy))
        elif part == "weights":
            run = jax.jit(lambda x, w, dy: jax.vjp(lambda w_: conv(x, w_), w)[1](dy))
        else:
            run = jax.jit(lambda x, w, dy: jax.vjp(conv, x, w)[1](dy))
        return lambda: jax.block_until_ready(run(x, w, dy))


# ---------------------------------------------------------------------------------------------------
# Children: the harness's loader and the child's entry point


def conv_peer(peer_class):
    """A harness loader: the peer's library imported (ImportError skips it), then per item its call."""
    def load(threads):
        import numpy as np

        peer = peer_class(threads, np)
        data = {}

        def prepare(item):
            if item["workload"] == "train":
                x, y = data[item["network"]] = make_images(np, item["network"], item["samples"])
                return peer.train(item["network"], x, y), lambda: train_check(np, peer, item["network"], x, y)
            if item["workload"] == "predict":
                return functools.partial(peer.predict, item["network"], data[item["network"]][0][:item["batch"]]), dict
            call = peer.conv(item["part"], *make_conv_data(np, *item["conv"]), item["conv"][3])
            return call, lambda: {"result_norm": result_norm(np, call())}

        return prepare, peer.details

    return load


def train_check(np, peer, network, x, y):
    """Training accuracy after the setup epochs: as predict gives it (the running statistics) on the first
    CHECK_SAMPLES samples (fewer with --quick) and, for a network with batch norm, with the statistics of one
    batch of the first BATCH_STATS_SAMPLES (the running ones lag the weights for the first few hundred steps)."""
    def accuracy(logits, count):
        return float(np.mean(np.argmax(np.asarray(logits), axis=1) == y[:count]))

    count = min(CHECK_SAMPLES, len(x))
    check = {"train_accuracy": accuracy(peer.predict(network, x[:count]), count), "check_samples": count}
    if any(layer[0] == "bn" for layer in NETWORKS[network]["spec"]):  # ResNet-8's stem has one
        count = min(BATCH_STATS_SAMPLES, len(x))
        check["train_accuracy_batch_stats"] = accuracy(peer.batch_stats_logits(network, x[:count]), count)
    return check


PEER_LOADERS = {"bprop": conv_peer(BpropPeer), "torch": conv_peer(TorchPeer), "jax": conv_peer(JaxPeer)}


def child_main(args):
    # NumPy only builds the data: one OpenBLAS thread, so no idle pool spins.
    return harness.run_child(args, conv_benchmark, blas_threads=1)


# ---------------------------------------------------------------------------------------------------
# Parent: the report


def machine_header(args, records, load):
    size = SIZES["quick" if args.quick else "full"]
    title = (f"bprop convolution benchmark: {args.repeats} round(s); batch {BATCH}, SGD lr {LR} momentum {MOMENTUM}; "
             f"LeNet-5 on {size['lenet_samples']:,} 28×28×1 samples, ResNet-8 on {size['resnet_samples']:,} "
             f"32×32×3 samples, predict at batch {' and '.join(map(str, PREDICT_BATCHES))}; single 3×3 "
             f"convolutions at batch {BATCH}")
    return harness.report_header(title, args, records, load, harness.torch_jax_extras,
                                 threads_note="; jax confined to that many CPUs")


def item_cells(item, result, peak):
    """(rate, % of peak, ratio) cells of one peer's item; rates in the item's unit (GFLOP/s for flops)."""
    if not result or result.get("per_second") is None:
        return "-", "-", "-"
    rate = result["per_second"] / (1e9 if item["unit"] == "flop/s" else 1)
    gflops = item_gemm_flops(item) / result["median_seconds_per_call"] / 1e9
    share = f"{100 * gflops / peak:.0f}%" if peak else "-"
    ratio = f"{result['paired_ratio']:.2f}" if result.get("paired_ratio") is not None else "-"
    return harness.rate_cell(rate), share, ratio


def network_notes(records, threads, peers):
    isa, peak = harness.fma_peak(records, threads)
    notes = [f"FMA peak ({isa}, {threads}t): {peak:.1f} GFLOP/s, measured now in bprop's child" if peak else
             "FMA peak: not measured (bprop did not run, or runs its portable kernels): no % of peak"]
    for network in NETWORKS:
        forward, training = network_flops(network)
        notes.append(f"  {NETWORKS[network]['name']}: {forward / 1e6:.3f} MFLOP forward, {training / 1e6:.3f} "
                     f"MFLOP training per sample (GEMM flops: convolutions and Linear layers)")
    for label in ("LeNet-5 training", "ResNet-8 training"):
        checks = {p: harness.item_results(harness.find_record(records, p, threads), "workloads").get(label, {})
                  for p in peers}
        cells = [f"{p} {c['train_accuracy']:.2f}" + (f" ({c['train_accuracy_batch_stats']:.2f})"
                                                     if "train_accuracy_batch_stats" in c else "")
                 for p, c in checks.items() if "train_accuracy" in c]
        if cells:
            notes.append(f"checks: {label.split()[0]} training accuracy after the setup epochs: {', '.join(cells)}")
    if any(line.startswith("checks:") for line in notes):
        notes.append(f"  (chance 0.10; on the first ≤{CHECK_SAMPLES:,} training samples as predict gives it, in "
                     f"brackets with the batch statistics of the first {BATCH_STATS_SAMPLES})")
    return notes


def single_layer_notes(records, threads, peers):
    """How far each peer's result norms are from bprop's, over every single-layer item."""
    ours = harness.item_results(harness.find_record(records, "bprop", threads), "workloads")
    notes = []
    for peer in peers:
        if peer == "bprop" or not ours:
            continue
        theirs = harness.item_results(harness.find_record(records, peer, threads), "workloads")
        gaps = [(abs(theirs[label]["result_norm"] / item["result_norm"] - 1), label)
                for label, item in ours.items() if "result_norm" in item and "result_norm" in theirs.get(label, {})]
        if gaps:
            gap, label = max(gaps)
            notes.append(f"{peer} {gap:.1e} (at {label})")
    if not notes:
        return []
    return [f"checks: largest relative gap between a peer's result norm and bprop's: {', '.join(notes)}"]


def thread_section(args, records, threads):
    peers = [p for p in args.peer_list if harness.find_record(records, p, threads)]
    items = workloads(args.quick)
    networks = [i for i in items if i["workload"] != "conv"]
    convs = [i for i in items if i["workload"] == "conv"]
    lines = [f"{threads} thread{'s' if threads != 1 else ''}: networks (samples/s)",
             harness.peer_table(args, records, threads, networks, item_cells, "measured")]
    lines += network_notes(records, threads, peers)
    lines += ["", f"{threads} thread{'s' if threads != 1 else ''}: single 3×3 convolutions, batch {BATCH}, "
              f"padding 1, no bias (GFLOP/s; data+weights counts both passes)",
              harness.peer_table(args, records, threads, convs, item_cells, "measured")]
    lines += single_layer_notes(records, threads, peers)
    return "\n".join(lines)


PARTS_NOTE = """single-layer parts: forward; data = backward-data alone (dx); weights = backward-weights alone (dW);
        data+weights = both. bprop times data and weights alone through nn.functional.conv2d on tensors
        (retained graph, only one input wanting a gradient: the same kernels as the layer), the others through
        Conv2d's core (forward, backward); torch: F.conv2d and aten.convolution_backward with an output_mask;
        jax: jitted lax.conv_general_dilated and its vjp."""


def print_report(args, records, load):
    harness.print_report(args, records, machine_header(args, records, load), [RATIO_NOTE, PARTS_NOTE],
                         lambda threads: thread_section(args, records, threads))


def write_json(path, args, records, load):
    size = SIZES["quick" if args.quick else "full"]
    config = {"threads": args.thread_counts, "peers": args.peer_list, "repeats": args.repeats, "quick": args.quick,
              "batch": BATCH, "lr": LR, "momentum": MOMENTUM, "lenet_samples": size["lenet_samples"],
              "resnet_samples": size["resnet_samples"]}
    harness.write_json(
        path, config, load, records, cpu_info=harness.reference_cpu_info(records),
        fma_peak_gflops={str(t): harness.fma_peak(records, t)[1] for t in args.thread_counts},
        gemm_flops_per_call={item["label"]: item_gemm_flops(item) for item in workloads(args.quick)},
        method="per thread count, one child per peer; each round every child runs every workload once (one epoch "
               "of each network, a calibrated loop of the others), in an order rotating by round; per_second "
               "(samples/s, or flop/s for the single convolutions) from the median over rounds; paired_ratio = "
               "median over rounds of peer time / bprop time in the same round (> 1: bprop faster)")


def parent_main(args):
    return harness.parent_main(args, conv_benchmark(args), print_report, write_json)


if __name__ == "__main__":
    sys.exit(harness.script_main(parse_args, child_main, parent_main))
