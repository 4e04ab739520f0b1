// Moving arrays across the boundary, checked once: copies out as new numpy arrays, borrowed views in.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sizes.h"  // shape_text

namespace bprop::bindings {

template <typename T>
const char* dtype_name() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  if constexpr (std::is_same_v<T, double>) return "float64";
  if constexpr (std::is_same_v<T, int64_t>) return "int64";
  return "?";
}

inline std::vector<long> shape_of(const pybind11::array& x) {
  return std::vector<long>(x.shape(), x.shape() + x.ndim());
}

// A new numpy array holding a copy of `data`.
template <typename T>
pybind11::array_t<T> copy_to_numpy(const T* data, const std::vector<long>& shape) {
  pybind11::array_t<T> out(std::vector<pybind11::ssize_t>(shape.begin(), shape.end()));
  if (out.size()) std::memcpy(out.mutable_data(), data, sizeof(T) * std::size_t(out.size()));
  return out;
}

// The data of a C-contiguous array of exactly T, borrowed for one call. `where` names the caller in
// errors ("[Linear.forward] x"). A wrong dtype or layout is a TypeError: no silent conversion or copy.
template <typename T>
const T* borrow(const pybind11::array& x, const std::string& where) {
  if (!pybind11::isinstance<pybind11::array_t<T>>(x) || x.dtype().num() != pybind11::dtype::of<T>().num())
    throw TypeError(where + " must be " + dtype_name<T>() + "; got " + std::string(pybind11::str(x.dtype())));
  if (!(x.flags() & pybind11::array::c_style))
    throw TypeError(where + " must be C-contiguous");
  // A view at an odd byte offset (np.frombuffer(b, offset=1)) cannot be read through a T*; the Python front
  // copies such arrays (bprop._checks.c_array), so only a direct caller of _core gets here.
  if (!(x.flags() & pybind11::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw TypeError(where + " is not aligned to its dtype; copy it first (numpy.require(x, requirements='A'))");
  return static_cast<const T*>(x.data());
}

template <typename T>
T* borrow_mutable(pybind11::array& x, const std::string& where) {
  const T* data = borrow<T>(x, where);
  if (!x.writeable()) throw ValueError(where + " is read-only");
  return const_cast<T*>(data);
}

// (rows, *sample): the shape of a batch of `rows` samples.
inline std::vector<long> batch_shape(long rows, const std::vector<long>& sample) {
  std::vector<long> shape{rows};
  shape.insert(shape.end(), sample.begin(), sample.end());
  return shape;
}

// borrow() plus an exact shape check.
template <typename T>
const T* borrow_shaped(const pybind11::array& x, const std::vector<long>& shape, const std::string& where) {
  const T* data = borrow<T>(x, where);
  if (shape_of(x) != shape)
    throw ValueError(where + " has shape " + shape_text(shape_of(x)) + "; expected " + shape_text(shape));
  return data;
}

// The int64 indices of x (C-contiguous int64), each checked to lie in [0, count) before any work: a
// ValueError naming the first index out of range and the table's size.
inline const int64_t* borrow_indices(const pybind11::array& x, long count, const std::string& where) {
  const int64_t* data = borrow<int64_t>(x, where);
  const long n = long(x.size());
  for (long i = 0; i < n; ++i)
    if (data[i] < 0 || data[i] >= count)
      throw ValueError(where + " holds the index " + std::to_string(data[i]) + " (at flat position " + std::to_string(i) +
                       "), out of range for a table of " + std::to_string(count) + " rows (expected 0.." +
                       std::to_string(count - 1) + ")");
  return data;
}

// Class labels, each in [0, classes) or equal to `ignore` (a loss's ignore_index): ValueError naming the first
// other label and its index, with the text Python's CrossEntropy uses.
inline void check_labels(const int64_t* labels, long rows, long classes, std::optional<int64_t> ignore,
                         const std::string& where) {
  for (long i = 0; i < rows; ++i)
    if ((labels[i] < 0 || labels[i] >= classes) && labels[i] != ignore)
      throw ValueError(where + " label " + std::to_string(labels[i]) + " at index " + std::to_string(i) +
                       " is out of range for " + std::to_string(classes) + " classes (expected 0.." +
                       std::to_string(classes - 1) +
                       (ignore ? ", or ignore_index " + std::to_string(*ignore) : std::string()) + ")");
}

}  // namespace bprop::bindings
