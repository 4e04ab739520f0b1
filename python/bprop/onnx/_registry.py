"""The converters, one per layer class: ``@converter(nn.Linear)`` registers a function
``convert(layer, step, x) -> y`` that writes the layer's nodes into step.graph and returns its output's name
(step: ExportStep, the layer's place in the network and its sample shapes). Found by the layer's class; a
subclass of a registered class uses its converter only when it keeps that class's C++ layer."""
from ..nn.layers.base import Layer

_CONVERTERS = {}


def converter(*classes):
    """Decorator registering a converter for these layer classes (one converter per class)."""
    def register(function):
        for cls in classes:
            if cls in _CONVERTERS:
                raise RuntimeError(f"[bprop.onnx] two converters for {cls.__name__}")
            _CONVERTERS[cls] = function
        return function
    return register


def find_converter(layer):
    """The converter of `layer`, or None when it has none (a layer written in Python, a class of your own).
    A subclass of a registered class is converted as that class only if it computes what that class does:
    it builds the same C++ layer (does not override _make_core) and runs no Python forward."""
    cls = type(layer)
    if cls in _CONVERTERS:
        return _CONVERTERS[cls]
    if not isinstance(layer, Layer) or cls._written_in_python():
        return None
    for base in cls.__mro__[1:]:
        if base in _CONVERTERS:
            return _CONVERTERS[base] if cls._make_core is base._make_core else None
    return None


def registered_classes():
    """The layer classes that have a converter."""
    return list(_CONVERTERS)
