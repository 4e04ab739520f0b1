"""Losses as functions of tensors, as ``torch.nn.functional``: each returns a scalar tensor recorded in
the graph, computed by the same C++ loss the trainer uses (value and gradient in one pass).

    loss = nn.functional.cross_entropy(net(x), labels)
    loss.backward()

Targets are arrays (or tensors, read as constants): class indices or probabilities for cross_entropy,
values shaped like the output otherwise. ``sample_weight`` (rows,) multiplies each row's terms.
"""
from .losses import MAE, MSE, BinaryCrossEntropy, CrossEntropy, Huber

__all__ = ["cross_entropy", "mse", "mse_loss", "mae", "l1_loss", "huber", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]


def cross_entropy(output, target, *, sample_weight=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (rows, classes), as torch.nn.functional.cross_entropy."""
    return CrossEntropy(label_smoothing, reduction=reduction).on_tensor(output, target, sample_weight)


def mse(output, target, *, sample_weight=None, reduction="mean"):
    """Mean squared error, as torch.nn.functional.mse_loss."""
    return MSE(reduction=reduction).on_tensor(output, target, sample_weight)


def mae(output, target, *, sample_weight=None, reduction="mean"):
    """Mean absolute error, as torch.nn.functional.l1_loss."""
    return MAE(reduction=reduction).on_tensor(output, target, sample_weight)


def huber(output, target, *, delta=1.0, sample_weight=None, reduction="mean"):
    """Huber loss, as torch.nn.functional.huber_loss."""
    return Huber(delta, reduction=reduction).on_tensor(output, target, sample_weight)


def binary_cross_entropy(output, target, *, sample_weight=None, reduction="mean"):
    """Binary cross-entropy of logits, as torch.nn.functional.binary_cross_entropy_with_logits."""
    return BinaryCrossEntropy(reduction=reduction).on_tensor(output, target, sample_weight)


# PyTorch's names for the same functions.
mse_loss, l1_loss, huber_loss, binary_cross_entropy_with_logits = mse, mae, huber, binary_cross_entropy
