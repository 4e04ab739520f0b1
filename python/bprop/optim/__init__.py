"""Optimizers with fused C++ updates (PyTorch's formulas and defaults), gradient clipping and
learning-rate schedules evaluated in C++ at every step.

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, clipnorm=1.0)
    opt = optim.AdamW(lr=1e-3, schedule=optim.LinearWarmup(100, then=optim.CosineDecay(10_000, per="step"), per="step"))
"""
from . import schedules
from .optimizers import SGD, Adagrad, Adam, AdamW, GradientHookHandle, Optimizer, RMSprop, deserialize, get
from .schedules import CosineDecay, ExponentialDecay, LinearWarmup, Schedule, StepDecay

__all__ = [
    "Optimizer", "GradientHookHandle", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "deserialize",
    "Schedule", "StepDecay", "ExponentialDecay", "CosineDecay", "LinearWarmup", "schedules",
]
