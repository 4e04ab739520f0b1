"""Fuzz every public entry point of bprop (the registry in tests/fuzzing/) with malformed and valid inputs.

Each case runs in a forked child of a worker process, so a segfault, an abort, a sanitizer report or a
hang is caught and reported with the input that caused it. Allowed outcomes are a result or one of the
allowed exceptions with bprop's own message (tests/fuzzing/outcome.py); a valid case must give a result.
The test runs every case, then fails listing every distinct (entry, outcome) failure with its smallest
input and a command that replays it. The count of cases by outcome (result, each exception type, crash,
hang) is printed in pytest's summary, under "fuzz outcomes".

    BPROP_FUZZ_EXAMPLES=2000        examples in the default test (the slow one: BPROP_FUZZ_SLOW_EXAMPLES=10000)
    BPROP_FUZZ_SEED=<int>           another fixed seed (default: 0, and 1 for the slow test): reproducible
    BPROP_FUZZ_TIMEOUT=20           seconds before a case counts as hung
    BPROP_FUZZ_REPORT=path.json     write the tally and every failure with its inputs ({name} in the path:
                                    "default" or "slow", so both tests can write one)
    BPROP_FUZZ_ENTRIES=a,b          only the entries whose names contain one of these
    BPROP_FUZZ_SHRINK=1             shrink each distinct failure's input before reporting it (slower)
"""
import importlib
import inspect
import json
import math
import os
import sys
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

import bprop
from bprop import callbacks, nn, optim
from fuzzing.outcome import judge, tally_key
from fuzzing.registry import COVERS, ENTRIES, REGISTRY
from fuzzing.shrink import shrink
from fuzzing.worker import Worker

EXAMPLES = int(os.environ.get("BPROP_FUZZ_EXAMPLES", "2000"))
SLOW_EXAMPLES = int(os.environ.get("BPROP_FUZZ_SLOW_EXAMPLES", "10000"))
MIN_VALID_SHARE = 0.15  # of all cases: valid ones that gave a result (the check cannot pass vacuously)


class Sweep:
    """Runs cases through the worker and keeps the tally and every distinct failure's smallest input."""

    def __init__(self, worker):
        self.worker = worker
        self.tally, self.per_entry, self.valid_results = Counter(), Counter(), Counter()
        self.failures = {}  # (entry, signature) -> {"count", "case", "outcome"}
        self.executed = 0

    def run(self, case):
        outcome = self.worker.run(case)
        self.executed += 1
        self.per_entry[case["entry"]] += 1
        self.tally[tally_key(outcome)] += 1
        if case["valid"] and outcome["kind"] == "result":
            self.valid_results[case["entry"]] += 1
        signature = judge(case, outcome)
        if signature is not None:
            found = self.failures.setdefault((case["entry"], signature), {"count": 0, "case": case, "outcome": outcome})
            found["count"] += 1
            if len(repr(case["args"])) < len(repr(found["case"]["args"])):
                found.update(case=case, outcome=outcome)

    def entry(self, entry, count, seed_value, known=False):
        """The entry's known cases (when asked), then count hypothesis examples; returns how many examples
        ran (fewer than count when the entry's space is exhausted)."""
        for case in entry.known_cases() if known else []:
            self.run(case)
        before = self.executed

        @seed(seed_value)
        @settings(max_examples=count, database=None, deadline=None, derandomize=False, print_blob=False,
                  phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(entry.cases())
        def cases(case):
            self.run(case)

        cases()
        return self.executed - before

    def all(self, total, seed_value):
        """Every selected entry's share of total examples; rounds with new seeds top up the shortfall of
        entries whose space ran out."""
        entries = [e for e in ENTRIES if _selected(e.name)]
        active, round_ = list(entries), 0
        while self.executed < total and active:
            quota = math.ceil((total - self.executed) / len(active))
            active = [e for e in active if self.entry(e, quota, seed_value + 1000 * round_, round_ == 0) >= quota]
            round_ += 1
        return entries

    def shrink_all(self):
        """Replace each failure's input by a shrunk one that fails the same way."""
        def still_fails(case, signature):
            outcome = self.worker.run(case)
            if judge(case, outcome) == signature:
                still_fails.outcome = outcome
                return True
            return False

        for (entry, signature), found in self.failures.items():
            still_fails.outcome = found["outcome"]
            found["case"] = shrink(REGISTRY[entry], found["case"], signature, still_fails)
            found["outcome"] = still_fails.outcome

    def report(self):
        lines = [f"{len(self.failures)} distinct failing (entry, outcome) pairs in {self.executed} cases "
                 f"(worker restarts: {self.worker.restarts}):"]
        for (entry, signature), found in sorted(self.failures.items()):
            case, outcome = found["case"], found["outcome"]
            lines.append(f"\n[{entry}] {signature}   (x{found['count']})")
            lines.append(f"    input: {case['args']!r}"[:1500])
            if outcome.get("stderr") and outcome["kind"] in ("crash", "hang", "memory"):
                lines.extend("    | " + line for line in outcome["stderr"].splitlines()[:8])
            lines.append(f"    replay: python tests/fuzzing/worker.py --replay {entry!r} {repr(case['args'])!r}"[:2000])
        return "\n".join(lines)

    def tally_text(self, seconds):
        counts = ", ".join(f"{k}: {v}" for k, v in self.tally.most_common())
        return f"fuzz: {self.executed} cases in {seconds:.1f} s ({len(self.per_entry)} entries); outcomes: {counts}"

    def write(self, path, seconds):
        failures = [{"entry": e, "signature": s, "count": f["count"], "args": repr(f["case"]["args"]),
                     "valid": f["case"]["valid"], "outcome": {k: v for k, v in f["outcome"].items()
                                                              if isinstance(v, (str, int, float, bool))}}
                    for (e, s), f in sorted(self.failures.items())]
        with open(path, "w") as f:
            json.dump({"cases": self.executed, "seconds": seconds, "tally": dict(self.tally),
                       "per_entry": dict(self.per_entry), "valid_results": dict(self.valid_results),
                       "failures": failures}, f, indent=1)


def _selected(name):
    wanted = [w for w in os.environ.get("BPROP_FUZZ_ENTRIES", "").split(",") if w]
    return not wanted or any(w in name for w in wanted)


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    info = w.start()
    print(f"\nfuzz worker: bprop from {info['bprop']}, {info['threads']} threads", file=sys.stderr)
    yield w
    w.close()


def fuzz(worker, total, seed_value, name, config):
    sweep, start = Sweep(worker), time.monotonic()
    entries = sweep.all(total, seed_value)
    seconds = time.monotonic() - start
    if os.environ.get("BPROP_FUZZ_SHRINK"):
        sweep.shrink_all()
    print("\n" + sweep.tally_text(seconds))
    config.fuzz_tallies = getattr(config, "fuzz_tallies", []) + [f"{name}: {sweep.tally_text(seconds)}"]
    if os.environ.get("BPROP_FUZZ_REPORT"):
        sweep.write(os.environ["BPROP_FUZZ_REPORT"].replace("{name}", name), seconds)
    assert not sweep.failures, sweep.report()
    # Not vacuous: every case ran, valid cases (which must give results) are a fair share of them, and every
    # entry that checks valid cases had some that gave a result.
    assert sweep.executed >= total or not entries, f"only {sweep.executed} of {total} cases ran"
    valid_share = sum(sweep.valid_results.values()) / max(sweep.executed, 1)
    assert valid_share >= MIN_VALID_SHARE, f"only {valid_share:.0%} of the cases were valid and gave a result"
    silent = [e.name for e in entries if e.checks_valid and sweep.per_entry[e.name] >= 10
              and not sweep.valid_results[e.name]]
    assert not silent, f"entries with no valid case that gave a result: {silent}"


OPERATORS = ("__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__matmul__", "__gt__", "__ge__", "__lt__",
             "__le__", "__neg__", "__getitem__", "__len__", "__iter__", "__array__", "__repr__")
NOT_ENTRY_POINTS = {"bprop.__version__", "bprop.nn", "bprop.optim", "bprop.callbacks"}  # data and namespaces


def public_api():
    """Every public name of bprop a user can call or set: module functions and classes, and the public
    methods and properties of the classes they get back."""
    def members(owner, cls, extra=()):
        return {f"{owner}.{n}" for n in dir(cls) if not n.startswith("_")} | \
            {f"{owner}.{n}" for n in extra if hasattr(cls, n)}

    tensor_module = importlib.import_module("bprop.tensor")
    names = {f"bprop.{n}" for n in bprop.__all__} - NOT_ENTRY_POINTS
    names |= {f"nn.{n}" for n in nn.__all__} | {f"functional.{n}" for n in nn.functional.__all__}
    names |= {f"optim.{n}" for n in optim.__all__}
    names |= {f"callbacks.{n}" for n, c in vars(callbacks).items()
              if inspect.isclass(c) and c.__module__.startswith(callbacks.__name__ + ".") and not n.startswith("_")}
    names |= {f"tensor.{n}" for n in tensor_module.__all__ if n not in bprop.__all__}
    names |= {"checkpoint_file.save_file", "checkpoint_file.load_file"}
    names |= members("Tensor", bprop.Tensor, OPERATORS) | members("Sequential", bprop.Sequential, ("__call__",))
    names |= members("Module", bprop.Module, ("__call__",)) | members("Parameter", bprop._core.Parameter_float32)
    names |= members("Optimizer", optim.Adam) | members("Loss", nn.MSE, ("__call__",))
    names |= members("Layer", nn.Linear, ("__call__",)) | members("Layer", nn.Residual)
    names |= members("Schedule", optim.LinearWarmup) | members("Trainer", bprop.Trainer)
    return names


@pytest.mark.parametrize("how, kind, signature", [
    ("segfault", "crash", "SEGV"),  # SIGSEGV, or ASan's "SEGV on unknown address" report under .ci/sanitize
    ("abort", "crash", "crash: SIGABRT"), ("exit", "crash", "crash: exit 3"),
    ("hang", "hang", "hang: no outcome after 2 s (killed)"),
    ("keyerror", "raise", "KeyError (not an allowed type): '…'"), ("return", "result", None)])
def test_worker_catches_and_reports_every_kind_of_failure(worker, how, kind, signature):
    """The sweep is only as good as this: each way a case can go wrong is seen, judged a failure, and the
    worker goes on to the next case."""
    case = {"entry": "selfcheck.misbehave", "args": {"how": how}, "valid": False}
    outcome = worker.run(case, timeout=2)
    found = judge(case, outcome)
    assert outcome["kind"] == kind and (found == signature or signature and signature in found), (outcome, found)
    assert worker.run({"entry": "selfcheck.misbehave", "args": {"how": "return"}, "valid": True})["kind"] == "result"


def test_a_dead_worker_is_restarted(worker):
    worker.process.kill()
    worker.process.wait()
    assert worker.run({"entry": "selfcheck.misbehave", "args": {"how": "return"}, "valid": True})["kind"] == "result"


def test_registry_covers_the_public_api():
    """A public function or method added to bprop without a registry entry fails here."""
    assert set(COVERS) == set(REGISTRY), f"COVERS and the registry differ: {set(COVERS) ^ set(REGISTRY)}"
    covered = {name for names in COVERS.values() for name in names.split()}
    missing = public_api() - covered
    assert not missing, f"public names no registry entry calls: {sorted(missing)}"


def test_fuzz_every_entry_point(worker, pytestconfig):
    fuzz(worker, EXAMPLES, int(os.environ.get("BPROP_FUZZ_SEED", "0")), "default", pytestconfig)


@pytest.mark.slow
def test_fuzz_every_entry_point_slow(worker, pytestconfig):
    fuzz(worker, SLOW_EXAMPLES, int(os.environ.get("BPROP_FUZZ_SEED", "1")), "slow", pytestconfig)
