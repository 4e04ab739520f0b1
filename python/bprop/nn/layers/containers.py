"""Layers holding layers: LayerStack (what Sequential and Residual share) and Residual, with the helpers a
stack of layers uses (the dtype they fix, the input width they fix, their tensors' names and shapes)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np

from ..._dtypes import core_class
from .base import Layer, deserialize, layer_class, serialize

if TYPE_CHECKING:
    from ..._core import Parameter_float32, Parameter_float64

    Parameter = Union[Parameter_float32, Parameter_float64]  # what bprop.Parameter(...) makes

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


def check_layers(layers, where, argument=None):
    """layers as a list of bprop layers, checked; `argument` names the argument in messages when it is not
    the class's first (Residual's shortcut)."""
    where = f"[{where}]" if argument is None else f"[{where}] {argument}:"
    if isinstance(layers, (Layer, np.ndarray, str, dict)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"{where} expects a list of layers; got {type(layers).__name__}")
    layers = list(layers)
    if not layers:
        raise ValueError(f"{where} needs at least one layer")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"{where} item {i} is a {type(layer).__name__}, not a bprop layer")
        if layer._written_in_python() and type(layer).forward is Layer.forward:
            raise TypeError(f"{where} item {i} ({type(layer).__name__}) is a Python subclass of nn.Layer that "
                            "defines no forward(self, x); define it (on Tensors, or on numpy arrays with a "
                            "backward(self, x, y, dy)): see help(bprop.nn.Layer)")
    return layers


class LayerStack:
    """What holds layers in order (Sequential, Residual): their parameters and buffers, gathered in order,
    named by the layer's index ("0.weight")."""

    _owns_parameters = False
    layers: List[Layer]

    def parameters(self) -> List[Parameter]:
        """The trainable parameters of every layer, layer by layer, in a fixed order.

        The handles share the layers' storage: an optimizer made with them updates the layers.

        Returns
        -------
        list of Parameter
            The parameters.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)])
        >>> [p.shape for p in model.parameters()]
        [(4, 3), (3,), (3, 2), (2,)]
        """
        return [p for layer in self.layers for p in layer.parameters()]

    def buffers(self) -> List[Parameter]:
        """The saved but untrained state of every layer (BatchNorm's running statistics), in order.

        Returns
        -------
        list of Parameter
            The buffers.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(4, 3), nn.BatchNorm(3)])
        >>> [b.name for b in model.buffers()]
        ['running_mean', 'running_var']
        """
        return [b for layer in self.layers for b in layer.buffers()]

    def named_parameters(self) -> List[Tuple[str, Parameter]]:
        """The trainable parameters, named by their layer's index and their own name ("0.weight").

        Returns
        -------
        list of (str, Parameter)
            (name, parameter) pairs, in the order of `parameters`.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)])
        >>> [name for name, _ in model.named_parameters()]
        ['0.weight', '0.bias', '2.weight', '2.bias']
        """
        return indexed_names(self.layers, "named_parameters")

    def named_buffers(self) -> List[Tuple[str, Parameter]]:
        """The buffers, named by their layer's index and their own name ("1.running_mean").

        Returns
        -------
        list of (str, Parameter)
            (name, buffer) pairs, in the order of `buffers`.

        Examples
        --------
        >>> model = bprop.Sequential([nn.Linear(4, 3), nn.BatchNorm(3)])
        >>> [name for name, _ in model.named_buffers()]
        ['1.running_mean', '1.running_var']
        """
        return indexed_names(self.layers, "named_buffers")


class Residual(LayerStack, Layer):
    """A residual block: y = f(x) + g(x), with f the given layers and g a shortcut.

    f applies the given layers in order; g applies the shortcut's layers in order or, without a shortcut
    (None), is the identity (y = x + f(x); f must then keep the sample shape). A projection shortcut maps x
    to f's output shape where a ResNet stage changes channels or resolution. The block's tensors are named
    "<index>.<name>", the shortcut's "shortcut.<index>.<name>".

    Parameters
    ----------
    layers : list of Layer
        The layers of f, in order (at least one).
    shortcut : list of Layer, optional
        The layers of g, in order; None (the default) for the identity.

    Raises
    ------
    TypeError
        If `layers` or `shortcut` is not a list of bprop layers, or the layers mix dtypes.
    ValueError
        If `layers` or `shortcut` is empty.

    Examples
    --------
    >>> block = nn.Residual([nn.Linear(4, 4), nn.ReLU()])
    >>> block.forward(np.ones((2, 4), np.float32)).shape
    (2, 4)
    >>> stage = nn.Residual([nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
    ...                      nn.Conv2d(32, 32, 3, padding=1)], shortcut=[nn.Conv2d(16, 32, 1, stride=2)])
    >>> stage.forward(np.ones((1, 16, 8, 8), np.float32)).shape
    (1, 32, 4, 4)
    """

    def __init__(self, layers: Iterable[Layer], shortcut: Optional[Iterable[Layer]] = None) -> None:
        super().__init__()
        self.layers = check_layers(layers, "Residual")
        self.shortcut = None if shortcut is None else check_layers(shortcut, "Residual", "shortcut")
        self._fixed_dtype = fixed_dtype(self.layers + self._shortcut_layers, "Residual")
        # With a shortcut the output has its shape, which is the input's when its layers all keep theirs.
        self.keeps_shape = all(layer.keeps_shape for layer in self._shortcut_layers)

    @property
    def _shortcut_layers(self):
        return self.shortcut or []

    def _constructor_arguments(self):
        """What pickling makes this Residual again from (its layers, each pickled as itself)."""
        return self.layers, self.shortcut

    def implied_input_shape(self) -> Optional[Tuple[int, ...]]:
        """The sample shape the block's first layers (else its shortcut's) imply, or None.

        Returns
        -------
        tuple of int or None
            The per-sample input shape, or None when no layer implies one.

        Examples
        --------
        >>> nn.Residual([nn.ReLU(), nn.Linear(4, 4)]).implied_input_shape()
        (4,)
        """
        shape = first_input_shape(self.layers)
        return shape if shape is not None else first_input_shape(self._shortcut_layers)

    def _make_core(self, dtype):
        return core_class("Residual", dtype)([layer.core(dtype) for layer in self.layers],
                                             [layer.core(dtype) for layer in self._shortcut_layers])

    # -- the block's tensors (LayerStack's), then the shortcut's, as the C++ layer lists them ---------------
    def parameters(self) -> List[Parameter]:
        """The trainable parameters of the block's layers, then of the shortcut's, in a fixed order.

        Returns
        -------
        list of Parameter
            The parameters, as the C++ layer lists them.

        Examples
        --------
        >>> block = nn.Residual([nn.Linear(4, 3)], shortcut=[nn.Linear(4, 3, bias=False)])
        >>> [p.shape for p in block.parameters()]
        [(4, 3), (3,), (4, 3)]
        """
        return super().parameters() + [p for layer in self._shortcut_layers for p in layer.parameters()]

    def buffers(self) -> List[Parameter]:
        """The buffers of the block's layers, then of the shortcut's.

        Returns
        -------
        list of Parameter
            The buffers (BatchNorm's running statistics).

        Examples
        --------
        >>> block = nn.Residual([nn.Linear(4, 4), nn.BatchNorm(4)])
        >>> [b.name for b in block.buffers()]
        ['running_mean', 'running_var']
        """
        return super().buffers() + [b for layer in self._shortcut_layers for b in layer.buffers()]

    def named_parameters(self) -> List[Tuple[str, Parameter]]:
        """The trainable parameters, named "<index>.<name>", the shortcut's "shortcut.<index>.<name>".

        Returns
        -------
        list of (str, Parameter)
            (name, parameter) pairs, in the order of `parameters`.

        Examples
        --------
        >>> block = nn.Residual([nn.Linear(4, 3)], shortcut=[nn.Linear(4, 3)])
        >>> [name for name, _ in block.named_parameters()]
        ['0.weight', '0.bias', 'shortcut.0.weight', 'shortcut.0.bias']
        """
        return super().named_parameters() + shortcut_names(indexed_names(self._shortcut_layers, "named_parameters"))

    def named_buffers(self) -> List[Tuple[str, Parameter]]:
        """The buffers, named "<index>.<name>", the shortcut's "shortcut.<index>.<name>".

        Returns
        -------
        list of (str, Parameter)
            (name, buffer) pairs, in the order of `buffers`.

        Examples
        --------
        >>> block = nn.Residual([nn.Linear(4, 4), nn.BatchNorm(4)])
        >>> [name for name, _ in block.named_buffers()]
        ['1.running_mean', '1.running_var']
        """
        return super().named_buffers() + shortcut_names(indexed_names(self._shortcut_layers, "named_buffers"))

    # -- config: "shortcut" only when there is one, so the configs of earlier files stay as they were --------
    def get_config(self) -> Dict[str, Any]:
        """The block as plain data: its layers serialized, and the shortcut's when there is one.

        Returns
        -------
        dict
            ``{"layers": [...]}``, with ``"shortcut": [...]`` for a block that has one; each entry is
            ``{"class": name, "config": {...}}``.

        Examples
        --------
        >>> nn.Residual([nn.ReLU()]).get_config()
        {'layers': [{'class': 'ReLU', 'config': {}}]}
        """
        config = {"layers": [serialize(layer) for layer in self.layers]}
        if self.shortcut is not None:
            config["shortcut"] = [serialize(layer) for layer in self.shortcut]
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any]) -> Residual:
        """Make a new block from `get_config`'s output (only bprop's and registered layer classes).

        Parameters
        ----------
        config : dict
            ``{"layers": [...]}`` and optionally ``"shortcut"``.

        Returns
        -------
        Residual
            A new block, its parameters freshly made from the layers' configs.

        Raises
        ------
        ValueError
            If the config is not such a dict, holds other keys, or names an unknown layer class.

        Examples
        --------
        >>> nn.Residual.from_config({"layers": [{"class": "ReLU", "config": {}}]})
        Residual([ReLU()])
        """
        layers, shortcut = residual_config(config)
        return cls([deserialize(entry) for entry in layers],
                   None if shortcut is None else [deserialize(entry) for entry in shortcut])

    @classmethod
    def tensor_shapes(cls, config: Dict[str, Any]) -> Dict[str, Tuple[int, ...]]:
        """The shapes of the tensors a block made from `config` holds, from the config alone.

        Parameters
        ----------
        config : dict
            The block's config (`get_config`'s output).

        Returns
        -------
        dict
            {tensor name: shape}, named as `named_parameters` and `named_buffers` name them.

        Raises
        ------
        ValueError
            If the config is malformed or names an unknown layer class.

        Examples
        --------
        >>> nn.Residual.tensor_shapes(nn.Residual([nn.Linear(4, 4)]).get_config())
        {'0.weight': (4, 4), '0.bias': (4,)}
        """
        layers, shortcut = residual_config(config)
        return {**stack_tensor_shapes(layers), **dict(shortcut_names(stack_tensor_shapes(shortcut or []).items()))}

    def __repr__(self):
        if self.shortcut is None:
            return f"Residual({self.layers!r})"
        return f"Residual({self.layers!r}, shortcut={self.shortcut!r})"


def shortcut_names(pairs):
    """(name, value) pairs of a Residual's shortcut, named as the Residual holds them: "shortcut.0.weight"."""
    return [(f"shortcut.{name}", value) for name, value in pairs]


def residual_config(config):
    """(layer entries, shortcut entries or None) of a Residual's config, checked to be lists and to hold no
    other key (a key this version does not know would be dropped silently)."""
    layers = config_layers(config, "Residual")
    unknown = set(config) - {"layers", "shortcut"}
    if unknown:
        raise ValueError(f"[Residual.from_config] the config has unknown keys {sorted(map(str, unknown))!r:.100}; "
                         "expected 'layers' and optionally 'shortcut'")
    shortcut = config.get("shortcut")
    if shortcut is not None and not isinstance(shortcut, list):
        raise ValueError(f"[Residual.from_config] the config's 'shortcut' must be a list of layer entries or "
                         f"absent; got {shortcut!r:.100}")
    return layers, shortcut


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
