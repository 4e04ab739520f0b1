"""Registry entries: saving and loading (bprop.load, save, load_weights, fit(resume_from=...)) and the file
layer (checkpoint_file.save_file/load_file), on valid files, corrupted bytes and crafted files whose
checksums were recomputed, so only bprop's own checks stand between them and the model."""
import hashlib
import json
import os
import pathlib

import numpy as np
import safetensors.numpy
from hypothesis import strategies as st

import bprop
from bprop import callbacks
from bprop.io import checkpoint_file

from .entries_models import build_model, models
from .entry import Entry
from .values import R, arrays, builder, junk, junk_flags, junk_scalars, odd_arrays, shapes


def _saved(base):
    """The path of a valid file: "model" a checkpoint (optimizer state, training position), "saved" a
    plain model.save; both of a compiled float32 Sequential with 3 inputs and 2 outputs."""
    path = f"{base}.bprop"
    if not os.path.exists(path):
        model = build_model("mlp", 3, 2, "float32", "MSE", "Adam")
        if base == "model":
            x = np.random.default_rng(0).standard_normal((4, 3))
            model.fit(x, x[:, :2], epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(path)])
        else:
            model.save(path)
    return path


def _resign(data, edit):
    """The file's bytes with the bprop manifest edited by edit(manifest) and its checksum recomputed."""
    tensors = safetensors.numpy.load(data)
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    manifest = json.loads(header["__metadata__"]["bprop"])
    edit(manifest)
    text = json.dumps(manifest)
    metadata = {"format": "bprop", "bprop": text, "bprop_sha256": hashlib.sha256(text.encode()).hexdigest()}
    return safetensors.numpy.save(tensors, metadata=metadata)


def _set(document, keys, value):
    """document[k0][k1]... = value; a null on the way (a plain save has no training entry) becomes {}."""
    target = document
    for key in keys[:-1]:
        if target[key] is None:
            target[key] = {}
        target = target[key]
    target[keys[-1]] = value


def _crafted_header(name, dtype, shape, offsets, payload):
    """A safetensors file written by hand (no library check), its bprop manifest listing the tensor."""
    spec = {"dtype": {"F32": "float32", "F64": "float64", "I64": "int64"}.get(dtype, "float32"), "shape": shape,
            "sha256": hashlib.sha256(b"\0" * payload).hexdigest()}
    text = json.dumps({"format": "bprop", "format_version": 1, "bprop_version": bprop.__version__,
                       "tensors": {name: spec}, "document": {"model": {"class": "Sequential", "config": {
                           "layers": [{"class": "Linear", "config": {"in_features": 3, "out_features": 2}}],
                           "dtype": "float32", "in_features": 3}}, "compile": None, "optimizer_state": None,
                           "training": None}})
    header = {name: {"dtype": dtype, "shape": shape, "data_offsets": offsets},
              "__metadata__": {"format": "bprop", "bprop": text,
                               "bprop_sha256": hashlib.sha256(text.encode()).hexdigest()}}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + b"\0" * payload


@builder("file")
def build_file(kind, arg):
    """A path (in the case's own directory) to a file of the kind: model, saved, flip, truncate, resign,
    header, foreign, garbage, empty, dir, missing; or a special path."""
    if kind in ("model", "saved"):
        return _saved(kind)
    path = f"{kind}-{hashlib.sha256(repr(arg).encode()).hexdigest()[:8]}.bprop"
    if kind == "flip":
        data = bytearray(open(_saved(arg[0]), "rb").read())
        for bit in arg[1]:
            data[(bit // 8) % len(data)] ^= 1 << (bit % 8)
    elif kind == "truncate":
        data = open(_saved(arg[0]), "rb").read()
        data = data[:arg[1] % len(data)]
    elif kind == "resign":
        base, keys, value = arg
        data = _resign(open(_saved(base), "rb").read(), lambda m: _set(m, ("document",) + tuple(keys), value))
    elif kind == "header":
        data = _crafted_header(*arg)
    elif kind == "foreign":
        data = safetensors.numpy.save({"model/0.weight": np.zeros((3, 4), np.float32)}, metadata=arg)
    elif kind == "garbage":
        data = np.random.default_rng(arg).integers(0, 256, arg, dtype=np.uint8).tobytes()
    elif kind == "empty":
        data = b""
    elif kind == "dir":
        os.makedirs(path, exist_ok=True)
        return path
    elif kind == "missing":
        return path
    else:  # "special": a path outside the case's directory, read only
        return arg
    with open(path, "wb") as f:
        f.write(data)
    return path


@builder("path")
def build_path(kind, arg):
    """The valid checkpoint's path as another type: bytes, pathlib.Path."""
    path = build_file("model", None)
    return path.encode() if kind == "bytes" else pathlib.Path(path)


RESIGN_EDITS = [
    (("model", "config", "layers", 0, "config", "in_features"), (2**26, 2**40, 2**62, 2**63, 2**64, -1, 0, "3", 3.5,
                                                                  None, True)),
    (("model", "config", "layers", 0, "config", "out_features"), (2**26, 2**40, 2**62, -5, [4], None)),
    (("model", "config", "layers", 0, "class"), ("Nope", "Residual", "Layer", None, 7, "__class__")),
    (("model", "config", "layers", 0, "config"), ({}, None, [], {"in_features": 3}, "x")),
    (("model", "config", "layers"), ([], {}, "x", None, [{"class": "BatchNorm", "config": {"features": 2**40}}],
                                     [{"class": "Residual", "config": {"layers": [{"class": "LayerNorm",
                                                                                   "config": {"features": 2**62}}]}}],
                                     [[]] * 3)),
    (("model", "config", "dtype"), ("int8", None, 5, "float16", "")),
    (("model", "config", "in_features"), (2**40, 0, -1, "3", 4)),
    (("model", "config"), ({}, [], None, {"layers": []})),
    (("model", "class"), ("Module", "Nope", None)),
    (("model",), (None, [], "Sequential")),
    (("compile", "loss"), ({"class": "Nope", "config": {}}, None, "mse", {"class": "Huber", "config": {"delta": -1}})),
    (("compile", "optimizer", "config", "lr"), ("x", float("nan"), -1, None, 2**64)),
    (("compile", "optimizer", "config"), ({"nope": 1}, None, [], {"betas": [2, 2]})),
    (("compile", "optimizer", "name"), ("Nope", None, "SGD")),
    (("compile", "metrics"), (["nope"], "accuracy", 5, [None])),
    (("compile",), ([], "x", {})),
    (("training", "epoch"), (-1, 2**63, 2**31, "1", None, 1.5)),
    (("training", "seed"), (2**64, -1, 1.5, None, 2**63)),
    (("training", "step"), (-1, 2**63, "x", None)),
    (("training",), ({}, [], "x")),
    (("optimizer_state", "step_count"), (-1, 2**63, "x", None, 2**62)),
    (("optimizer_state", "lr"), ("x", None, float("inf"))),
    (("optimizer_state", "name"), ("SGD", 5, None)),
    (("optimizer_state",), ({}, [], None)),
]


def file_recipes():
    """Every kind of file load must take or refuse: valid, bit flips, truncations, re-signed edits, crafted
    headers, foreign safetensors, garbage, directories, missing paths, special files, other path types."""
    base = st.sampled_from(("model", "saved"))
    resign = st.sampled_from(RESIGN_EDITS).flatmap(
        lambda edit: st.builds(lambda b, v: R("file", "resign", (b, edit[0], v)), base, st.sampled_from(edit[1])))
    header = st.builds(lambda name, dtype, shape, offsets, payload: R("file", "header", (name, dtype, shape, offsets,
                                                                                         payload)),
                       st.sampled_from(("model/0.weight", "x")), st.sampled_from(("F32", "F64", "I64", "F16", "Q")),
                       st.sampled_from(([3, 4], [2**40, 2**40], [0, 2**62], [2**63], [-1], [2**31, 2**31, 4])),
                       st.sampled_from(([0, 48], [0, 0], [0, 2**62], [8, 4], [0, 2**64])), st.sampled_from((0, 48)))
    return st.one_of(
        st.sampled_from((R("file", "model", None), R("file", "saved", None))), resign, header,
        st.builds(lambda b, bits: R("file", "flip", (b, bits)), base, st.lists(st.integers(0, 2**20), min_size=1,
                                                                                max_size=3)),
        st.builds(lambda b, n: R("file", "truncate", (b, n)), base, st.integers(0, 2**16)),
        st.sampled_from((R("file", "foreign", None), R("file", "foreign", {"format": "bprop"}),
                         R("file", "garbage", 64), R("file", "garbage", 7), R("file", "empty", None),
                         R("file", "dir", None), R("file", "missing", None), R("file", "special", "/dev/null"),
                         R("file", "special", "/proc/self/status"), R("file", "special", "/"),
                         R("path", "bytes", None), R("path", "pathlib", None))),
        junk_scalars())


def call_load(path):
    model = bprop.load(path)
    return model, model.predict(np.ones((2, 3), np.float32))


def call_load_into(model, path, how):
    if how == "load_weights":
        return model.load_weights(path)
    return model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=2, verbose=0, resume_from=path).history


def call_save(model, path, include_optimizer, reload):
    model.save(path, include_optimizer=include_optimizer)
    if reload == "load":
        return bprop.load(path)
    return model.load_weights(path) if reload == "load_weights" else None


def path_junk():
    return st.one_of(junk_scalars(), st.sampled_from(("", ".", "..", "x" * 300, "a\x00b", "nodir/x.bprop",
                                                      R("file", "dir", None), b"m.bprop", "m.bprop/")))


def call_save_file(path, tensors, document, reload):
    checkpoint_file.save_file(path, tensors, document)
    return checkpoint_file.load_file(path) if reload else None


DOCUMENTS = ({}, {"a": [1, 2.5, None, True, "x"]}, {"nested": {"b": {"c": []}}}, {"inf": float("inf")})
DOCUMENT_JUNK = ([], "x", None, {"file": 1}, {1: "int key"}, {"a": {1, 2}}, {"a": b"bytes"}, {"a": 1j},
                 {"a": R("arr", "float32", (2,), "c", "rand")}, {"a": R("object")}, {"a": [[[[[[[[[[[]]]]]]]]]]]},
                 {(1, 2): 3}, {"a": float("nan")}, {"a": 2**70})

ENTRIES = [
    Entry("bprop.load", call_load, st.fixed_dictionaries({"path": st.sampled_from((R("file", "model", None),
                                                                                   R("file", "saved", None)))}),
          {"path": file_recipes()},
          known=[{"path": R("file", "resign", ("saved", ("model", "config", "layers", 0, "config", key), size))}
                 for key, size in (("in_features", 2**40), ("out_features", 2**26))]),
    Entry("Model.load_weights / fit(resume_from=)", call_load_into,
          st.fixed_dictionaries({"model": st.just(R("model", "mlp", 3, 2, "float32", "MSE", "Adam")),
                                 "path": st.just(R("file", "model", None)),
                                 "how": st.sampled_from(("load_weights", "resume"))}),
          {"path": file_recipes(), "model": models().map(lambda m: m[0])}),
    Entry("Model.save", call_save,
          st.fixed_dictionaries({"model": models(kinds=("mlp", "norm", "res", "module")).map(lambda m: m[0]),
                                 "path": st.sampled_from(("m.bprop", "out.safetensors", "ü.bprop")),
                                 "include_optimizer": st.booleans(),
                                 "reload": st.sampled_from(("load_weights", None))}),
          {"path": path_junk(), "include_optimizer": junk_flags(), "reload": st.just("load")}),
    Entry("checkpoint_file.save_file/load_file", call_save_file,
          st.fixed_dictionaries({"path": st.just("f.bprop"),
                                 "tensors": st.dictionaries(st.sampled_from(("a", "b.c", "ü", "x" * 200)), arrays(
                                     ("float32", "float64", "int8", "uint8", "bool", "float16", "int64", ">f4"),
                                     shapes(0, 3, 0, 3), ("c", "f", "neg", "step", "bcast")), max_size=3),
                                 "document": st.sampled_from(DOCUMENTS), "reload": st.booleans()}),
          {"path": path_junk(), "document": st.sampled_from(DOCUMENT_JUNK),
           "tensors": st.one_of(junk_scalars(), st.dictionaries(st.sampled_from(("a", "", "__metadata__", 5, None)),
                                                                st.one_of(junk(), odd_arrays()), max_size=2))}),
]
