"""Handwritten digits (scikit-learn's 8x8 images) with a small convolutional network.

The images keep their shape, (1, 8, 8) each, so the convolutions see which pixels are neighbours (the MLP of
digits.py sees 64 unrelated numbers). Two 3x3 convolutions with batch normalisation, a 2x2 max pool, dropout
and one Linear layer reach about 99% test accuracy. The script trains three models that differ only in
their seed and checks the median, so one lucky or unlucky initialisation does not decide the result.

Run: python examples/digits_cnn.py   (needs scikit-learn: pip install scikit-learn)
"""
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import bprop
from bprop import nn, optim

EPOCHS = 20

data = load_digits()
x = (data.images / 16.0).astype(np.float32)[:, None, :, :]  # (N, 1, 8, 8): channels first, pixels in [0, 1]
x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.25, random_state=0,
                                                    stratify=data.target)
print(f"{len(x_train)} training images, {len(x_test)} test images of shape {x_train.shape[1:]}")


def make_model():
    return bprop.Sequential([
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),   # (16, 8, 8)
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),  # (32, 8, 8)
        nn.MaxPool2d(2),                                                 # (32, 4, 4)
        nn.Flatten(), nn.Dropout(0.3),
        nn.Linear(32 * 4 * 4, 10),
    ]).build((1, 8, 8))  # the sample shape, so that summary can show every layer's output shape


start = time.perf_counter()
accuracies = []
for seed in range(3):
    bprop.manual_seed(seed)  # initial weights, shuffles and dropout masks
    model = make_model()
    if seed == 0:
        model.summary()
    # The learning rate falls along a cosine to zero over the run: large steps first, fine ones at the end.
    model.compile(optimizer=optim.Adam(lr=3e-3, schedule=optim.CosineDecay(EPOCHS, per="epoch")),
                  loss=nn.CrossEntropy(), metrics=["accuracy"])
    print(f"-- seed {seed}")
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=2)
    accuracy = model.evaluate(x_test, y_test)["accuracy"]
    accuracies.append(accuracy)
    print(f"seed {seed}: test accuracy {accuracy:.4f}")

median = float(np.median(accuracies))
print(f"test accuracies {', '.join(f'{a:.4f}' for a in accuracies)}; median {median:.4f} "
      f"({time.perf_counter() - start:.1f} s)")
assert median >= 0.985, "expected a median test accuracy of at least 98.5% over the three seeds"
