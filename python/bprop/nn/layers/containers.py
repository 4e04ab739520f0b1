"""Layers holding layers: LayerStack (what Sequential and Residual share) and Residual, with the helpers a
stack of layers uses (the dtype they fix, the input width they fix, their tensors' names and shapes)."""
import numpy as np

from ..._dtypes import core_class
from .base import Layer, deserialize, layer_class, serialize

__all__ = ["LayerStack", "Residual"]


def fixed_dtype(layers, where):
    """The one dtype of the layers that fix theirs, or None when none does (the stack then takes the dtype
    it is run in); TypeError on a mix."""
    fixed = {layer._fixed_dtype for layer in layers if layer._fixed_dtype is not None}
    if len(fixed) > 1:
        raise TypeError(f"[{where}] layers mix dtypes {sorted(d.name for d in fixed)}; make them with one dtype")
    return fixed.pop() if fixed else None


def indexed_names(layers, kind):
    """(f"{i}.{name}", tensor) over the layers' named parameters or buffers, i the layer's index."""
    return [(f"{i}.{name}", p) for i, layer in enumerate(layers) for name, p in getattr(layer, kind)()]


def check_layers(layers, where):
    if isinstance(layers, (Layer, np.ndarray, str, dict)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"[{where}] expects a list of layers; got {type(layers).__name__}")
    layers = list(layers)
    if not layers:
        raise ValueError(f"[{where}] needs at least one layer")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"[{where}] item {i} is a {type(layer).__name__}, not a bprop layer")
        if layer._written_in_python() and type(layer).forward is Layer.forward:
            raise TypeError(f"[{where}] item {i} ({type(layer).__name__}) is a Python subclass of nn.Layer that "
                            "defines no forward(self, x); define it (on Tensors, or on numpy arrays with a "
                            "backward(self, x, y, dy)): see help(bprop.nn.Layer)")
    return layers


class LayerStack:
    """What holds layers in order (Sequential, Residual): their parameters and buffers, gathered in order,
    named by the layer's index ("0.weight")."""

    def parameters(self):
        """Trainable parameters in a fixed order; handles share the layers' storage (for optimizers)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def buffers(self):
        return [b for layer in self.layers for b in layer.buffers()]

    def named_parameters(self):
        return indexed_names(self.layers, "named_parameters")

    def named_buffers(self):
        return indexed_names(self.layers, "named_buffers")


class Residual(LayerStack, Layer):
    """y = x + f(x), with f the given layers applied in order; f must keep the width."""

    def __init__(self, layers):
        super().__init__()
        self.layers = check_layers(layers, "Residual")
        self._fixed_dtype = fixed_dtype(self.layers, "Residual")

    keeps_shape = True

    def implied_input_shape(self):
        return first_input_shape(self.layers)

    def _make_core(self, dtype):
        return core_class("Residual", dtype)([layer.core(dtype) for layer in self.layers])

    def get_config(self):
        return {"layers": [serialize(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config):
        return cls([deserialize(entry) for entry in config_layers(config, "Residual")])

    @classmethod
    def tensor_shapes(cls, config):
        return stack_tensor_shapes(config_layers(config, "Residual"))

    def __repr__(self):
        return f"Residual({self.layers!r})"


def first_input_shape(layers):
    """The input sample shape the layers imply: the first one a layer implies, the layers before it keeping
    the shape they are given; None when none implies one before a layer that changes the shape."""
    for layer in layers:
        shape = layer.implied_input_shape()
        if shape is not None or not layer.keeps_shape:
            return shape
    return None



def config_layers(config, where):
    """config["layers"], checked to be a list (of layer entries, which deserialize checks)."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"[{where}.from_config] config must be a dict with a 'layers' list (get_config()'s "
                         f"output); got {config!r:.100}")
    return config["layers"]


def stack_tensor_shapes(entries):
    """{"<index>.<name>": shape} over serialized layers, as the stack holding them names its tensors."""
    shapes = {}
    for i, entry in enumerate(entries):
        for name, shape in layer_class(entry).tensor_shapes(entry["config"]).items():
            shapes[f"{i}.{name}"] = shape
    return shapes
