"""What a case did (in the child: execute) and whether that is allowed (in the test: judge).

Allowed: a result whose objects are consistent (shapes match sizes, values readable), or a ValueError,
TypeError, IndexError, KeyboardInterrupt, FileNotFoundError or CheckpointError whose message is bprop's
own, "[Where] what is wrong"; IsADirectoryError for a path that is a directory, which, like a missing
path's FileNotFoundError, is Python's own exception for that (open(dir, "w") raises it). Also allowed, because the interpreter raises them at the caller's own line
and they name the problem: TypeErrors of the call and operator protocols ("unsupported operand type(s)",
"missing 1 required positional argument") when no bprop frame raised them. Everything else is a failure:
a crash (signal, abort, sanitizer report), a hang, another exception type, a foreign message
(pybind11's "incompatible function arguments", a bare KeyError...), and any exception on a valid case.
"""
import math
import re
import traceback

import numpy as np

import bprop
from bprop.autograd.parameter import is_parameter
from bprop.io.checkpoint_file import CheckpointError

ALLOWED = (ValueError, TypeError, IndexError, KeyboardInterrupt, FileNotFoundError, IsADirectoryError,
           CheckpointError)
BPROP_DIR = bprop.__file__.rsplit("/", 1)[0] + "/"
OWN_MESSAGE = re.compile(r"\[[A-Za-z_][^\]\n]{0,80}\] +\S")
OPERATOR = re.compile(r"unsupported operand type\(s\)|bad operand type for unary|can only concatenate str")
CALL = re.compile(r"missing \d+ required (positional|keyword-only) argument|takes (\d+|from \d+ to \d+) positional "
                  r"argument|takes no arguments|got an unexpected keyword argument|got multiple values for argument|"
                  r"not supported between instances")
FOREIGN = re.compile(r"incompatible (function|constructor) arguments|Unable to cast|Invoked with:|"
                     r"object has no attribute|'NoneType' object|is not subscriptable|object is not iterable|"
                     r"unhashable type|could not convert string|invalid literal for|cannot be interpreted as an "
                     r"integer|std::bad_alloc|bad_array_new_length")
MAX_TOUCH = 10**7  # elements read back from a result to check it is real memory


# -- in the child ---------------------------------------------------------------------------------------------
def describe(error):
    """An exception as plain data: its type, message, whether its type is allowed, where it was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    innermost = frames[-1].filename if frames else ""
    cls = type(error)
    name = cls.__qualname__ if cls.__module__ in ("builtins", "bprop.io.checkpoint_file") else \
        f"{cls.__module__}.{cls.__qualname__}"
    return {"kind": "raise", "type": name, "message": str(error)[:800], "allowed_type": isinstance(error, ALLOWED),
            "in_bprop": innermost.startswith(BPROP_DIR),
            "traceback": "".join(traceback.format_exception(cls, error, error.__traceback__)[-6:])[-3000:]}


def _check_shaped(obj, shape, size, what):
    shape = tuple(shape)
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        return f"{what} has shape {shape}"
    if math.prod(shape) != size or size < 0:
        return f"{what} has shape {shape} but size {size}"
    if size * 8 >= 2**48:
        return f"{what} claims {size} elements, more than any memory holds"
    return None


def check_result(value, depth=0):
    """None when every bprop object in the result is consistent and its values can be read; else what is not."""
    if depth > 3:
        return None
    if isinstance(value, bprop.Tensor):
        problem = _check_shaped(value, value.shape, value.size, f"Tensor{value.shape}")
        if problem is None and value.size <= MAX_TOUCH:
            array = value.numpy()
            if array.shape != tuple(value.shape):
                return f"Tensor.numpy() has shape {array.shape}, the tensor {value.shape}"
            array.sum()
            if value.size <= 10**4:
                repr(value)
        return problem
    if is_parameter(value):
        problem = _check_shaped(value, value.shape, value.size, f"Parameter {value.name!r}")
        if problem is None and value.size <= MAX_TOUCH:
            value.value().sum()
            value.grad.sum()
        return problem
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc" and value.size <= MAX_TOUCH:
            value.sum()
        return None
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value[:20]:
            problem = check_result(item, depth + 1)
            if problem:
                return problem
        return None
    if hasattr(value, "parameters") and callable(value.parameters):  # layers, models, optimizers
        repr(value)
        return check_result(list(value.parameters()) + list(getattr(value, "buffers", list)()), depth + 1)
    return None


def execute(entry, arguments, calling=lambda: None):
    """Build the arguments, make the call (after telling calling()), check the result: the outcome as plain
    data."""
    from .values import Invalid, build

    try:

        kwargs = build(arguments)
    except BaseException as error:  # the registry made a recipe that cannot be built: a harness bug
        return {**describe(error), "kind": "harness", "message": f"building the arguments: {error!r}"[:800]}
    calling()
    try:
        result = entry.call(**kwargs)
    except Invalid as error:
        return {"kind": "invalid", "type": "", "message": str(error)}
    except BaseException as error:
        return describe(error)
    try:
        problem = check_result(result)
    except BaseException as error:
        outcome = describe(error)
        problem = f"using the result raised {outcome['type']}: {outcome['message']}"
    if problem:
        return {"kind": "invalid", "type": type(result).__name__, "message": problem}
    return {"kind": "result", "type": type(result).__name__, "message": ""}


# -- in the test --------------------------------------------------------------------------------------------
def normalise(text, limit=110):
    """A message with its varying parts (numbers, quoted text, paths, addresses) blanked, for grouping."""
    text = re.sub(r"0x[0-9a-f]+", "0x…", text)
    text = re.sub(r"\b(tensor|Parameter|array)\((?:[^()]|\([^()]*\))*\)", r"\1(…)", text)  # reprs of values
    text = re.sub(r"\bnot (a |an )?[A-Za-z_][\w.]*$", "not …", text)  # "..., not int": the type varies
    text = re.sub(r"[\w.]*?(\w+)\(\) argument after", r"…() argument after", text)
    text = re.sub(r"\w+\.__init__\(\)", "…__init__()", text)
    text = re.sub(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"", "'…'", text)
    text = re.sub(r"(/[\w.+-]+)+/", "", text)
    text = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit]


def short_type(name):
    return name.rsplit(".", 1)[-1]


def judge(case, outcome):
    """None when the outcome is allowed for the case; else a one-line signature of what went wrong (equal
    signatures from one entry are one finding)."""
    kind = outcome["kind"]
    if kind == "result":
        return None
    if kind in ("crash", "hang", "harness", "worker"):
        if kind == "harness":
            return f"harness error: {normalise(outcome['message'])}"
        # One signature per site: addresses and the operands of an overflow vary, file:line does not.
        message = re.sub(r"0x[0-9a-f]+", "0x…", outcome["message"])
        message = re.sub(r"overflow: .*? cannot", "overflow: … cannot", message)
        return f"{kind}: {re.sub(r'-?[0-9]{5,}', 'N', message)}"
    if kind == "invalid":
        return f"invalid result: {normalise(outcome['message'])}"
    if kind == "memory":
        return f"memory: {normalise(outcome['message'])}"
    name, message = short_type(outcome["type"]), outcome["message"]
    if not outcome["allowed_type"]:
        return f"{name} (not an allowed type): {normalise(message)}"
    if FOREIGN.search(message):
        return f"{name} with a foreign message: {normalise(message)}"
    own = OWN_MESSAGE.match(message) or name == "FileNotFoundError"
    # An operator bprop does not take is the operator protocol's error wherever it was raised (a Parameter
    # forwards to its tensor); a call's wrong arguments only where the caller made the call, not inside bprop.
    protocol = OPERATOR.search(message) or (CALL.search(message) and not outcome["in_bprop"])
    if not (own or protocol):
        return f"{name} without a [Where] message: {normalise(message)}"
    if case["valid"]:
        return f"valid input refused: {name}: {normalise(message)}"
    return None


def tally_key(outcome):
    """The outcome's class for the tally: result, the exception type, crash (with its signal) or hang."""
    kind = outcome["kind"]
    if kind == "raise":
        return short_type(outcome["type"])
    if kind == "crash":
        return "crash " + outcome.get("signal", "")
    return kind
