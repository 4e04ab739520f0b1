"""The fuzz suite's machinery (tests/test_fuzz.py): recipes and strategies (values), one registry of
bprop's public entry points (registry, entries_*), the crash-isolating worker (worker) and the rules
that judge an outcome (outcome)."""
