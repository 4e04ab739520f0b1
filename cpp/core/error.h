// Error types of the core. Thrown only while validating, before any OpenMP region: kernels never throw.
#pragma once
#include <stdexcept>
#include <string>

namespace bprop {

// Bad shapes, sizes and hyperparameters. Derives std::invalid_argument so pybind11 maps it to ValueError.
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Bad dtypes and memory layouts. The bindings register a translator to Python's TypeError.
class TypeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bprop
