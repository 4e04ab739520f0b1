"""A small residual network (ResNet-style) that tells five geometric shapes apart in 32x32 colour images.

The images are drawn here with NumPy (no download): a circle, a ring, a square, a triangle or a plus sign,
at a random place, size and angle, in a random colour on a random background, with noise. The network:

    stem         3x3 convolution, batch norm, ReLU, 2x2 max pool                      -> (16, 16, 16)
    block        x + [conv, BN, ReLU, conv, BN](x), then ReLU                         -> (16, 16, 16)
    downsample   [strided conv, BN, ReLU, conv, BN](x) + [strided 1x1 conv, BN](x),
                 then ReLU                                                            -> (32, 8, 8)
    block        as above, with 32 channels                                           -> (32, 8, 8)
    head         global average pooling, Linear to the 5 classes                     -> (5,)

The skip connections let each block learn a correction to its input; where the shape changes (more
channels, half the resolution) a 1x1 convolution (the projection shortcut) maps the input to it.
Global average pooling makes the head blind to where a shape is, which is what we want here.

Run: python examples/shapes_resnet.py   (about a minute on two cores; it prints its wall time)
"""
import time

import numpy as np

import bprop
from bprop import nn, optim

CLASSES = ["circle", "ring", "square", "triangle", "plus"]
SIZE = 32


def polygon(u, v, sides, radius):
    """Inside a regular polygon centred at (0, 0) with a vertex on the u axis: on the inner side of every edge."""
    inside = np.ones(u.shape, bool)
    for k in range(sides):
        normal = (2 * k + 1) * np.pi / sides  # the direction of edge k's outward normal
        inside &= u * np.cos(normal) + v * np.sin(normal) <= radius * np.cos(np.pi / sides)
    return inside


def make_shapes(n, rng):
    """n images (n, 3, SIZE, SIZE) in [0, 1] and their labels, about as many of each class."""
    labels = rng.permutation(np.arange(n) % len(CLASSES))
    radius = rng.uniform(6, 13, n)[:, None, None]
    cx, cy = (rng.uniform(radius[:, 0, 0], SIZE - 1 - radius[:, 0, 0])[:, None, None] for _ in range(2))
    angle = rng.uniform(0, 2 * np.pi, n)[:, None, None]
    y, x = np.mgrid[:SIZE, :SIZE].astype(np.float64)
    dx, dy = x - cx, y - cy
    u, v = dx * np.cos(angle) + dy * np.sin(angle), -dx * np.sin(angle) + dy * np.cos(angle)  # rotated axes
    distance = np.hypot(dx, dy)
    arm = 0.3 * radius
    masks = [
        distance <= radius,                                                           # circle
        (distance <= radius) & (distance >= 0.55 * radius),                           # ring
        polygon(u, v, 4, radius),                                                     # square
        polygon(u, v, 3, radius),                                                     # triangle
        ((np.abs(u) <= arm) & (np.abs(v) <= radius)) | ((np.abs(v) <= arm) & (np.abs(u) <= radius)),  # plus
    ]
    mask = np.choose(labels[:, None, None], masks)

    # Colours: a shape colour at least 0.5 away (Euclidean, RGB in [0, 1]) from the background's.
    background = rng.uniform(0, 1, (n, 3))
    colour = rng.uniform(0, 1, (n, 3))
    while (close := np.linalg.norm(colour - background, axis=1) < 0.5).any():
        colour[close] = rng.uniform(0, 1, (close.sum(), 3))
    images = np.where(mask[:, None], colour[:, :, None, None], background[:, :, None, None])
    images += rng.normal(0, 0.08, images.shape)
    return np.clip(images, 0, 1).astype(np.float32), labels


def residual_block(channels):
    """x + f(x), then ReLU: the identity shortcut."""
    return [nn.Residual([nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels)]),
            nn.ReLU()]


def downsample_block(c_in, c_out):
    """f(x) + g(x), then ReLU: f halves the resolution and changes the channels; g (a strided 1x1 convolution
    and batch norm, the projection shortcut) brings x to f's output shape."""
    return [nn.Residual([nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out)],
                        shortcut=[nn.Conv2d(c_in, c_out, 1, stride=2), nn.BatchNorm2d(c_out)]),
            nn.ReLU()]


start = time.perf_counter()
rng = np.random.default_rng(0)
x_train, y_train = make_shapes(8000, rng)
x_test, y_test = make_shapes(2000, rng)
print(f"{len(x_train)} training and {len(x_test)} test images of shape {x_train.shape[1:]}, classes {CLASSES}")

bprop.manual_seed(0)
model = bprop.Sequential([
    nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),  # stem
    *residual_block(16),
    *downsample_block(16, 32),
    *residual_block(32),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (32, 8, 8) -> (32, 1, 1) -> (32,)
    nn.Linear(32, len(CLASSES)),
]).build(x_train.shape[1:])  # the sample shape, so that summary shows every output shape
model.summary()

EPOCHS = 8
model.compile(optimizer=optim.Adam(lr=3e-3, schedule=optim.CosineDecay(EPOCHS, per="epoch")),
              loss=nn.CrossEntropy(), metrics=["accuracy"])
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, seed=0, verbose=2)

predicted = model.predict(x_test).argmax(axis=1)
accuracy = float((predicted == y_test).mean())
per_class = ", ".join(f"{name} {(predicted[y_test == c] == c).mean():.3f}" for c, name in enumerate(CLASSES))
print(f"test accuracy {accuracy:.4f} ({per_class})")
# Printed, not asserted: on a shared machine the time says more about the neighbours than about bprop.
print(f"wall time {time.perf_counter() - start:.1f} s (data, training and test)")
assert accuracy >= 0.93, "expected at least 93% test accuracy"
