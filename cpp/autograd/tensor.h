// Tensor: the autograd engine's value. A dtype (float32 or float64), a shape, and a contiguous buffer
// shared with the tensors that view it (reshape, detach, numpy()). Each buffer counts in-place writes
// (its version), so a backward that needs values which were overwritten after the forward says so.
// A tensor that requires grad either is a leaf (its gradient accumulates in `grad`) or has the graph
// node that made it (`grad_fn`).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/sizes.h"  // shape_text, for error messages
#include "core/workspace.h"

namespace bprop::autograd {

enum class DType { float32, float64 };
const char* dtype_name(DType dtype);
inline std::size_t dtype_size(DType dtype) { return dtype == DType::float32 ? 4 : 8; }

using Shape = std::vector<long>;
long numel(const Shape& shape);

struct Buffer {
  AlignedBuffer memory;
  void* data = nullptr;                // memory's, or storage kept alive by `owner`
  std::shared_ptr<void> owner;         // a Parameter whose arrays this buffer views
  std::shared_ptr<void> storage;       // the block `data` lies in when a Parameter's: NumPy views keep it
  uint64_t version = 0;  // bumped by every in-place write
  const uint64_t* external_writes = nullptr;  // a viewed Parameter's own write count (owner keeps it alive)
  uint64_t current_version() const { return version + (external_writes ? *external_writes : 0); }
};

struct Node;
class TensorImpl;
using Tensor = std::shared_ptr<TensorImpl>;

class TensorImpl {
 public:
  // A new zero-filled tensor.
  TensorImpl(DType dtype, Shape shape);
  // A view of `buffer` (no copy) with its own shape and no graph.
  TensorImpl(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  long dim() const { return long(shape_.size()); }
  long size(long axis) const { return shape_[axis]; }
  long numel() const { return numel_; }
  template <typename T>
  T* data() { return static_cast<T*>(buffer_->data); }
  template <typename T>
  const T* data() const { return static_cast<const T*>(buffer_->data); }
  void* raw() { return buffer_->data; }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }
  uint64_t version() const { return buffer_->current_version(); }
  void bump_version() { ++buffer_->version; }

  bool requires_grad() const { return requires_grad_; }
  void set_requires_grad(bool value);  // ValueError on a non-leaf
  bool is_leaf() const { return grad_fn_ == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return grad_fn_; }
  void set_grad_fn(std::shared_ptr<Node> node) {
    grad_fn_ = std::move(node);
    requires_grad_ = true;
  }
  // A leaf's gradient, accumulated by backward (null until then).
  Tensor grad;
  // Set when `grad` views storage someone else reads (a Parameter's gradient, which optimizers step
  // from): backward adds into it in place and never replaces it.
  bool grad_pinned = false;
  // The node that adds into `grad`: one per leaf, made on first use.
  std::shared_ptr<Node> grad_accumulator(const Tensor& self);

  std::string name;  // optional, for error messages and to_dot

 private:
  DType dtype_;
  Shape shape_;
  long numel_;
  std::shared_ptr<Buffer> buffer_;
  bool requires_grad_ = false;
  std::shared_ptr<Node> grad_fn_;
  std::weak_ptr<Node> accumulator_;
};

Tensor make_tensor(DType dtype, Shape shape);  // zero-filled
Tensor full_like(const Tensor& like, double value);
Tensor scalar_tensor(DType dtype, double value);  // shape ()

// Calls f(T{}) with T the tensor dtype's C++ type.
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
  if (dtype == DType::float32) return f(float{});
  return f(double{});
}

// Autograd records operations only while enabled (per thread): no_grad() turns it off, and backward
// turns it off for the vector-Jacobian products unless create_graph is asked for.
bool grad_enabled();
void set_grad_enabled(bool enabled);  // Python's no_grad() saves and restores around it
class GradMode {
 public:
  explicit GradMode(bool enabled);
  ~GradMode();
  GradMode(const GradMode&) = delete;
  GradMode& operator=(const GradMode&) = delete;

 private:
  bool previous_;
};

}  // namespace bprop::autograd
