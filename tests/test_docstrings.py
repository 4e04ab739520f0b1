"""Every public callable carries a numpydoc docstring whose examples run.

Public means: every name in the __all__ of the modules below, and every public method and property a
public class defines (or inherits from a bprop class). Checked with numpydoc's own validator:
GL08 no docstring, SS01 no summary, PR01 a parameter not documented, PR02 a documented parameter that
does not exist, RT01 no Returns section where the function returns a value, EX01 no Examples section.
The examples then run as doctests, so none of them can go stale.
"""
import doctest
import importlib
import inspect

import numpy as np
import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

PUBLIC_MODULES = ["bprop", "bprop.nn", "bprop.nn.functional", "bprop.optim", "bprop.callbacks",
                  "bprop.datasets", "bprop.io"]
OPTIONAL_MODULES = ["bprop.sklearn", "bprop.onnx"]   # need their extras
CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}


def _modules():
    for name in PUBLIC_MODULES:
        yield importlib.import_module(name)
    for name in OPTIONAL_MODULES:
        try:
            yield importlib.import_module(name)
        except ImportError:
            continue


def _public_members(cls):
    """(name, object) of the public methods and properties cls has from bprop classes."""
    seen = set()
    for klass in cls.__mro__:
        if not getattr(klass, "__module__", "").startswith("bprop"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, (property, staticmethod, classmethod)) or inspect.isfunction(value) or \
                    inspect.isroutine(value):
                yield name, value


def _underlying(value):
    """The function a member wraps (a property's getter, a classmethod's function), for de-duplication."""
    if isinstance(value, property):
        return value.fget
    if isinstance(value, (staticmethod, classmethod)):
        return value.__func__
    return value


def _documented(value):
    """The object whose docstring is the member's: a property itself (its doc may be given as
    ``property(fget, doc=...)`` rather than on the getter), the function of a static or class method."""
    if isinstance(value, property):
        return value
    return _underlying(value)


class _Validator(numpydoc_validate.Validator):
    """numpydoc's validator, able to validate a lambda (a property built from one, a generated method).

    numpydoc looks for the line of the ``def`` to read ``# numpydoc ignore`` comments and raises
    StopIteration when the source has none, as a lambda's has not: its own line is the definition line.
    """

    def __init__(self, obj_name):
        super().__init__(numpydoc_validate.get_doc_object(obj_name))

    @property
    def source_file_def_line(self):
        try:
            return super().source_file_def_line
        except StopIteration:
            code = self.code_obj.fget if isinstance(self.code_obj, property) else self.code_obj
            return inspect.getsourcelines(code)[1]


def public_callables():
    """{import path: object} of every public callable. An inherited method is listed once, under the
    first public class that has it, so Layer.train is checked once rather than once per layer."""
    found, seen = {}, set()
    for module in _modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            found[f"{module.__name__}.{name}"] = obj
            if inspect.isclass(obj):
                for member, value in _public_members(obj):
                    if id(_underlying(value)) in seen:
                        continue
                    seen.add(id(_underlying(value)))
                    found[f"{module.__name__}.{name}.{member}"] = value
    return found


CALLABLES = public_callables()
PATHS = sorted(CALLABLES)


@pytest.mark.parametrize("path", PATHS)
def test_numpydoc_sections(path):
    obj = CALLABLES[path]
    is_property = isinstance(obj, property)
    checks = {"GL08", "SS01"} if is_property else CHECKS
    result = numpydoc_validate.validate(_documented(obj), validator_cls=_Validator)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code in checks]
    assert not errors, f"{path}:\n" + "\n".join(errors)


def _doctest_globals():
    import bprop
    from bprop import callbacks, nn, optim
    return {"bprop": bprop, "np": np, "nn": nn, "optim": optim, "callbacks": callbacks}


@pytest.mark.parametrize("path", PATHS)
def test_examples_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # examples that save files write here
    docstring = inspect.getdoc(_documented(CALLABLES[path])) or ""
    test = doctest.DocTestParser().get_doctest(docstring, _doctest_globals(), path, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
