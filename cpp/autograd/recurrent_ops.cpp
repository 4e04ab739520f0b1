#include "autograd/recurrent_ops.h"

#include <cstring>
#include <mutex>
#include <string>

#include "autograd/kernels.h"
#include "autograd/layer_grads.h"
#include "autograd/nn_ops.h"
#include "core/error.h"

namespace bprop::autograd {
namespace {

// Where y, h_n and c_n lie in the packed output.
struct Parts {
  long y = 0, state = 0;  // sizes: y, and each of h_n and c_n
  bool cell = false;      // whether c_n follows h_n
  long total() const { return y + state * (cell ? 2 : 1); }
};

template <typename T>
struct RecurrentNode : Node {
  RecurrentNode(std::shared_ptr<nn::Recurrent<T>> layer, uint64_t forward, Parts parts, bool has_h0, bool has_c0)
      : layer_(std::move(layer)), forward_(forward), sample_(layer_->in_shape()), parts_(parts), has_h0_(has_h0),
        has_c0_(has_c0), name_(layer_->name()), parameters_(layer_->parameters()) {}
  const char* name() const override { return name_.c_str(); }

  // Edges: x, then h0 and c0 when given, then the parameters.
  std::vector<Tensor> apply(const Tensor& grad_output) override {
    std::lock_guard<std::mutex> lock(layer_->cache_mutex());
    if (layer_->graph_forwards != forward_)
      throw ValueError("[backward] " + name_ + " ran another forward since this graph used it, and its backward "
                       "needs that forward's cache; call backward() before applying it again, or use one " +
                       name_ + " per use");
    const Tensor x = saved_tensor(0);
    for (std::size_t i = 1; i < saved.size(); ++i) saved_tensor(i);  // the weights: not updated since the forward
    const Tensor g = to_dtype(grad_output, dtype_of<T>());
    if (layer_->in_shape() != sample_) layer_->build(sample_);
    const long rows = x->shape()[0];
    const std::size_t first_parameter = 1 + (has_h0_ ? 1 : 0) + (has_c0_ ? 1 : 0);
    std::vector<Tensor> grads(first_parameter + parameters_.size());
    if (needs_grad(0)) grads[0] = make_tensor(dtype_of<T>(), x->shape());
    const Shape state_shape{layer_->state_count(), rows, layer_->config().hidden_size};
    nn::RecurrentStateGrads<T> states;
    const T* packed = g->template data<T>();
    states.dh_n = packed + parts_.y;
    if (parts_.cell) states.dc_n = packed + parts_.y + parts_.state;
    if (has_h0_ && needs_grad(1)) {
      grads[1] = make_tensor(dtype_of<T>(), state_shape);
      states.dh0 = grads[1]->template data<T>();
    }
    const std::size_t c0_edge = has_h0_ ? 2 : 1;
    if (has_c0_ && needs_grad(c0_edge)) {
      grads[c0_edge] = make_tensor(dtype_of<T>(), state_shape);
      states.dc0 = grads[c0_edge]->template data<T>();
    }
    T* dx = grads[0] ? grads[0]->template data<T>() : nullptr;
    detail::route_parameter_grads(*this, first_parameter, parameters_, grads, [&](bool accumulate) {
      layer_->backward_states(x->template data<T>(), packed, rows, states, dx, accumulate);
    });
    detail::refuse_second_derivative(grads, name_, grad_output, x);
    return grads;
  }

 private:
  std::shared_ptr<nn::Recurrent<T>> layer_;
  uint64_t forward_;
  nn::SampleShape sample_;
  Parts parts_;
  bool has_h0_, has_c0_;
  std::string name_;
  std::vector<nn::ParameterPtr<T>> parameters_;
};

// values[offset, offset + numel(shape)) of the packed output as a tensor of `shape`; its vjp puts the gradient
// back at that place in a zero gradient of the whole (the engine sums the parts' gradients).
Tensor part_of(const Tensor& packed, long offset, Shape shape) {
  Tensor out = make_tensor(packed->dtype(), std::move(shape));
  const std::size_t bytes = dtype_size(packed->dtype());
  std::memcpy(out->raw(), static_cast<char*>(packed->raw()) + offset * bytes, bytes * std::size_t(out->numel()));
  const long total = packed->numel();
  const DType dtype = packed->dtype();
  detail::record_fn(out, "recurrent_output", {packed}, [offset, total, dtype, bytes](Node&, const Tensor& g) {
    Tensor whole = make_tensor(dtype, {total});
    const Tensor part = to_dtype(g, dtype);
    std::memcpy(static_cast<char*>(whole->raw()) + offset * bytes, part->raw(), bytes * std::size_t(part->numel()));
    return std::vector<Tensor>{whole};
  });
  return out;
}

void check_state(const Tensor& state, const Shape& shape, DType dtype, const std::string& where, const char* name) {
  if (!state) return;
  if (state->dtype() != dtype)
    throw TypeError(where + " " + name + " must be " + dtype_name(dtype) + " like x; got " + dtype_name(state->dtype()));
  if (state->shape() != shape)
    throw ValueError(where + " " + name + " must have shape (num_layers*num_directions, samples, hidden_size) = " +
                     shape_text(shape) + "; got " + shape_text(state->shape()));
}

}  // namespace

template <typename T>
std::vector<Tensor> apply_recurrent(const std::shared_ptr<nn::Recurrent<T>>& layer, const Tensor& x, const Tensor& h0,
                                    const Tensor& c0, const int64_t* lengths, bool training) {
  const std::string where = "[" + layer->name() + "]";
  if (!x) throw TypeError(where + " x must be a Tensor; got None");
  if (x->dtype() != dtype_of<T>())
    throw TypeError(where + " computes in " + dtype_name(dtype_of<T>()) + "; got a " + dtype_name(x->dtype()) +
                    " tensor (convert it with astype, or make the layer with dtype='" + dtype_name(x->dtype()) + "')");
  const bool lstm = layer->config().cell == ops::CellKind::lstm;
  if (c0 && !lstm) throw ValueError(where + " c0 is the LSTM's cell state; " + layer->name() + " has none");
  if (x->dim() != 3 || x->numel() == 0)
    throw ValueError(where + " needs a tensor of shape (samples, time, input_size) with samples and time >= 1; got " +
                     shape_text(x->shape()));
  const nn::SampleShape sample{x->shape()[1], x->shape()[2]};
  if (layer->in_shape() != sample) layer->build(sample);  // ValueError naming input_size
  const long rows = x->shape()[0];
  const Shape state_shape{layer->state_count(), rows, layer->config().hidden_size};
  check_state(h0, state_shape, x->dtype(), where, "h0");
  check_state(c0, state_shape, x->dtype(), where, "c0");

  Shape y_shape = layer->out_shape();
  y_shape.insert(y_shape.begin(), rows);
  Parts parts;
  parts.y = numel(y_shape);
  parts.state = numel(state_shape);
  parts.cell = lstm;
  Tensor packed = make_tensor(dtype_of<T>(), {parts.total()});
  T* out = packed->template data<T>();
  nn::RecurrentStates<T> states;
  states.h0 = h0 ? h0->template data<T>() : nullptr;
  states.c0 = c0 ? c0->template data<T>() : nullptr;
  states.h_n = out + parts.y;
  if (lstm) states.c_n = out + parts.y + parts.state;

  std::vector<Tensor> inputs{x};
  if (h0) inputs.push_back(h0);
  if (c0) inputs.push_back(c0);
  for (const auto& parameter : layer->parameters()) inputs.push_back(parameter_tensor(parameter));
  bool recording = false;
  if (grad_enabled())
    for (const auto& input : inputs) recording = recording || input->requires_grad();
  if (!training && !recording) {
    layer->infer_states(x->template data<T>(), rows, lengths, states, out);
  } else {
    std::lock_guard<std::mutex> lock(layer->cache_mutex());
    const uint64_t forward = ++layer->graph_forwards;
    layer->forward_states(x->template data<T>(), rows, lengths, states, out, training ? nn::Mode::train : nn::Mode::eval);
    auto node = std::make_shared<RecurrentNode<T>>(layer, forward, parts, bool(h0), bool(c0));
    if (record(packed, node, inputs)) {
      node->saved.emplace_back(x, false);
      for (std::size_t i = 1 + (h0 ? 1 : 0) + (c0 ? 1 : 0); i < inputs.size(); ++i) node->saved.emplace_back(inputs[i], false);
    }
  }
  return {part_of(packed, 0, y_shape), part_of(packed, parts.y, state_shape),
          lstm ? part_of(packed, parts.y + parts.state, state_shape) : Tensor()};
}

template std::vector<Tensor> apply_recurrent<float>(const std::shared_ptr<nn::Recurrent<float>>&, const Tensor&,
                                                    const Tensor&, const Tensor&, const int64_t*, bool);
template std::vector<Tensor> apply_recurrent<double>(const std::shared_ptr<nn::Recurrent<double>>&, const Tensor&,
                                                     const Tensor&, const Tensor&, const int64_t*, bool);

}  // namespace bprop::autograd
