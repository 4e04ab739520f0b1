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

Tensor forward(const Tensor& x, const ops::Activation& f) {
  Tensor out = make_tensor(x->dtype(), x->shape());
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    f.forward<T>(x->data<T>(), out->data<T>(), x->numel());
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


// First-order vjps (plain backward) run the layers' backward kernel, one pass; under create_graph the
// vjp is the formula in differentiable ops, so it can be differentiated again. Both read f' from y.
template <class Formula>
Tensor activation_vjp(const ops::Activation& f, const Tensor& y, const Tensor& g, Formula formula) {
  if (grad_enabled()) return formula();
  const Tensor g_values = to_dtype(g, y->dtype());
  Tensor dx = make_tensor(y->dtype(), y->shape());
  dispatch(y->dtype(), [&](auto zero) {
    using T = decltype(zero);
    f.backward<T>(y->data<T>(), y->data<T>(), g_values->data<T>(), dx->data<T>(), y->numel());
  });
  return dx;
}

// ReLU, Sigmoid and Tanh: the kernel forward, f' read from the output y (derivative(y), in differentiable ops).
template <class Derivative>
Tensor output_activation(const Tensor& x, const char* name, const char* op, Derivative derivative) {
  const ops::Activation f(name);
  Tensor out = forward(x, f);
  record_fn(out, op, x, [f, derivative](Node& n, const Tensor& g) {
    const Tensor y = n.saved_tensor(0);
    return activation_vjp(f, y, g, [&] { return mul(g, derivative(y)); });
  }, {{out, true}});
  return out;
}

// Any table entry: the kernel forward, and a vjp by its backward kernel from x and/or y (as the entry
// reads them), which has no second derivative.
Tensor kernel_activation(const Tensor& x, const ops::Activation& f, const char* op) {
  Tensor out = forward(x, f);
  const bool reads_x = f.reads() != ops::Reads::y, reads_y = f.reads() != ops::Reads::x;
  std::vector<std::pair<Tensor, bool>> saved;
  if (reads_x) saved.push_back({x, false});
  if (reads_y) saved.push_back({out, true});
  record_fn(out, op, x, [f, op, reads_x, reads_y](Node& n, const Tensor& g) {
    const Tensor x = reads_x ? n.saved_tensor(0) : Tensor(), y = reads_y ? n.saved_tensor(reads_x ? 1 : 0) : Tensor();
    const Tensor& like = reads_x ? x : y;
    const Tensor g_values = to_dtype(detach(g), like->dtype());
    Tensor dx = make_tensor(like->dtype(), like->shape());
    dispatch(like->dtype(), [&](auto zero) {
      using T = decltype(zero);
      f.backward<T>(reads_x ? x->data<T>() : nullptr, reads_y ? y->data<T>() : nullptr, g_values->data<T>(),
                    dx->data<T>(), like->numel());
    });
    std::vector<Tensor> inputs{g};
    if (reads_x) inputs.push_back(x);
    record(dx, std::make_shared<NoSecondDerivative>(op), inputs);
    return dx;
  }, std::move(saved));
  return out;
}

}  // namespace

Tensor relu(const Tensor& x) {
  return output_activation(x, "ReLU", "relu",
                           [](const Tensor& y) { return compare(y, scalar_tensor(y->dtype(), 0), Compare::gt); });
}

Tensor sigmoid(const Tensor& x) {
  return output_activation(x, "Sigmoid", "sigmoid",
                           [](const Tensor& y) { return mul(y, sub(scalar_tensor(y->dtype(), 1), y)); });
}

Tensor tanh(const Tensor& x) {
  return output_activation(x, "Tanh", "tanh",
                           [](const Tensor& y) { return sub(scalar_tensor(y->dtype(), 1), mul(y, y)); });
}

Tensor gelu(const Tensor& x, bool approximate_tanh) {
  return kernel_activation(x, ops::Activation(approximate_tanh ? "GELUTanh" : "GELU"), "gelu");
}

Tensor activation(const Tensor& x, const std::string& name, const std::vector<double>& params) {
  const ops::Activation f(name, params);
  return kernel_activation(x, f, f.entry().op.c_str());
}

Tensor softmax(const Tensor& x, long axis) { return along_axis(x, axis, "softmax", softmax_last); }

Tensor log_softmax(const Tensor& x, long axis) { return along_axis(x, axis, "log_softmax", log_softmax_last); }

}  // namespace bprop::autograd
