"""Handwritten digits (scikit-learn's bundled 8x8 images): an MLP with dropout, Adam and early stopping.

Run: python examples/digits.py   (needs scikit-learn: pip install scikit-learn)
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import bprop
from bprop import callbacks, nn, optim

data = load_digits()
x = (data.data / 16.0).astype(np.float32)
x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.25, random_state=0,
                                                    stratify=data.target)

bprop.manual_seed(0)
model = bprop.Sequential([
    nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1),
    nn.Linear(128, 10),
])
model.compile(optimizer=optim.Adam(lr=1e-3), loss=nn.CrossEntropy(), metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs=60, batch_size=32, validation_split=0.1, seed=0, verbose=1,
                    callbacks=[callbacks.EarlyStopping(patience=10, restore_best=True)])
scores = model.evaluate(x_test, y_test)
print(f"test accuracy {scores['accuracy']:.4f} (loss {scores['loss']:.4f}) after {len(history.epoch)} epochs")
assert scores["accuracy"] >= 0.97, "expected at least 97% test accuracy"
