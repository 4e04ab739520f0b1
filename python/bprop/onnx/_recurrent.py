"""Converters of RNN, LSTM and GRU: one ONNX node per stacked layer (both directions in it), in ONNX's
sequence-major layout (the batch-major samples are transposed in and out), with the gates reordered from
PyTorch's layout (bprop's) to ONNX's, and the per-sample lengths that padding gives (nn/sequence_lengths.h)."""
import numpy as np
from onnx import TensorProto

from .. import nn
from ._registry import converter

# Where PyTorch's gate blocks go in ONNX's order: LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h; RNN one block.
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}


def _onnx_order(array, kind, hidden):
    """Rows of a PyTorch weight or bias (gates·hidden, ...) with the gate blocks in ONNX's order."""
    return np.concatenate([array[g * hidden:(g + 1) * hidden] for g in _GATE_ORDER[kind]])


def _layer_tensors(layer, step, k):
    """W, R and B (or "" without bias) of stacked layer k, its directions stacked as ONNX takes them."""
    kind, hidden = layer._kind, layer.hidden_size
    values = {p.name: p.value() for p in layer.parameters()}
    suffixes = ("", "_reverse") if layer.bidirectional else ("",)

    def stacked(pattern):
        return np.stack([_onnx_order(values[pattern.format(k=k, s=s)], kind, hidden) for s in suffixes])

    w, r = stacked("weight_ih_l{k}{s}"), stacked("weight_hh_l{k}{s}")
    names = [step.graph.constant(w, f"{step.where}.W_l{k}"), step.graph.constant(r, f"{step.where}.R_l{k}")]
    if layer.bias:
        b = np.concatenate([stacked("bias_ih_l{k}{s}"), stacked("bias_hh_l{k}{s}")], axis=1)
        names.append(step.graph.constant(b, f"{step.where}.B_l{k}"))
    else:
        names.append("")
    return names


def _attributes(layer):
    directions = layer.num_directions
    attributes = {"hidden_size": layer.hidden_size, "direction": "bidirectional" if directions == 2 else "forward"}
    if layer._kind == "GRU":
        attributes["linear_before_reset"] = 1  # r multiplies (W_hn h + b_hn), as in PyTorch
    if layer._kind == "RNN":
        attributes["activations"] = ["Tanh" if layer.nonlinearity == "tanh" else "Relu"] * directions
    return attributes


def recurrent_with_lengths(layer, step, x, lengths):
    """The layer on x (batch, time, features); lengths: the name of an int32 (batch,) tensor or "" for none."""
    g, where = step.graph, step.where
    directions, hidden = layer.num_directions, layer.hidden_size
    sequence = g.op("Transpose", [x], where, perm=[1, 0, 2])  # (time, batch, features)
    for k in range(layer.num_layers):
        outputs = g.op(layer._kind, [sequence, *_layer_tensors(layer, step, k), lengths], f"{where}.l{k}",
                       outputs=2, **_attributes(layer))
        y, y_h = outputs
        if k + 1 < layer.num_layers:  # (time, directions, batch, hidden) → (time, batch, directions·hidden)
            y = g.op("Transpose", [y], where, perm=[0, 2, 1, 3])
            sequence = g.op("Reshape", [y, g.ints((0, 0, -1), f"{where}.shape")], where)
    if layer.return_sequences:  # every step's state, the directions side by side: (batch, time, directions·hidden)
        y = g.op("Transpose", [y], where, perm=[2, 0, 1, 3])
        return g.op("Reshape", [y, g.ints((0, 0, directions * hidden), f"{where}.shape")], where)
    # The last layer's final states (the reverse direction's after it ran back to step 0): (batch, directions·hidden)
    y_h = g.op("Transpose", [y_h], where, perm=[1, 0, 2])
    return g.op("Reshape", [y_h, g.ints((0, directions * hidden), f"{where}.shape")], where)


@converter(nn.RNN, nn.LSTM, nn.GRU)
def recurrent(layer, step, x):
    return recurrent_with_lengths(layer, step, x, "")


def padded_lengths(step, indices, padding_idx):
    """Each sample's length from its (batch, time) indices: one past its last index that is not padding_idx,
    as int32 (ONNX's sequence_lens)."""
    g, where = step.graph, f"{step.where}.lengths"
    time = step.in_shape[0]
    kept = g.op("Not", [g.op("Equal", [indices, g.ints([padding_idx], f"{where}.padding_idx")], where)], where)
    positions = g.op("Mul", [g.op("Cast", [kept], where, to=TensorProto.INT64),
                             g.ints(range(1, time + 1), f"{where}.positions")], where)
    last = g.op("ReduceMax", [positions], where, axes=[1], keepdims=0)
    return g.op("Cast", [last], where, to=TensorProto.INT32)
