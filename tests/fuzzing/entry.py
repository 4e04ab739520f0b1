"""One registry entry: a public entry point of bprop, how to draw its arguments, and how to call it."""
from hypothesis import strategies as st


class Entry:
    """name: what reports show ("Tensor.reshape"). call(**arguments) makes the call and returns its result.

    valid: a strategy of argument dicts (recipes) with which the call must return a result; junk: for some
    arguments, a strategy of values that are wrong (wrong type, shape, dtype, layout, size, order...). A case
    is the valid dict with 0, 1 or 2 of its arguments swapped for junk: with none swapped it is a valid case,
    and any outcome but a result is a failure. checks_valid=False for entries whose valid dicts are only
    plausible (a sequence of calls in random order), where any allowed outcome will do. known: argument dicts
    run in every sweep before the drawn ones (defects found before, kept out for good).
    """

    def __init__(self, name, call, valid, junk=None, checks_valid=True, known=()):
        self.name, self.call, self.valid, self.junk, self.checks_valid = name, call, valid, junk or {}, checks_valid
        self.known = list(known)

    def known_cases(self):
        return [{"entry": self.name, "args": args, "valid": False} for args in self.known]

    def cases(self):
        keys = sorted(self.junk)

        @st.composite
        def draw_case(draw):
            arguments = dict(draw(self.valid))
            # About a third of the cases stay valid; the others swap one or two arguments for junk.
            swaps = min(draw(st.sampled_from((0, 1, 1, 2))), len(keys))
            swapped = draw(st.lists(st.sampled_from(keys), min_size=swaps, max_size=swaps, unique=True)) \
                if swaps else []
            for key in sorted(swapped):
                arguments[key] = draw(self.junk[key])
            return {"entry": self.name, "args": arguments, "valid": self.checks_valid and not swapped}

        return draw_case()

    def __repr__(self):
        return f"Entry({self.name})"
