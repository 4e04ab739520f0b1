"""Entries that misbehave on purpose (a segfault, an abort, a hang, an exit, a foreign error), for the
test that checks the worker catches and reports each; never part of the sweep."""
import ctypes
import os
import time

from hypothesis import strategies as st

from .entry import Entry


def call_misbehave(how):
    if how == "segfault":
        ctypes.string_at(0)
    elif how == "abort":
        os.abort()
    elif how == "hang":
        time.sleep(3600)
    elif how == "exit":
        os._exit(3)
    elif how == "keyerror":
        raise KeyError("k")
    return how


ENTRIES = [Entry("selfcheck.misbehave", call_misbehave, st.just({"how": "return"}))]
