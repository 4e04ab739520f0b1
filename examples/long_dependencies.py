"""The adding problem (Hochreiter and Schmidhuber, 1997): why the LSTM was invented.

Each sample is a sequence of T steps with two numbers per step: a value drawn from [0, 1] and a marker that
is 1 at exactly two steps (one in each half of the sequence) and 0 elsewhere. The target is the sum of the
two marked values. A network that ignores the inputs and always answers 1 scores a mean squared error of
about 0.167; solving the task means carrying the first marked value across tens of steps to the end.

Backpropagation through time multiplies the gradient by the recurrent Jacobian once per step. In a plain
RNN (h_t = tanh(W x_t + U h_{t-1})) that product shrinks geometrically, so the loss barely feels the early
steps: the vanishing gradient. The LSTM's cell state is updated additively, c_t = f ⊙ c_{t-1} + i ⊙ g,
and with forget gates near 1 the gradient reaches far back. The script trains both on the same data and
budget, then prints ‖∂L/∂x_t‖ per time step for each: the RNN's fall by orders of magnitude towards the
start of the sequence, the LSTM's do not.

Run: python examples/long_dependencies.py
"""
import time

import numpy as np

import bprop
from bprop import nn, optim

STEPS = 100          # sequence length T: a plain RNN fails here within the budget below
HIDDEN = 32
EPOCHS = 40
TRAIN, TEST = 10_000, 1_000


def adding_problem(n, rng):
    values = rng.uniform(0, 1, (n, STEPS))
    markers = np.zeros((n, STEPS))
    first = rng.integers(0, STEPS // 2, n)        # one marker in each half
    second = rng.integers(STEPS // 2, STEPS, n)
    rows = np.arange(n)
    markers[rows, first] = markers[rows, second] = 1
    x = np.stack([values, markers], axis=-1).astype(np.float32)  # (n, T, 2)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return x, y


def make_model(cell):
    return bprop.Sequential([cell(2, HIDDEN), nn.Linear(HIDDEN, 1)]).build((STEPS, 2))


def input_gradient_norms(model, x, y):
    """‖∂L/∂x_t‖ for every step t, averaged over the samples: how much each step can still teach."""
    inputs = bprop.tensor(x, requires_grad=True)
    loss = ((model(inputs) - bprop.tensor(y)) ** 2).mean()
    loss.backward()
    grad = np.asarray(inputs.grad)  # (n, T, 2)
    return np.linalg.norm(grad, axis=-1).mean(axis=0)


rng = np.random.default_rng(0)
x_train, y_train = adding_problem(TRAIN, rng)
x_test, y_test = adding_problem(TEST, rng)
print(f"adding problem, T = {STEPS}: {TRAIN} training and {TEST} test sequences; "
      f"always answering 1 scores MSE {np.mean((y_test - 1) ** 2):.3f}")

start = time.perf_counter()
results = {}
for name, cell in (("RNN", nn.RNN), ("LSTM", nn.LSTM)):
    bprop.manual_seed(0)
    model = make_model(cell)
    model.compile(optim.Adam(lr=3e-3), nn.MSE())
    at_start = input_gradient_norms(model, x_test[:256], y_test[:256])
    print(f"-- {name}")
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=50, verbose=2)
    mse = model.evaluate(x_test, y_test)["loss"]
    results[name] = (mse, at_start, input_gradient_norms(model, x_test[:256], y_test[:256]))
    print(f"{name}: test MSE {mse:.4f}")

print(f"\n‖∂L/∂x_t‖ per time step (mean over 256 test sequences), at initialisation and after training:")
shown = sorted({0, STEPS // 4, STEPS // 2, 3 * STEPS // 4, STEPS - 1})
print("step        " + "".join(f"{t:>10d}" for t in shown))
for name, (_, initial, trained) in results.items():
    for when, norms in (("init", initial), ("trained", trained)):
        print(f"{name:<4} {when:<7}" + "".join(f"{norms[t]:10.2e}" for t in shown))

rnn_mse, lstm_mse = results["RNN"][0], results["LSTM"][0]
rnn_ratio = results["RNN"][2][0] / results["RNN"][2][-1]
lstm_ratio = results["LSTM"][2][0] / results["LSTM"][2][-1]
print(f"\nafter training, the first step's gradient over the last's: RNN {rnn_ratio:.1e}, LSTM {lstm_ratio:.1e}")
print(f"test MSE: RNN {rnn_mse:.4f}, LSTM {lstm_mse:.4f} ({time.perf_counter() - start:.1f} s)")
assert lstm_mse < 0.01, "expected the LSTM to solve the adding problem (test MSE below 0.01)"
assert rnn_mse > 0.05, "expected the plain RNN to fail within this budget (test MSE above 0.05)"
assert lstm_ratio > 1e-2 > 1e3 * rnn_ratio, "expected the trained RNN's gradient to vanish and the LSTM's to reach back"
