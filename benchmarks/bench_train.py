"""Training with bprop against PyTorch, JAX, a NumPy reference and scikit-learn, in one run.

What it measures
    Each peer in its own child process, at the same thread count:
      * bprop: Sequential.fit (one C++ call per epoch) and Sequential.predict, as users train;
      * torch: a plain eager loop (zero_grad, loss.backward, optimizer.step) over shuffled index batches;
      * jax: a jax.jit-compiled step (forward, jax.grad, Adam written out, buffers donated) called per
        shuffled batch, as JAX users write it; predict a jitted forward. Below the machine's core count the
        child is confined to that many CPUs (XLA has no thread setting that holds). Optional: skipped when
        jax is not installed;
      * numpy: a reference written here (forward, backward, Adam and SGD with momentum in float32 NumPy,
        the same shuffled-index batching; OpenBLAS threads set by environment);
      * sklearn: MLPClassifier(hidden_layer_sizes=(512, 256), solver="adam", batch_size=128, max_iter=1):
        one fit call is one epoch (it re-initialises the weights first, a few ms). It runs the MLP
        workloads only; the tiny net is "n/a" for it.
    The workloads:
      1. MLP 784-512-256-10, ReLU, softmax cross-entropy, Adam lr 1e-3, batch 128, one epoch over 60,000
         synthetic samples (x standard normal float32, y the argmax of a fixed random linear map, so the
         task is learnable; the same data for every peer): samples/s, and the child's peak RSS once it
         has trained (ru_maxrss: the library's import, the 188 MB of data and its training, nothing else,
         as this workload is set up first in its own process);
      2. a tiny 2-8-1 sigmoid net, MSE, SGD lr 0.5 momentum 0.9, full batch of the 4 XOR patterns, 5,000
         steps per call: steps/s;
      3. predict with the trained MLP at batch 1 and at batch 1024: samples/s;
      4. Adam's step alone over the MLP's 535,818 float32 parameters (784-512-256-10 weights and biases,
         gradients set once, so every call is one more step): steps/s. sklearn has no separate step: "n/a".
    Below each table: bprop's achieved GFLOP/s in the MLP epoch (the forward and backward GEMM flops per
    sample, counted in gemm_flops_per_sample, times samples/s) as a share of the float32 FMA peak that
    bprop._core.fma_peak_gflops measures now (the peak bench_gemm.py reports).
    Every peer's result is checked loosely: MLP training accuracy on the first 2,048 samples and how
    many XOR patterns the tiny net gets right, so a peer that is fast because it is wrong shows.

How it measures: in rounds, because the machine drifts (harness.py explains the design)
    One persistent child per (peer, thread count) imports its library, builds the data, trains (setting
    up the MLP first: two epochs, warm-up and calibration) and calibrates its loops once. In each of
    --repeats rounds every child runs every workload once (one MLP epoch; a loop of ~0.25 s of tiny-net
    fits or predict calls), one child at a time, in an order rotating by round. Rates are medians over
    rounds; ratios are medians of the per-round ratios, paired within a round so drift cancels. Every
    model keeps training from round to round: each timed epoch is one more epoch of the same model.

How to run it
    python benchmarks/bench_train.py                            # every peer at 2 threads, 3 rounds
    python benchmarks/bench_train.py --threads 1,2              # both thread counts, one group after the other
    python benchmarks/bench_train.py --quick                    # smoke run: 6,000 samples, 500 tiny steps
    python benchmarks/bench_train.py --peers bprop,torch --json out.json
    python benchmarks/bench_train.py --peers bprop --baseline ../old-env/bin/python --repeats 15  # A/B a change

It is a benchmark, never a timed test: it reports and never fails on a speed, and no test may assert on
what it prints. Its figures mean something on a quiet machine only; the paired ratios hold up best.
"""
import functools
import math
import os
import resource
import sys
import warnings

# The harness sits next to this script: importable however the script is started, with no install.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PEERS = ("bprop", "torch", "jax", "numpy", "sklearn")
MLP_SIZES = (784, 512, 256, 10)
TINY_SIZES = (2, 8, 1)
MLP_BATCH = 128
PREDICT_BATCHES = (1, 1024)
SIZES = {"full": {"samples": 60_000, "steps": 5_000, "loop_seconds": 0.25},
         "quick": {"samples": 6_000, "steps": 500, "loop_seconds": 0.03}}
ADAM_LR, SGD_LR, SGD_MOMENTUM = 1e-3, 0.5, 0.9
DATA_SEED = 0
CHECK_SAMPLES = 2_048  # training accuracy is measured on this many of the training samples
MB = 1e6  # the unit: 60,000 x 784 float32 is 188 MB
RATIO_NOTE = """ratios: for rates, the median over rounds of (peer time / bprop time) within each round, paired so
        drift cancels; for peak RSS, peer MB / bprop MB. Either way > 1 means bprop is better (faster,
        smaller). Rates are medians over rounds. MB = 10^6 bytes; peak RSS = ru_maxrss once the MLP has
        trained its two setup epochs (import + data + training)."""


# ---------------------------------------------------------------------------------------------------
# Command line


def parse_args(argv):
    return harness.parse_run_options(
        __doc__.split("\n\n")[0], argv, PEERS,
        threads_help="comma list of thread counts (default 2, the issue's setting)",
        repeats_help="rounds: timed runs of every workload per peer (default 3; an MLP epoch takes seconds)",
        quick_help="smoke run: 6,000 samples, 500 tiny-net steps per call, ~30 ms loops of the others",
        json_help="also write machine info, medians, paired ratios, RSS and all round times here")


# ---------------------------------------------------------------------------------------------------
# Workloads


def workloads(quick):
    """The harness's items, in the order every child sets them up: the MLP epoch first, so the peak RSS
    read right after it is the MLP's; predict uses the model that epoch trained."""
    size = SIZES["quick" if quick else "full"]
    items = [{"label": "MLP epoch", "workload": "mlp", "samples": size["samples"], "batch": MLP_BATCH,
              "work": size["samples"], "unit": "samples/s"},
             {"label": "tiny net", "workload": "tiny", "steps": size["steps"], "work": size["steps"],
              "unit": "steps/s"}]
    items += [{"label": f"predict batch {batch}", "workload": "predict", "batch": batch, "work": batch,
               "unit": "samples/s"} for batch in PREDICT_BATCHES]
    items.append({"label": "Adam step", "workload": "adam_step", "work": 1, "unit": "steps/s"})
    return items


def mlp_gradients(np):
    """Gradients of the MLP's shape, (in, out) weights then biases per layer, small enough that Adam's
    steps stay finite however many are timed."""
    rng = np.random.default_rng(DATA_SEED)
    shapes = [shape for fan_in, fan_out in zip(MLP_SIZES, MLP_SIZES[1:]) for shape in ((fan_in, fan_out), (fan_out,))]
    return [(rng.standard_normal(shape) * 1e-3).astype(np.float32) for shape in shapes]


def gemm_flops_per_sample():
    """(forward, backward) GEMM flops per sample of the MLP. Forward: 2·in·out per layer. Backward: dW
    (2·in·out) for every layer and dX (2·in·out) for every layer but the first, whose dX nobody needs
    (bprop does not compute it, nor does the NumPy reference)."""
    layers = [fan_in * fan_out for fan_in, fan_out in zip(MLP_SIZES, MLP_SIZES[1:])]
    forward = 2 * sum(layers)
    return forward, 2 * forward - 2 * layers[0]


def train_benchmark(args):
    return harness.workload_benchmark(__file__, PEER_LOADERS, workloads(args.quick), args,
                                      SIZES["quick" if args.quick else "full"]["loop_seconds"])


# ---------------------------------------------------------------------------------------------------
# Children: data, shared by every peer


def make_mlp_data(np, samples):
    """x standard normal float32, y = argmax of a fixed random linear map (int64): learnable, same seed
    for every peer."""
    rng = np.random.default_rng(DATA_SEED)
    x = rng.standard_normal((samples, MLP_SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((MLP_SIZES[0], MLP_SIZES[-1]), dtype=np.float32)
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


def make_xor_data(np):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return x, np.array([[0], [1], [1], [0]], dtype=np.float32)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def blas_threads_seen():
    """{"blas": [...], "threads_seen": N} from threadpoolctl, or nothing known without it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"blas": None, "threads_seen": None}
    pools = [{key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
             for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return {"blas": pools, "threads_seen": pools[0]["num_threads"] if pools else None}


def dense_stack(linear, activation, sizes, output=None):
    """[linear(784, 512), activation(), ..., linear(256, 10)] for consecutive sizes, then output() if given:
    the same network in bprop.nn and torch.nn."""
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [linear(fan_in, fan_out), activation()]
    return layers[:-1] + ([output()] if output else [])


# ---------------------------------------------------------------------------------------------------
# Children: the peers. Each has details, mlp(x, y, batch) -> one epoch's call, predict(x) -> outputs of
# that MLP, and tiny(x, y, steps) -> (the call of `steps` full-batch steps, its predict), or None.


class BpropPeer:
    def __init__(self, threads, np):
        import bprop
        from bprop import nn, optim

        self.bprop, self.nn, self.optim = bprop, nn, optim
        bprop.set_num_threads(threads)
        bprop.manual_seed(0)
        self.details = harness.bprop_details(bprop, threads)

    def mlp(self, x, y, batch):
        nn = self.nn
        self.model = self.bprop.Sequential(dense_stack(nn.Linear, nn.ReLU, MLP_SIZES))
        self.model.compile(optimizer=self.optim.Adam(lr=ADAM_LR), loss=nn.CrossEntropy())
        return functools.partial(self.model.fit, x, y, epochs=1, batch_size=batch, shuffle=True, seed=0,
                                 verbose=0)

    def predict(self, x):
        return self.model.predict(x, batch_size=len(x))

    def tiny(self, x, y, steps):
        nn = self.nn
        tiny = self.bprop.Sequential(dense_stack(nn.Linear, nn.Sigmoid, TINY_SIZES, output=nn.Sigmoid))
        tiny.compile(optimizer=self.optim.SGD(lr=SGD_LR, momentum=SGD_MOMENTUM), loss=nn.MSE())
        call = functools.partial(tiny.fit, x, y, epochs=steps, batch_size=len(x), shuffle=False, verbose=0)
        return call, lambda inputs: tiny.predict(inputs, batch_size=len(inputs))

    def adam_step(self, np):
        params = self.bprop.Sequential(dense_stack(self.nn.Linear, self.nn.ReLU, MLP_SIZES)).parameters()
        for p, g in zip(params, mlp_gradients(np)):
            p.set_grad(g.reshape(p.shape))
        return self.optim.Adam(params, lr=ADAM_LR).core.step


class TorchPeer:
    """A plain eager PyTorch loop, as its tutorials write it."""

    def __init__(self, threads, np):
        import torch  # ImportError is the harness's "skip torch"

        self.torch, self.np = torch, np
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.details = {"version": torch.__version__, "threads_seen": torch.get_num_threads()}

    def mlp(self, x, y, batch):
        torch = self.torch
        nn = torch.nn
        self.model = nn.Sequential(*dense_stack(nn.Linear, nn.ReLU, MLP_SIZES))
        optimizer = torch.optim.Adam(self.model.parameters(), lr=ADAM_LR)
        loss_fn = nn.CrossEntropyLoss()
        x_all, y_all = torch.from_numpy(x), torch.from_numpy(y)  # shares the arrays: no copy
        rng = self.np.random.default_rng(DATA_SEED)

        def epoch():
            for index in harness.shuffled_batches(rng, len(x), batch):
                index = torch.from_numpy(index)
                optimizer.zero_grad()
                loss = loss_fn(self.model(x_all[index]), y_all[index])
                loss.backward()
                optimizer.step()

        return epoch

    def predict(self, x):
        with self.torch.inference_mode():
            return self.model(self.torch.from_numpy(x)).numpy()

    def tiny(self, x, y, steps):
        torch = self.torch
        nn = torch.nn
        tiny = nn.Sequential(*dense_stack(nn.Linear, nn.Sigmoid, TINY_SIZES, output=nn.Sigmoid))
        optimizer = torch.optim.SGD(tiny.parameters(), lr=SGD_LR, momentum=SGD_MOMENTUM)
        loss_fn = nn.MSELoss()
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)

        def run():
            for _ in range(steps):
                optimizer.zero_grad()
                loss = loss_fn(tiny(inputs), targets)
                loss.backward()
                optimizer.step()

        def predict(batch):
            with torch.inference_mode():
                return tiny(torch.from_numpy(batch)).numpy()

        return run, predict

    def adam_step(self, np):
        params = [self.torch.zeros(g.shape, requires_grad=True) for g in mlp_gradients(np)]
        for p, g in zip(params, mlp_gradients(np)):
            p.grad = self.torch.from_numpy(g)
        return self.torch.optim.Adam(params, lr=ADAM_LR).step


class NumpyNet:
    """Dense layers in float32 with weights stored (in, out), initialised as PyTorch's Linear
    (U(±1/sqrt(fan_in)) for weights and biases); an activation after every layer ("identity" for logits)."""

    def __init__(self, np, sizes, hidden, output, rng):
        self.np = np
        self.params = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)
            self.params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                            rng.uniform(-bound, bound, fan_out).astype(np.float32)]
        self.activations = [hidden] * (len(sizes) - 2) + [output]

    def forward(self, x):
        """Every layer's output after its activation, x first (backward needs them all)."""
        np = self.np
        outputs = [x]
        for layer, activation in enumerate(self.activations):
            z = outputs[-1] @ self.params[2 * layer]
            z += self.params[2 * layer + 1]
            if activation == "relu":
                np.maximum(z, 0, out=z)
            elif activation == "sigmoid":
                np.negative(z, out=z)
                np.exp(z, out=z)
                z += 1
                np.reciprocal(z, out=z)
            outputs.append(z)
        return outputs

    def backward(self, outputs, grad):
        """Gradients in params order from grad = ∂loss/∂(last output); overwrites grad. The derivatives
        come from the outputs: ReLU's is output > 0, the sigmoid's output·(1 - output). No dX for the first
        layer."""
        grads = [None] * len(self.params)
        for layer in reversed(range(len(self.activations))):
            out = outputs[layer + 1]
            if self.activations[layer] == "relu":
                grad *= out > 0
            elif self.activations[layer] == "sigmoid":
                grad *= out * (1 - out)
            grads[2 * layer] = outputs[layer].T @ grad
            grads[2 * layer + 1] = grad.sum(axis=0)
            if layer:
                grad = grad @ self.params[2 * layer].T
        return grads


def cross_entropy_grad(np, logits, labels):
    """∂(mean softmax cross-entropy)/∂logits = (softmax - one-hot) / batch."""
    grad = logits - logits.max(axis=1, keepdims=True)
    np.exp(grad, out=grad)
    grad /= grad.sum(axis=1, keepdims=True)
    grad[np.arange(len(labels)), labels] -= 1
    grad /= len(labels)
    return grad


class NumpyAdam:
    """PyTorch's Adam (betas 0.9, 0.999, eps 1e-8), in place with one scratch array per parameter."""

    def __init__(self, np, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.np, self.params, self.lr, self.betas, self.eps = np, params, lr, betas, eps
        self.m, self.v, self.scratch = ([np.zeros_like(p) for p in params] for _ in range(3))
        self.t = 0

    def step(self, grads):
        np = self.np
        beta1, beta2 = self.betas
        self.t += 1
        step = -self.lr / (1 - beta1 ** self.t)
        root = 1 / math.sqrt(1 - beta2 ** self.t)
        for p, g, m, v, s in zip(self.params, grads, self.m, self.v, self.scratch):
            m *= beta1
            np.multiply(g, 1 - beta1, out=s)
            m += s
            v *= beta2
            np.multiply(g, g, out=s)
            s *= 1 - beta2
            v += s
            np.sqrt(v, out=s)  # s = sqrt(v / (1 - beta2^t)) + eps
            s *= root
            s += self.eps
            np.divide(m, s, out=s)
            s *= step
            p += s


class NumpySGD:
    """PyTorch's SGD with momentum (no dampening): buffer = momentum·buffer + g; p -= lr·buffer."""

    def __init__(self, np, params, lr, momentum):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.buffers = [np.zeros_like(p) for p in params]

    def step(self, grads):
        for p, g, buffer in zip(self.params, grads, self.buffers):
            buffer *= self.momentum
            buffer += g
            p -= self.lr * buffer


class NumpyPeer:
    """The reference: forward, backward and the optimizers written in NumPy (NumpyNet and friends)."""

    def __init__(self, threads, np):
        self.np = np
        self.details = {"version": np.__version__, **blas_threads_seen()}

    def mlp(self, x, y, batch):
        np = self.np
        self.net = NumpyNet(np, MLP_SIZES, "relu", "identity", np.random.default_rng(0))
        optimizer = NumpyAdam(np, self.net.params, lr=ADAM_LR)
        rng = np.random.default_rng(DATA_SEED)

        def epoch():
            for index in harness.shuffled_batches(rng, len(x), batch):
                outputs = self.net.forward(x[index])
                optimizer.step(self.net.backward(outputs, cross_entropy_grad(np, outputs[-1], y[index])))

        return epoch

    def predict(self, x):
        return self.net.forward(x)[-1]

    def tiny(self, x, y, steps):
        np = self.np
        net = NumpyNet(np, TINY_SIZES, "sigmoid", "sigmoid", np.random.default_rng(0))
        optimizer = NumpySGD(np, net.params, lr=SGD_LR, momentum=SGD_MOMENTUM)
        scale = 2.0 / y.size  # ∂(mean squared error)/∂output = 2·(output - y) / elements

        def run():
            for _ in range(steps):
                outputs = net.forward(x)
                optimizer.step(net.backward(outputs, (outputs[-1] - y) * scale))

        return run, lambda inputs: net.forward(inputs)[-1]

    def adam_step(self, np):
        grads = mlp_gradients(np)
        optimizer = NumpyAdam(np, [np.zeros_like(g) for g in grads], lr=ADAM_LR)
        return functools.partial(optimizer.step, grads)


class SklearnPeer:
    """MLPClassifier as the issue configures it: one fit call (which re-initialises) is one epoch."""

    def __init__(self, threads, np):
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        warnings.filterwarnings("ignore", category=ConvergenceWarning)  # max_iter=1 always "fails to converge"
        self.classifier = MLPClassifier(hidden_layer_sizes=(512, 256), activation="relu", solver="adam",
                                        learning_rate_init=ADAM_LR, batch_size=MLP_BATCH, max_iter=1,
                                        shuffle=True, random_state=0)
        self.details = {"version": sklearn.__version__, "numpy": np.__version__, **blas_threads_seen()}

    def mlp(self, x, y, batch):
        return functools.partial(self.classifier.fit, x, y)

    def predict(self, x):
        return self.classifier.predict_proba(x)

    def tiny(self, x, y, steps):
        return None  # MLPClassifier has no MSE-trained sigmoid regressor with SGD momentum: n/a

    def adam_step(self, np):
        return None  # MLPClassifier's Adam runs inside fit only: n/a


class JaxPeer:
    """JAX as its users write a training loop: a jit-compiled step (forward, grad, Adam) called per batch,
    parameters a pytree of arrays, the batch gathered in NumPy. Adam is written out (optax is not a
    dependency); the same PyTorch-style initialisation as the NumPy reference."""

    def __init__(self, threads, np):
        harness.confine_to_cpus(threads)
        import jax  # ImportError is the harness's "skip jax"
        import jax.numpy as jnp

        jax.config.update("jax_platforms", "cpu")
        self.jax, self.jnp, self.np = jax, jnp, np
        self.details = {"version": jax.__version__, "devices": [str(d) for d in jax.devices()]}

    def _params(self, sizes):
        net = NumpyNet(self.np, sizes, "relu", "identity", self.np.random.default_rng(0))
        return [self.jnp.asarray(p) for p in net.params]

    def _forward(self, params, x, hidden, output):
        jnp = self.jnp
        for layer in range(len(params) // 2):
            x = x @ params[2 * layer] + params[2 * layer + 1]
            last = layer == len(params) // 2 - 1
            kind = output if last else hidden
            x = jnp.maximum(x, 0) if kind == "relu" else self.jax.nn.sigmoid(x) if kind == "sigmoid" else x
        return x

    def _adam(self):
        jax, jnp = self.jax, self.jnp
        beta1, beta2, eps = 0.9, 0.999, 1e-8

        def init(params):
            return ([jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params], jnp.zeros((), jnp.int32))

        def update(params, grads, state):
            m, v, t = state
            t = t + 1
            m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads)]
            v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, grads)]
            scale = ADAM_LR * jnp.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
            params = [p - scale * mi / (jnp.sqrt(vi) + eps) for p, mi, vi in zip(params, m, v)]
            return params, (m, v, t)

        return init, update

    def mlp(self, x, y, batch):
        jax, jnp, np = self.jax, self.jnp, self.np
        init, update = self._adam()
        forward = functools.partial(self._forward, hidden="relu", output="identity")

        def loss(params, xb, yb):
            logits = forward(params, xb)
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1))

        @functools.partial(jax.jit, donate_argnums=(0, 1))
        def step(params, state, xb, yb):
            return update(params, jax.grad(loss)(params, xb, yb), state)

        self.params = self._params(MLP_SIZES)
        self.state = init(self.params)
        self.predict_fn = jax.jit(forward)
        rng = np.random.default_rng(DATA_SEED)

        def epoch():
            for index in harness.shuffled_batches(rng, len(x), batch):
                self.params, self.state = step(self.params, self.state, x[index], y[index])
            jax.block_until_ready(self.params)

        return epoch

    def predict(self, x):
        return np_array(self.predict_fn(self.params, x))

    def tiny(self, x, y, steps):
        jax, jnp = self.jax, self.jnp
        forward = functools.partial(self._forward, hidden="sigmoid", output="sigmoid")
        params = self._params(TINY_SIZES)
        velocity = [jnp.zeros_like(p) for p in params]

        def loss(params):
            return jnp.mean((forward(params, x) - y) ** 2)

        @jax.jit
        def sgd_step(params, velocity):
            grads = jax.grad(loss)(params)
            velocity = [SGD_MOMENTUM * v + g for v, g in zip(velocity, grads)]
            return [p - SGD_LR * v for p, v in zip(params, velocity)], velocity

        state = {"params": params, "velocity": velocity}
        predict = jax.jit(forward)

        def run():
            params, velocity = state["params"], state["velocity"]
            for _ in range(steps):
                params, velocity = sgd_step(params, velocity)
            jax.block_until_ready(params)
            state["params"], state["velocity"] = params, velocity

        return run, lambda inputs: np_array(predict(state["params"], inputs))

    def adam_step(self, np):
        jax = self.jax
        init, update = self._adam()
        grads = [self.jnp.asarray(g) for g in mlp_gradients(np)]
        state = {"params": [self.jnp.zeros_like(g) for g in grads]}
        state["adam"] = init(state["params"])
        update_jit = jax.jit(update, donate_argnums=(0, 2))

        def step():
            state["params"], state["adam"] = update_jit(state["params"], grads, state["adam"])
            jax.block_until_ready(state["params"])

        return step


def np_array(x):
    """A JAX array as NumPy (the copy is part of a predict call, as for torch's .numpy())."""
    import numpy as np
    return np.asarray(x)


def training_peer(peer_class):
    """A harness loader: the peer's library imported (ImportError skips it), then per item its call."""
    def load(threads):
        import numpy as np

        peer = peer_class(threads, np)
        details = {**peer.details, "peak_rss_after_import_bytes": peak_rss_bytes()}
        data = {}

        def prepare(item):
            if item["workload"] == "mlp":
                data["x"], data["y"] = x, y = make_mlp_data(np, item["samples"])
                return peer.mlp(x, y, item["batch"]), lambda: mlp_check(np, peer, x, y)
            if item["workload"] == "tiny":
                x4, y4 = make_xor_data(np)
                tiny = peer.tiny(x4, y4, item["steps"])
                if tiny is None:  # timed as a no-op; the parent drops its figures
                    return (lambda: None), lambda: {"not_applicable": True}
                run, predict = tiny
                return run, lambda: {"xor_correct": int(np.sum((np.asarray(predict(x4)) > 0.5) == (y4 > 0.5)))}
            if item["workload"] == "adam_step":
                step = peer.adam_step(np)
                if step is None:
                    return (lambda: None), lambda: {"not_applicable": True}
                return step, dict
            return functools.partial(peer.predict, data["x"][:item["batch"]]), dict

        return prepare, details

    return load


def mlp_check(np, peer, x, y):
    """Run once the setup epochs have: the peak RSS so far (imports, data, training: nothing else has run in
    this process yet), then the training accuracy on the first CHECK_SAMPLES samples."""
    rss = peak_rss_bytes()
    outputs = np.asarray(peer.predict(x[:CHECK_SAMPLES]))
    accuracy = float(np.mean(np.argmax(outputs, axis=1) == y[:CHECK_SAMPLES]))
    return {"peak_rss_bytes": rss, "data_bytes": int(x.nbytes + y.nbytes), "train_accuracy": accuracy}


PEER_LOADERS = {"bprop": training_peer(BpropPeer), "torch": training_peer(TorchPeer),
                "jax": training_peer(JaxPeer), "numpy": training_peer(NumpyPeer),
                "sklearn": training_peer(SklearnPeer)}


def child_main(args):
    # bprop and torch use NumPy only to build data: one OpenBLAS thread, so no idle pool spins.
    return harness.run_child(args, train_benchmark, blas_threads=1 if args.child in ("bprop", "torch") else None)


# ---------------------------------------------------------------------------------------------------
# Parent: the report


def blas_pools(details):
    """The BLAS pools NumPy loaded (blas_threads_seen), for harness.peer_line."""
    return [f"{pool['internal_api']} {pool['version']} ({pool['architecture']})" for pool in details.get("blas") or []]


def machine_header(args, records, load):
    size = SIZES["quick" if args.quick else "full"]
    title = (f"bprop training benchmark: {args.repeats} rounds; MLP {'-'.join(map(str, MLP_SIZES))} on "
             f"{size['samples']:,} samples (batch {MLP_BATCH}, Adam), tiny 2-8-1 net {size['steps']:,} XOR steps "
             f"per call (SGD momentum), predict at batch {' and '.join(map(str, PREDICT_BATCHES))}")
    return harness.report_header(title, args, records, load, blas_pools)


def bprop_gflops(records, threads):
    """bprop's achieved GEMM GFLOP/s in the MLP epoch and its share of the FMA peak (None if unknown)."""
    epoch = harness.item_results(harness.find_record(records, "bprop", threads), "workloads").get("MLP epoch")
    if not epoch:
        return None, None
    gflops = sum(gemm_flops_per_sample()) * epoch["per_second"] / 1e9
    _, peak = harness.fma_peak(records, threads)
    return gflops, gflops / peak if peak else None


def thread_table(args, records, threads):
    peers = [p for p in args.peer_list if harness.find_record(records, p, threads)]
    results = {p: harness.item_results(harness.find_record(records, p, threads), "workloads") for p in peers}
    others = [p for p in peers if p != "bprop"] if "bprop" in peers else []
    columns = [("", "workload", "<")] + [("measured", p, ">") for p in peers]
    columns += [("ratio, > 1 = bprop better", p, ">") for p in others]

    def row(title, values, ratios):
        return [title] + [values[p] for p in peers] + [ratios[p] for p in others]

    rows = []
    for item in workloads(args.quick):
        label = item["label"]
        found = {p: results[p].get(label) for p in peers}
        values = {p: "n/a" if r and r.get("not_applicable") else harness.rate_cell(r and r.get("per_second"))
                  for p, r in found.items()}
        ratios = {p: "n/a" if r and r.get("not_applicable") else
                  ("-" if not r or r.get("paired_ratio") is None else f"{r['paired_ratio']:.2f}")
                  for p, r in found.items()}
        rows.append(row(f"{label} ({item['unit']})", values, ratios))
        if item["workload"] == "mlp":
            rss = {p: r["peak_rss_bytes"] / MB if r else None for p, r in found.items()}
            ours = rss.get("bprop")
            rows.append(row("MLP peak RSS (MB)", {p: "-" if v is None else f"{v:,.0f}" for p, v in rss.items()},
                            {p: f"{rss[p] / ours:.2f}" if rss[p] and ours else "-" for p in others}))
    text = f"{threads} thread{'s' if threads != 1 else ''}\n{harness.format_table(columns, rows)}"
    return text + "".join(f"\n{line}" for line in table_notes(records, threads, peers, results))


def table_notes(records, threads, peers, results):
    forward, backward = gemm_flops_per_sample()
    gflops, share = bprop_gflops(records, threads)
    isa, peak = harness.fma_peak(records, threads)
    notes = []
    if gflops is not None:
        layers = " + ".join(f"{a}·{b}" for a, b in zip(MLP_SIZES, MLP_SIZES[1:]))
        peak_text = (f" = {100 * share:.0f}% of the {isa} FMA peak at {threads}t ({peak:.1f} GFLOP/s, measured now)"
                     if share is not None else " (no FMA peak measured for this ISA)")
        notes.append(f"bprop MLP epoch: {gflops:.1f} GFLOP/s{peak_text}")
        notes.append(f"  counting {forward + backward:,} GEMM flops/sample: forward {forward:,} = 2·({layers}),")
        notes.append(f"  backward {backward:,} = dW of every layer + dX of all but the first "
                     f"= 2 × forward - 2·{MLP_SIZES[0]}·{MLP_SIZES[1]}")
    epochs = {p: results[p].get("MLP epoch") for p in peers}
    if any(epochs.values()):
        at_import = {p: harness.find_record(records, p, threads)["result"]["details"]["peak_rss_after_import_bytes"]
                     for p in peers}
        imports = ", ".join(f"{p} {rss / MB:,.0f}" for p, rss in at_import.items())
        data = next(e["data_bytes"] for e in epochs.values() if e)
        notes.append(f"peak RSS after import, before data (MB): {imports}; the training data: {data / MB:,.0f} MB")
        accuracy = ", ".join(f"{p} {e['train_accuracy']:.2f}" for p, e in epochs.items() if e)
        xor = ", ".join(f"{p} {t['xor_correct']}/4" for p in peers for t in [results[p].get("tiny net")]
                        if t and "xor_correct" in t)
        notes.append(f"checks: MLP training accuracy on {CHECK_SAMPLES:,} samples after setup ({accuracy}); "
                     f"XOR patterns right ({xor or 'none'})")
    return notes


def print_train_report(args, records, load):
    harness.print_report(args, records, machine_header(args, records, load), [RATIO_NOTE],
                         lambda threads: thread_table(args, records, threads))


def write_json(path, args, records, load):
    config = {"threads": args.thread_counts, "peers": args.peer_list, "repeats": args.repeats, "quick": args.quick,
              **{key: SIZES["quick" if args.quick else "full"][key] for key in ("samples", "steps")}}
    forward, backward = gemm_flops_per_sample()
    achieved = {}
    for threads in args.thread_counts:
        gflops, share = bprop_gflops(records, threads)
        if gflops is not None:
            achieved[str(threads)] = {"gflops": gflops, "share_of_fma_peak": share,
                                      "fma_peak_gflops": harness.fma_peak(records, threads)[1]}
    harness.write_json(
        path, config, load, records,
        cpu_info=harness.reference_cpu_info(records),
        gemm_flops_per_sample={"forward": forward, "backward": backward, "total": forward + backward},
        bprop_mlp_epoch_gflops=achieved,
        method="per thread count, one child per peer; each round every child runs every workload once (one MLP "
               "epoch, a calibrated loop of the others), in an order rotating by round; per_second from the median "
               "over rounds; paired_ratio = median over rounds of peer time / bprop time in the same round "
               "(> 1: bprop faster); peak_rss_bytes = ru_maxrss right after the MLP's setup epochs")


def parent_main(args):
    return harness.parent_main(args, train_benchmark(args), print_train_report, write_json)


if __name__ == "__main__":
    sys.exit(harness.script_main(parse_args, child_main, parent_main))
