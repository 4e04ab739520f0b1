"""Regression: learn y = sin(3x₀)·x₁ + noise with an MLP, the Huber loss, AdamW and a cosine schedule.

Run: python examples/regression.py
"""
import numpy as np

import bprop
from bprop import nn, optim

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (4000, 2)).astype(np.float32)
y = (np.sin(3 * x[:, :1]) * x[:, 1:] + rng.normal(0, 0.05, (4000, 1))).astype(np.float32)
x_train, y_train, x_test, y_test = x[:3200], y[:3200], x[3200:], y[3200:]

bprop.manual_seed(0)
model = bprop.Sequential([
    nn.Linear(2, 64), nn.GELU(),
    nn.Linear(64, 64), nn.GELU(),
    nn.Linear(64, 1),
])
epochs, batch_size = 80, 64
steps = epochs * -(-len(x_train) // batch_size)
model.compile(optimizer=optim.AdamW(lr=3e-3, weight_decay=1e-4, schedule=optim.CosineDecay(steps, per="step")),
              loss=nn.Huber(delta=0.1), metrics=["mse", "mae"])
model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, validation_split=0.1, seed=0, verbose=2)
scores = model.evaluate(x_test, y_test)
print(f"test mse {scores['mse']:.5f}, mae {scores['mae']:.4f} (noise variance 0.0025)")
assert scores["mse"] < 0.01, "the regression did not fit"
