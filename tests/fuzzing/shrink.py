"""A greedy shrinker for failing cases (BPROP_FUZZ_SHRINK=1): hypothesis shrinks only a failure it is
still running, while the sweep records every failure and goes on, so each distinct failure is shrunk here
afterwards, on recipes: arguments back to the entry's simplest valid value, arrays to fewer and smaller
dimensions, C layout, plain values and float32, lists and dicts to fewer items. A simplification is kept
when the case still fails with the same signature."""
from hypothesis import HealthCheck, find, settings

from .values import VALID_DTYPES, R


def minimal_valid(entry):
    """The entry's simplest valid argument dict (hypothesis's own minimal example)."""
    return find(entry.valid, lambda _: True,
                settings=settings(database=None, max_examples=50, suppress_health_check=list(HealthCheck)))


def _simpler_arrays(recipe):
    _, dtype, shape, layout, fill = recipe
    if layout != "c":
        yield R("arr", dtype, shape, "c", fill)
    if fill != "rand":
        yield R("arr", dtype, shape, layout, "rand")
    if dtype not in VALID_DTYPES:
        yield R("arr", "float32", shape, layout, fill)
    for i, n in enumerate(shape):
        yield R("arr", dtype, shape[:i] + shape[i + 1:], layout, fill)
        if n > 1:
            yield R("arr", dtype, shape[:i] + (1,) + shape[i + 1:], layout, fill)


def simplifications(value):
    """Simpler variants of a recipe or value, most drastic first."""
    if isinstance(value, R):
        if value[0] == "arr":
            yield from _simpler_arrays(value)
        for i, item in enumerate(value[1:], start=1):
            for simpler in simplifications(item):
                yield R(*value[:i], simpler, *value[i + 1:])
    elif isinstance(value, list):
        for i in range(len(value)):
            yield value[:i] + value[i + 1:]
        for i, item in enumerate(value):
            for simpler in simplifications(item):
                yield value[:i] + [simpler] + value[i + 1:]
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            for simpler in simplifications(item):
                yield value[:i] + (simpler,) + value[i + 1:]
    elif isinstance(value, dict):
        for key in value:
            yield {k: v for k, v in value.items() if k != key}
        for key, item in value.items():
            for simpler in simplifications(item):
                yield {**value, key: simpler}


def shrink(entry, case, signature, still_fails, budget=80):
    """The smallest case found that still_fails(case) with this signature, trying at most budget cases."""
    args, tries = dict(case["args"]), 0
    base = minimal_valid(entry)
    for key in sorted(args):  # first, every argument that does not matter goes back to its simplest value
        if key in base and base[key] != args[key] and tries < budget:
            tries += 1
            candidate = {**args, key: base[key]}
            if still_fails({**case, "args": candidate}, signature):
                args = candidate
    improved = True
    while improved and tries < budget:
        improved = False
        for key in sorted(args):
            for simpler in simplifications(args[key]):
                if tries >= budget:
                    break
                tries += 1
                candidate = {**args, key: simpler}
                if still_fails({**case, "args": candidate}, signature):
                    args, improved = candidate, True
                    break
            if improved:
                break
    return {**case, "args": args}
