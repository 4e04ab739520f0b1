#include "autograd/tensor.h"

#include <cstring>

#include "autograd/node.h"
#include "core/error.h"
#include "core/sizes.h"

namespace bprop::autograd {

const char* dtype_name(DType dtype) { return dtype == DType::float32 ? "float32" : "float64"; }

long numel(const Shape& shape) {
  long n = 1;
  for (long d : shape) n *= d;
  return n;
}

TensorImpl::TensorImpl(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = checked_count(shape_, dtype_size(dtype), "[Tensor]");
  buffer_ = std::make_shared<Buffer>();
  const std::size_t bytes = std::size_t(std::max(numel_, 1L)) * dtype_size(dtype);
  buffer_->data = buffer_->memory.reserve(bytes);
  std::memset(buffer_->data, 0, bytes);
}

TensorImpl::TensorImpl(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer)
    : dtype_(dtype), shape_(std::move(shape)), numel_(autograd::numel(shape_)), buffer_(std::move(buffer)) {}

void TensorImpl::set_requires_grad(bool value) {
  if (!is_leaf())
    throw ValueError("[Tensor.requires_grad] can only be set on a leaf tensor (one no operation made); use "
                     "detach() first");
  requires_grad_ = value;
}

std::shared_ptr<Node> TensorImpl::grad_accumulator(const Tensor& self) {
  if (auto existing = accumulator_.lock()) return existing;
  auto made = std::make_shared<AccumulateGrad>(self);
  accumulator_ = made;
  return made;
}

Tensor make_tensor(DType dtype, Shape shape) { return std::make_shared<TensorImpl>(dtype, std::move(shape)); }

Tensor full_like(const Tensor& like, double value) {
  Tensor out = make_tensor(like->dtype(), like->shape());
  dispatch(out->dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* data = out->data<T>();
    for (long i = 0; i < out->numel(); ++i) data[i] = T(value);
  });
  return out;
}

Tensor scalar_tensor(DType dtype, double value) {
  Tensor out = make_tensor(dtype, {});
  dispatch(dtype, [&](auto zero) { out->data<decltype(zero)>()[0] = decltype(zero)(value); });
  return out;
}

namespace {
thread_local bool grad_mode_enabled = true;
}

bool grad_enabled() { return grad_mode_enabled; }
void set_grad_enabled(bool enabled) { grad_mode_enabled = enabled; }
GradMode::GradMode(bool enabled) : previous_(grad_mode_enabled) { grad_mode_enabled = enabled; }
GradMode::~GradMode() { grad_mode_enabled = previous_; }

}  // namespace bprop::autograd
