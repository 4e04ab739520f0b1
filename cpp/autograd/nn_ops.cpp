#include "autograd/nn_ops.h"

#include <cstring>
#include <mutex>
#include <utility>

#include "autograd/engine.h"
#include "autograd/layer_grads.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/error.h"

namespace bprop::autograd {
namespace {

// A tensor viewing `storage` (a parameter's value or gradient), keeping the parameter alive.
template <typename T>
Tensor view_of(const nn::ParameterPtr<T>& parameter, Array<T>& storage) {
  auto buffer = std::make_shared<Buffer>();
  buffer->data = storage.data();
  buffer->storage = storage.block();
  buffer->owner = parameter;
  return std::make_shared<TensorImpl>(dtype_of<T>(), Shape(parameter->shape), std::move(buffer));
}

template <typename T>
struct LayerNode : Node {
  LayerNode(nn::LayerPtr<T> layer, uint64_t forward)
      : layer_(std::move(layer)), forward_(forward), sample_(layer_->in_shape()) {
    name_ = layer_->name();
    parameters_ = layer_->parameters();
  }
  const char* name() const override { return name_.c_str(); }

  std::vector<Tensor> apply(const Tensor& grad_output) override {
    std::lock_guard<std::mutex> lock(layer_->cache_mutex());
    if (layer_->caches_forward() && layer_->graph_forwards != forward_)
      throw ValueError("[backward] " + name_ + " ran another forward since this graph used it, and its backward "
                       "needs that forward's cache; call backward() before applying it again, or use one " +
                       name_ + " per use");
    const Tensor x = saved_tensor(0), y = saved_tensor(1);
    for (std::size_t i = 2; i < saved.size(); ++i) saved_tensor(i);  // the weights: not updated since the forward
    const Tensor dy = to_dtype(grad_output, dtype_of<T>());
    // The layer may have been built for another shape since (one activation serving several widths).
    if (layer_->in_shape() != sample_) layer_->build(sample_);
    const long rows = x->numel() / layer_->in_size();
    std::vector<Tensor> grads(1 + parameters_.size());
    if (needs_grad(0)) grads[0] = make_tensor(dtype_of<T>(), x->shape());
    T* dx = grads[0] ? grads[0]->template data<T>() : nullptr;

    detail::route_parameter_grads(*this, 1, parameters_, grads, [&](bool accumulate) {
      layer_->backward(x->template data<T>(), y->template data<T>(), dy->template data<T>(), rows, dx, accumulate);
    });
    detail::refuse_second_derivative(grads, name_, grad_output, x);
    return grads;
  }

 private:
  nn::LayerPtr<T> layer_;
  uint64_t forward_;
  nn::SampleShape sample_;  // the shape the forward ran on
  std::string name_;
  std::vector<nn::ParameterPtr<T>> parameters_;
};

template <typename T>
struct LossNode : Node {
  explicit LossNode(std::string name) : name_(std::move(name)) {}
  const char* name() const override { return name_.c_str(); }
  std::vector<Tensor> apply(const Tensor& grad_output) override {
    const Tensor out = saved_tensor(0), gradient = saved_tensor(1);
    Tensor dout;
    {
      GradMode off(false);
      dout = mul(to_dtype(grad_output, dtype_of<T>()), gradient);
    }
    detail::refuse_second_derivative({dout}, name_, grad_output, out);
    return {dout};
  }

 private:
  std::string name_;
};

}  // namespace

template <typename T>
Tensor parameter_tensor(const nn::ParameterPtr<T>& parameter) {
  // Layer calls reach here with the GIL released: two threads must not both make the one view.
  static std::mutex making;
  std::lock_guard<std::mutex> lock(making);
  if (auto existing = parameter->tensor_view.lock()) return std::static_pointer_cast<TensorImpl>(existing);
  Tensor view = view_of(parameter, parameter->value);
  view->buffer()->external_writes = &parameter->writes;
  view->name = parameter->name;
  view->set_requires_grad(parameter->requires_grad);
  view->grad = view_of(parameter, parameter->grad);
  view->grad_pinned = true;
  parameter->tensor_view = view;
  // An optimizer moving the parameter into its arena re-points both buffers (and every view sharing them).
  nn::Parameter<T>* moved = parameter.get();  // the callback lives in the parameter: never outlives it
  std::weak_ptr<Buffer> values = view->buffer(), grads = view->grad->buffer();
  parameter->storage_moved = [moved, values, grads] {
    if (auto buffer = values.lock()) buffer->data = moved->value.data(), buffer->storage = moved->value.block();
    if (auto buffer = grads.lock()) buffer->data = moved->grad.data(), buffer->storage = moved->grad.block();
  };
  return view;
}

template <typename T>
Tensor apply_layer(const nn::LayerPtr<T>& layer, const Tensor& x, bool training) {
  const std::string where = "[" + layer->name() + "]";
  if (x->dtype() != dtype_of<T>())
    throw TypeError(where + " computes in " + dtype_name(dtype_of<T>()) + "; got a " + dtype_name(x->dtype()) +
                    " tensor (convert it with astype, or make the layer with dtype='" + dtype_name(x->dtype()) + "')");
  if (x->dim() < 1) throw ValueError(where + " needs a tensor of shape (samples, *sample_shape); got a scalar");
  // Axis 0 is the batch (a 1-D tensor is one sample), as in PyTorch; the layer is built for the rest.
  const bool batched = x->dim() > 1;
  const nn::SampleShape sample(x->shape().begin() + (batched ? 1 : 0), x->shape().end());
  if (x->numel() == 0) throw ValueError(where + " got an empty batch of shape " + shape_text(x->shape()));
  if (layer->in_shape() != sample) layer->build(sample);  // ValueError when the layer cannot take it
  const long rows = batched ? x->shape()[0] : 1;

  Shape shape = layer->out_shape();
  if (batched) shape.insert(shape.begin(), rows);
  Tensor y = make_tensor(dtype_of<T>(), shape);
  std::vector<Tensor> inputs{x};
  for (const auto& parameter : layer->parameters()) inputs.push_back(parameter_tensor(parameter));
  bool recording = grad_enabled();
  if (recording) {
    recording = false;
    for (const auto& input : inputs) recording = recording || input->requires_grad();
  }
  if (!training && !recording) {  // nothing will call backward: the cache-free forward, safe across threads
    layer->infer(x->template data<T>(), rows, y->template data<T>());
    return y;
  }
  std::lock_guard<std::mutex> lock(layer->cache_mutex());
  const uint64_t forward = ++layer->graph_forwards;
  layer->forward(x->template data<T>(), rows, y->template data<T>(), training ? nn::Mode::train : nn::Mode::eval);
  auto node = std::make_shared<LayerNode<T>>(layer, forward);
  if (record(y, node, inputs)) {
    node->saved.emplace_back(x, false);
    node->saved.emplace_back(y, true);
    for (std::size_t i = 1; i < inputs.size(); ++i) node->saved.emplace_back(inputs[i], false);
  }
  return y;
}

template <typename T>
Tensor apply_loss(const loss::LossPtr<T>& loss, const Tensor& out, const loss::Targets<T>& targets,
                  const T* sample_weight) {
  const std::string where = "[" + loss->name() + "]";
  if (out->dtype() != dtype_of<T>())
    throw TypeError(where + " computes in " + std::string(dtype_name(dtype_of<T>())) + "; got a " +
                    dtype_name(out->dtype()) + " tensor");
  if (out->dim() != 2 || out->numel() == 0)
    throw ValueError(where + " needs outputs of shape (samples, outputs); got " + shape_text(out->shape()));
  const bool wants_grad = grad_enabled() && out->requires_grad();
  Tensor gradient = wants_grad ? make_tensor(dtype_of<T>(), out->shape()) : nullptr;
  const double value = loss->forward_backward(out->template data<T>(), out->size(0), out->size(1), targets,
                                              sample_weight, wants_grad ? gradient->template data<T>() : nullptr);
  Tensor result = scalar_tensor(dtype_of<T>(), value);
  auto node = std::make_shared<LossNode<T>>(loss->name());
  if (wants_grad && record(result, node, {out})) {
    node->saved.emplace_back(out, false);
    node->saved.emplace_back(gradient, false);
  }
  return result;
}

template Tensor parameter_tensor<float>(const nn::ParameterPtr<float>&);
template Tensor parameter_tensor<double>(const nn::ParameterPtr<double>&);
template Tensor apply_layer<float>(const nn::LayerPtr<float>&, const Tensor&, bool);
template Tensor apply_layer<double>(const nn::LayerPtr<double>&, const Tensor&, bool);
template Tensor apply_loss<float>(const loss::LossPtr<float>&, const Tensor&, const loss::Targets<float>&,
                                  const float*);
template Tensor apply_loss<double>(const loss::LossPtr<double>&, const Tensor&, const loss::Targets<double>&,
                                   const double*);

}  // namespace bprop::autograd
