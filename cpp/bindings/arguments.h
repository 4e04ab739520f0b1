// Checks of plain Python arguments that pybind11 would otherwise refuse with its own "incompatible function
// arguments" text: each is taken as a py::object and checked here, so the error names bprop's argument.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "core/error.h"

namespace bprop::bindings {

inline std::string type_name_of(pybind11::handle value) {
  return pybind11::str(pybind11::type::of(value).attr("__name__"));
}

// A Python bool (or NumPy's); TypeError "<what> must be a bool; got <type>" otherwise (1 and "yes" are not).
inline bool as_flag(const pybind11::object& value, const std::string& what) {
  if (pybind11::isinstance<pybind11::bool_>(value)) return value.cast<bool>();
  if (pybind11::hasattr(value, "dtype") && std::string(pybind11::str(value.attr("dtype"))) == "bool" &&
      pybind11::hasattr(value, "item") && pybind11::len(value.attr("shape")) == 0)
    return value.attr("item")().cast<bool>();
  throw TypeError(what + " must be a bool; got " + type_name_of(value));
}

inline std::string as_text(const pybind11::object& value, const std::string& what) {
  if (!pybind11::isinstance<pybind11::str>(value)) throw TypeError(what + " must be a str; got " + type_name_of(value));
  return value.cast<std::string>();
}

}  // namespace bprop::bindings
