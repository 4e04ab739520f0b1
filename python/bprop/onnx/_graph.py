"""GraphBuilder: the ONNX graph an export writes, grown one node at a time (unique names, constants stored as
initializers in the model's dtype), so a converter says what it computes in a few lines."""
import numpy as np
from onnx import helper, numpy_helper

OPSET = 17  # the first opset with LayerNormalization; the widest runtime support among the opsets >= 17


class GraphBuilder:
    """Nodes and initializers of one graph whose values are of `dtype` (float32 or float64)."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.nodes, self.initializers = [], []
        self._used, self._node_names = set(), set()  # values and nodes have a namespace each

    def name(self, hint, used=None):
        """A name no other value (or, given used=self._node_names, node) of the graph has: hint, hint_2, ..."""
        used = self._used if used is None else used
        name, k = hint, 1
        while name in used:
            k += 1
            name = f"{hint}_{k}"
        used.add(name)
        return name

    def reserve(self, name):
        """`name` itself, which no later value may take (the graph's input and output)."""
        if name in self._used:
            raise RuntimeError(f"[bprop.onnx] the name {name!r} is taken")
        self._used.add(name)
        return name

    def constant(self, value, hint):
        """An initializer holding `value`: real numbers in the graph's dtype, integers as int64."""
        array = np.asarray(value)
        array = array.astype(np.int64 if array.dtype.kind in "iub" else self.dtype)
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values, hint):
        """A 1-D int64 initializer (shapes, axes, slice bounds)."""
        return self.constant(np.asarray(list(values), dtype=np.int64).reshape(-1), hint)

    def op(self, op_type, inputs, hint, outputs=1, names=None, **attributes):
        """One node; returns its output's name (a list of names when outputs > 1). An input "" is an
        optional input left out; `names` gives the outputs' names (reserved ones) instead of making them."""
        if names is None:
            names = [self.name(f"{hint}.{op_type}" if k == 0 else f"{hint}.{op_type}.out{k}") for k in range(outputs)]
        node_name = self.name(f"{hint}.{op_type}", self._node_names)
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=node_name, **attributes))
        return names[0] if outputs == 1 else names

    def model(self, inputs, outputs, doc):
        """The ModelProto: `inputs` and `outputs` are (name, elem_type, shape) with "batch" as the first axis."""
        value_infos = [[helper.make_tensor_value_info(name, elem_type, shape) for name, elem_type, shape in group]
                       for group in (inputs, outputs)]
        graph = helper.make_graph(self.nodes, "bprop", value_infos[0], value_infos[1], self.initializers,
                                  doc_string=doc)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="bprop",
                                  doc_string=doc)
        model.ir_version = min(model.ir_version, 8)  # IR 8 is opset 17's: runtimes of that era load the file
        return model


def elem_type(dtype):
    """The ONNX element type of a numpy dtype."""
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
