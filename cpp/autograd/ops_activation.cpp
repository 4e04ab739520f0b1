// Activations and softmax on tensors: forwards run the kernels of ops/activations and ops/softmax (the
// same ones the layers use); vjps are written with tensor operations where that keeps them twice
// differentiable, and call the kernel where it does not (GELU).
#include "autograd/kernels.h"
#include "autograd/node.h"
#include "core/error.h"
#include "ops/activations.h"
#include "ops/softmax.h"

namespace bprop::autograd {
namespace {

// One input each: record_fn(out, op, {x}, vjp, saved).
template <class Vjp>
void record_fn(const Tensor& out, const char* op, const Tensor& x, Vjp vjp, std::vector<std::pair<Tensor, bool>> saved) {
  detail::record_fn(out, op, {x}, std::move(vjp), std::move(saved));
}

Tensor activation(const Tensor& x, ops::Activation kind) {
  Tensor out = make_tensor(x->dtype(), x->shape());
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::activation_forward<T>(kind, T(0), x->data<T>(), out->data<T>(), x->numel());
  });
  return out;
}

// out = kernel(x) over the rows of the last axis, the layout the row kernels of ops/softmax take.
template <class Kernel>
Tensor rowwise(const Tensor& x, Kernel&& kernel) {
  const long cols = x->size(x->dim() - 1);
  Tensor out = make_tensor(x->dtype(), x->shape());
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    if (cols > 0) kernel(x->data<T>(), x->numel() / cols, cols, out->data<T>());
  });
  return out;
}

// f(x) over `axis` (negative counts from the end), f working over the last axis: another axis is
// swapped to the end and back with transpose, so the row kernels and f's vjp serve every axis and
// double backward goes through the transposes.
template <class F>
Tensor along_axis(const Tensor& x, long axis, const char* op, F&& f) {
  const long rank = x->dim();
  if (rank < 1) throw ValueError(std::string("[") + op + "] needs at least one dimension; got shape ()");
  if (axis < -rank || axis >= rank)
    throw ValueError(std::string("[") + op + "] axis " + std::to_string(axis) + " is out of range for " +
                     std::to_string(rank) + " dimensions");
  if (axis < 0) axis += rank;
  if (axis == rank - 1) return f(x);
  std::vector<long> swap(rank);
  for (long d = 0; d < rank; ++d) swap[d] = d;
  std::swap(swap[axis], swap[rank - 1]);  // its own inverse
  return transpose(f(transpose(x, swap)), swap);
}

Tensor softmax_last(const Tensor& x) {
  Tensor out = rowwise(x, [](const auto* in, long rows, long cols, auto* o) { ops::softmax_rows(in, rows, cols, o); });
  record_fn(out, "softmax", x, [](Node& n, const Tensor& g) {
    const Tensor y = n.saved_tensor(0);
    return mul(y, sub(g, sum(mul(g, y), {-1}, true)));
  }, {{out, true}});
  return out;
}

Tensor log_softmax_last(const Tensor& x) {
  Tensor out = rowwise(x, [](const auto* in, long rows, long cols, auto* o) { ops::log_softmax_rows(in, rows, cols, o); });
  record_fn(out, "log_softmax", x, [](Node& n, const Tensor& g) {
    const Tensor y = n.saved_tensor(0);
    return sub(g, mul(exp(y), sum(g, {-1}, true)));
  }, {{out, true}});
  return out;
}

}  // namespace

// First-order vjps (plain backward) run the layers' backward kernel, one pass; under create_graph the
// vjp is the formula in differentiable ops, so it can be differentiated again. Both read f' from y.
template <class Formula>
Tensor activation_vjp(ops::Activation kind, const Tensor& y, const Tensor& g, Formula formula) {
  if (grad_enabled()) return formula();
  const Tensor g_values = to_dtype(g, y->dtype());
  Tensor dx = make_tensor(y->dtype(), y->shape());
  dispatch(y->dtype(), [&](auto zero) {
    using T = decltype(zero);
    ops::activation_backward<T>(kind, T(0), y->data<T>(), y->data<T>(), g_values->data<T>(), dx->data<T>(), y->numel());
  });
  return dx;
}

// ReLU, Sigmoid and Tanh: the kernel forward, f' read from the output y (derivative(y), in differentiable ops).
template <class Derivative>
Tensor output_activation(const Tensor& x, ops::Activation kind, const char* op, Derivative derivative) {
  Tensor out = activation(x, kind);
  record_fn(out, op, x, [kind, derivative](Node& n, const Tensor& g) {
    const Tensor y = n.saved_tensor(0);
    return activation_vjp(kind, y, g, [&] { return mul(g, derivative(y)); });
  }, {{out, true}});
  return out;
}

Tensor relu(const Tensor& x) {
  return output_activation(x, ops::Activation::relu, "relu",
                           [](const Tensor& y) { return compare(y, scalar_tensor(y->dtype(), 0), Compare::gt); });
}

Tensor sigmoid(const Tensor& x) {
  return output_activation(x, ops::Activation::sigmoid, "sigmoid",
                           [](const Tensor& y) { return mul(y, sub(scalar_tensor(y->dtype(), 1), y)); });
}

Tensor tanh(const Tensor& x) {
  return output_activation(x, ops::Activation::tanh, "tanh",
                           [](const Tensor& y) { return sub(scalar_tensor(y->dtype(), 1), mul(y, y)); });
}

Tensor gelu(const Tensor& x, bool approximate_tanh) {
  const auto kind = approximate_tanh ? ops::Activation::gelu_tanh : ops::Activation::gelu;
  Tensor out = activation(x, kind);
  record_fn(out, "gelu", x, [kind](Node& n, const Tensor& g) {
    const Tensor x = n.saved_tensor(0), g_values = to_dtype(detach(g), x->dtype());
    Tensor dx = make_tensor(x->dtype(), x->shape());
    dispatch(x->dtype(), [&](auto zero) {
      using T = decltype(zero);
      ops::activation_backward<T>(kind, T(0), x->data<T>(), nullptr, g_values->data<T>(), dx->data<T>(), x->numel());
    });
    record(dx, std::make_shared<NoSecondDerivative>("gelu"), {g, x});
    return dx;
  }, {{x, false}});
  return out;
}

Tensor softmax(const Tensor& x, long axis) { return along_axis(x, axis, "softmax", softmax_last); }

Tensor log_softmax(const Tensor& x, long axis) { return along_axis(x, axis, "log_softmax", log_softmax_last); }

}  // namespace bprop::autograd
