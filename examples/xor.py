"""XOR with a 2-2-1 sigmoid network, trained by SGD with momentum on the mean squared error.

The smallest problem a single layer cannot solve: it needs the hidden layer and backpropagation.
Run: python examples/xor.py
"""
import numpy as np

import bprop
from bprop import nn, optim
from bprop.datasets import xor

x, y = xor()
bprop.manual_seed(1)
model = bprop.Sequential([nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()])
model.compile(optimizer=optim.SGD(lr=0.5, momentum=0.9), loss=nn.MSE(), metrics=["accuracy"])
history = model.fit(x, y, epochs=2000, batch_size=4, verbose=0, seed=0)

print(f"final loss {history.history['loss'][-1]:.5f}, accuracy {history.history['accuracy'][-1]:.2f}")
for inputs, output in zip(x, model.predict(x)):
    print(f"  {inputs.astype(int)} -> {output[0]:.3f}")
assert np.array_equal(model.predict(x) > 0.5, y > 0.5), "XOR was not learned"
