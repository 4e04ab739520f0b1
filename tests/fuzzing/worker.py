"""The crash-isolating worker: a persistent process that runs each case in a forked child.

The worker imports bprop and the registry once, and never runs bprop itself, so forking it is safe (no
OpenMP pool exists to hang the child). Each child runs in its own temporary directory, with its stderr
in a file (a sanitizer report, an abort message) and, outside ASan, a cap on its address space; whatever
it does (segfault, abort, hang, a global setting changed, a file written) ends with it. The test process
talks to the worker over pipes (Worker, below) and restarts it if the worker itself ever dies.

    python tests/fuzzing/worker.py --replay "ENTRY" "ARGS"    # one case, in a child, as the suite runs it
    python tests/fuzzing/worker.py --inline "ENTRY" "ARGS"    # the same call in this process, traceback shown
"""
import math
import os
import pickle
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
ADDRESS_SPACE_HEADROOM = 3 << 30  # bytes a child may map beyond the worker's own (outside ASan)
EXCESS_RSS_MB = 512                # a child whose peak RSS grows more than this is reported


def _send(stream, obj):
    data = pickle.dumps(obj)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _receive(stream):
    head = stream.read(8)
    if len(head) < 8:
        return None
    (n,) = struct.unpack("<Q", head)
    return pickle.loads(stream.read(n))


# -- sanitizer and abort reports --------------------------------------------------------------------------------
def report_summary(text):
    """The first line that says what killed a child: a sanitizer's error with the first bprop frame, an
    uncaught C++ exception, a Python fatal error."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "runtime error:" in line:  # UBSan: "path/file.cpp:12:3: runtime error: ..."
            where, _, what = line.partition(": runtime error: ")
            return f"UBSan {what.strip()} at {where.rsplit('/', 1)[-1]}"
        if "ERROR: AddressSanitizer:" in line or "ERROR: LeakSanitizer" in line:
            what = line.split("ERROR: ", 1)[1]
            what = " ".join(w for w in what.split() if not w.startswith("0x"))
            what = what.split(" on address")[0].split(" (pc")[0]
            frame = next((f for f in lines[i + 1:i + 40] if " in " in f and "/cpp/" in f), "")
            if frame:
                what += " in " + frame.split(" in ", 1)[1].rsplit("/", 1)[-1]
            return what
        if line.startswith("terminate called"):
            detail = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{line.strip()} {detail}".strip()
        if line.startswith("Fatal Python error"):
            return line.strip()
    return ""


def report_head(text, count=8, width=200):
    """The lines of a crash report worth reading: what went wrong, and the stack frames in bprop's sources
    (templates and library frames left out), each cut to `width` characters."""
    keep = [line.strip() for line in text.splitlines()
            if ("/cpp/" in line and " in " in line) or any(k in line for k in (
                "runtime error:", "ERROR: AddressSanitizer", "terminate called", "what():", "Fatal Python error",
                "SUMMARY:"))]
    keep = keep or [line.strip() for line in text.splitlines() if line.strip()]
    return "\n".join(line if len(line) <= width else line[:width] + " …" for line in keep[:count])


# -- the worker process -----------------------------------------------------------------------------------------
def _limit_address_space():
    if UNDER_ASAN:  # ASan reserves terabytes of shadow; its max_allocation_size_mb caps allocations instead
        return
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (mapped + ADDRESS_SPACE_HEADROOM, resource.RLIM_INFINITY))


def _child(request, directory, error_path, result_fd, threads):
    """In the forked child: run the case, send the outcome, exit without running any cleanup."""
    code = 0
    try:
        os.chdir(directory)
        error_fd = os.open(error_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(error_fd, 2)
        _limit_address_space()
        import bprop
        from fuzzing.outcome import execute
        from fuzzing.registry import REGISTRY, SELF_CHECKS

        bprop.set_num_threads(threads)  # the fork handler set 1; this process never ran OpenMP before
        entry = REGISTRY.get(request["entry"]) or SELF_CHECKS[request["entry"]]
        outcome = execute(entry, request["args"], lambda: os.write(result_fd, b"C"))
        data = pickle.dumps(outcome)
        view = memoryview(data)
        while view:
            view = view[os.write(result_fd, view):]
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 70
    finally:
        os._exit(code)


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_isolated(request, root, threads, timeout):
    """Fork a child for the case; its outcome, or what killed it, with its peak memory and time."""
    directory = tempfile.mkdtemp(dir=root)
    error_path = os.path.join(root, "stderr")
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    with open("/proc/self/statm") as f:
        base_rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(request, directory, error_path, write_fd, threads)
    os.close(write_fd)
    chunks, timed_out = [], False
    while True:
        left = start + timeout - time.monotonic()
        ready, _, _ = select.select([read_fd], [], [], max(left, 0))
        if not ready:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    shutil.rmtree(directory, ignore_errors=True)
    with open(error_path, errors="replace") as f:
        stderr = f.read(200_000)
    if timed_out:
        outcome = {"kind": "hang", "type": "", "message": f"no outcome after {timeout:g} s (killed)"}
    elif b"".join(chunks).lstrip(b"C") and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        outcome = pickle.loads(b"".join(chunks).lstrip(b"C"))  # a pickle starts with b"\x80"
    else:  # "C" came first when the call began: without it, building the arguments (with bprop) crashed
        how = _signal_name(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
        summary = report_summary(stderr)
        phase = "" if b"".join(chunks)[:1] == b"C" else " while building the arguments"
        outcome = {"kind": "crash", "type": "", "signal": how,
                   "message": f"{how}{phase}" + (f" ({summary})" if summary else "")}
    peak = usage.ru_maxrss / 1024
    if outcome["kind"] in ("result", "raise") and peak - base_rss > EXCESS_RSS_MB:
        outcome = {**outcome, "kind": "memory", "message": f"peak RSS grew by {peak - base_rss:.0f} MB "
                                                            f"({outcome['kind']} {outcome.get('type', '')})"}
    outcome.update(seconds=seconds, stderr=report_head(stderr), peak_mb=peak)
    return outcome


def serve():
    """The worker's loop: requests in on stdin, outcomes out on stdout (the child never touches either)."""
    requests, replies = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_RDWR)
    os.dup2(quiet, 0)
    os.dup2(quiet, 1)  # print() in a child (fit's progress, summary) must not reach the protocol pipe
    import bprop
    import fuzzing.outcome  # noqa: F401 - imported once here, so children start at once
    import fuzzing.registry  # noqa: F401 - the same

    threads = bprop.get_num_threads()
    timeout = float(os.environ.get("BPROP_FUZZ_TIMEOUT", "20"))
    root = os.environ["BPROP_FUZZ_ROOT"]  # made and removed by the test side, which outlives a killed worker
    _send(replies, {"ready": True, "bprop": bprop.__file__, "threads": threads})
    while (request := _receive(requests)) is not None:
        _send(replies, run_isolated(request, root, threads, request.get("timeout") or timeout))


# -- the test side ------------------------------------------------------------------------------------------------
class Worker:
    """The test's handle on a worker process; run(case) returns the outcome, restarting a dead worker."""

    def __init__(self):
        self.process, self.info, self.restarts, self.root = None, None, 0, None
        self.timeout = float(os.environ.get("BPROP_FUZZ_TIMEOUT", "20"))

    def start(self):
        self.close()  # a worker that died leaves its directory
        self.root = tempfile.mkdtemp(prefix="bprop-fuzz-")
        env = dict(os.environ, BPROP_FUZZ_ROOT=self.root)
        env.setdefault("OMP_THREAD_LIMIT", "4")  # set_num_threads(10**6) must not start 10**6 threads here
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # children are short-lived: no spinning between calls
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(HERE), env.get("PYTHONPATH")]))
        if UNDER_ASAN:
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":max_allocation_size_mb=3072"
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.info = _receive(self.process.stdout)
        if self.info is None:
            raise RuntimeError("the fuzz worker did not start (see its stderr above)")
        return self.info

    def run(self, case, timeout=None):
        """The outcome of one case; timeout: seconds before it counts as hung (default BPROP_FUZZ_TIMEOUT)."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        try:
            _send(self.process.stdin, {"entry": case["entry"], "args": case["args"], "timeout": timeout})
            ready, _, _ = select.select([self.process.stdout], [], [], self.timeout + 60)
            outcome = _receive(self.process.stdout) if ready else None
        except (BrokenPipeError, OSError):
            outcome = None
        if outcome is None:
            self.close()
            self.restarts += 1
            return {"kind": "worker", "type": "", "message": "the worker process died or stopped answering"}
        return outcome

    def close(self):
        """Stop the worker (it ends at the end of its input; killed if it does not) and remove its files."""
        if self.process is not None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


def _parse_case(entry, text):
    from fuzzing.registry import REGISTRY
    from fuzzing.values import R

    if entry not in REGISTRY:
        sys.exit(f"unknown entry {entry!r}; the registry has: {', '.join(REGISTRY)}")
    return {"entry": entry, "args": eval(text, {"R": R, "nan": math.nan, "inf": math.inf, "np": np}), "valid": False}


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(HERE))
    if sys.argv[1:] == ["--serve"]:
        serve()
    elif len(sys.argv) == 4 and sys.argv[1] == "--replay":
        case, worker = _parse_case(sys.argv[2], sys.argv[3]), Worker()
        print("bprop:", worker.start()["bprop"])
        outcome = worker.run(case)
        worker.close()
        for key in ("kind", "type", "message", "stderr", "traceback"):
            if outcome.get(key):
                print(f"{key}: {outcome[key]}")
    elif len(sys.argv) == 4 and sys.argv[1] == "--inline":
        from fuzzing.registry import REGISTRY
        from fuzzing.values import build

        case = _parse_case(sys.argv[2], sys.argv[3])
        print(REGISTRY[case["entry"]].call(**build(case["args"])))
    else:
        sys.exit(__doc__)
