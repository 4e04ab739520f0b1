// Layers, Sequential/Residual and Model. Each layer is bound once per dtype (Linear_float32, ...) under
// a common base (Layer_float32) whose forward/backward run one layer on numpy arrays (tests and custom
// code); Model runs a whole network from its own buffers. Arrays are checked here, then the GIL is
// released while the kernels run. Calls that use a layer's caches (forward, backward) lock its
// cache_mutex after releasing the GIL, never before: a training call holding the mutex may need the
// GIL (to poll for Ctrl-C), so waiting for the mutex with the GIL held could deadlock.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "bindings/init.h"
#include "bindings/numpy_util.h"
#include "autograd/nn_ops.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/conv_transpose.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/model.h"
#include "nn/normalization.h"
#include "nn/prelu.h"
#include "nn/reshape.h"
#include "nn/residual.h"
#include "nn/sequential.h"
#include "ops/finite.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

// The samples in x, a batch of shape (n, *sample) with n >= 1, checked; `where` names the caller.
template <typename T>
long batch_rows(const py::array& x, const nn::SampleShape& sample, const std::string& where) {
  const std::vector<long> shape = shape_of(x);
  if (shape.size() != sample.size() + 1)
    throw ValueError(where + " must be " + std::to_string(sample.size() + 1) + "-D, a batch of samples of shape " +
                     shape_text(sample) + "; got shape " + shape_text(shape));
  borrow<T>(x, where);
  if (std::vector<long>(shape.begin() + 1, shape.end()) != sample) {
    if (sample.size() == 1)
      throw ValueError(where + " has " + std::to_string(shape[1]) + " features; expected " + std::to_string(sample[0]));
    throw ValueError(where + " has samples of shape " + shape_text({shape.begin() + 1, shape.end()}) + "; expected " +
                     shape_text(sample));
  }
  if (shape[0] < 1) throw ValueError(where + " is an empty batch");
  return long(shape[0]);
}

template <typename T>
void check_built(nn::Layer<T>& layer, const std::string& where) {
  if (layer.in_size() < 1) throw ValueError(where + ": call build(sample_shape) first");
}

// One layer's forward on a numpy batch (n, *in_shape), in `mode`; a new array (n, *out_shape).
template <typename T>
py::array_t<T> forward_batch(nn::Layer<T>& layer, const py::array& x, nn::Mode mode) {
  const std::string where = "[" + layer.name() + ".forward] x";
  check_built(layer, where);
  nn::IndexInput<T>* indices = layer.index_input();
  const long rows = indices ? batch_rows<int64_t>(x, layer.in_shape(), where) : batch_rows<T>(x, layer.in_shape(), where);
  const int64_t* index_data = indices ? borrow_indices(x, indices->index_count(), where) : nullptr;
  if (indices) indices->check_indices(index_data, rows, where);
  py::array_t<T> y(batch_shape(rows, layer.out_shape()));
  T* out = y.mutable_data();
  const T* in = static_cast<const T*>(x.data());
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(layer.cache_mutex());
  if (indices)
    indices->forward_indices(index_data, rows, out, mode);
  else
    layer.forward(in, rows, out, mode);
  return y;
}

// A convolution's hyperparameters as the Python classes pass them (padding resolved to begin/end pairs).
ops::ConvArgs conv_args(long in_channels, long out_channels, std::vector<long> kernel, std::vector<long> stride,
                        std::vector<long> pad_begin, std::vector<long> pad_end, std::vector<long> dilation, long groups,
                        std::vector<long> output_padding) {
  ops::ConvArgs args;
  args.in_channels = in_channels;
  args.out_channels = out_channels;
  args.groups = groups;
  args.kernel = std::move(kernel);
  args.stride = std::move(stride);
  args.pad_begin = std::move(pad_begin);
  args.pad_end = std::move(pad_end);
  args.dilation = std::move(dilation);
  args.output_padding = std::move(output_padding);
  return args;
}

template <typename T, typename Class>
void bind_convolution(py::module_& m, const std::string& name) {
  py::class_<Class, nn::Layer<T>, std::shared_ptr<Class>>(m, name.c_str())
      .def(py::init([](const std::string& layer, long in_channels, long out_channels, std::vector<long> kernel,
                       std::vector<long> stride, std::vector<long> pad_begin, std::vector<long> pad_end,
                       std::vector<long> dilation, long groups, std::vector<long> output_padding, bool bias,
                       const std::string& init, double init_limit, uint64_t seed) {
             return std::make_shared<Class>(layer, conv_args(in_channels, out_channels, kernel, stride, pad_begin,
                                                             pad_end, dilation, groups, output_padding),
                                            bias, init, init_limit, seed);
           }),
           py::arg("name"), py::arg("in_channels"), py::arg("out_channels"), py::arg("kernel_size"),
           py::arg("stride"), py::arg("pad_begin"), py::arg("pad_end"), py::arg("dilation"), py::arg("groups"),
           py::arg("output_padding"), py::arg("bias"), py::arg("init"), py::arg("init_limit"), py::arg("seed"));
}

template <typename T>
void bind_layers(py::module_& m, const std::string& suffix) {
  using Layer = nn::Layer<T>;
  using LayerPtr = nn::LayerPtr<T>;
  py::class_<Layer, LayerPtr>(m, ("Layer" + suffix).c_str())
      .def_property_readonly("name", &Layer::name)
      .def_property_readonly("takes_indices", [](Layer& layer) { return layer.index_input() != nullptr; })
      .def_property_readonly("in_shape", &Layer::in_shape)
      .def_property_readonly("out_shape", &Layer::out_shape)
      .def("build", &Layer::build, py::arg("sample_shape"), "Fix the input sample shape; returns the output's.")
      .def("parameters", &Layer::parameters)
      .def("buffers", &Layer::buffers)
      .def("reseed", &Layer::reseed, py::arg("seed"))
      .def_property("random_state", &Layer::random_state, &Layer::set_random_state,
                    "[seed, training forwards since, last mask key] of a layer that draws masks; [] otherwise.")
      .def(
          "graph_forward",
          [](const LayerPtr& layer, const autograd::Tensor& x, bool training) {
            if (layer->index_input())
              throw TypeError("[" + layer->name() + "] takes integer indices, which tensors (float32/float64) cannot "
                              "hold; run it in a Sequential, on integer arrays");
            py::gil_scoped_release release;
            return autograd::apply_layer(layer, x, training);
          },
          py::arg("x"), py::arg("training"), "This layer on a Tensor (samples, *sample_shape), as one graph node.")
      .def(
          "forward",
          [](Layer& layer, const py::array& x, bool training) {
            return forward_batch(layer, x, training ? nn::Mode::train : nn::Mode::eval);
          },
          py::arg("x"), py::arg("training") = false)
      .def("forward", &forward_batch<T>, py::arg("x"), py::arg("mode"), "forward in a Mode (replay included).")
      .def(
          "backward",
          [](Layer& layer, const py::array& x, const py::array& y, const py::array& dy, bool accumulate) -> py::object {
            const std::string where = "[" + layer.name() + ".backward] ";
            check_built(layer, where);
            if (nn::IndexInput<T>* indices = layer.index_input()) {  // indices have no gradient: None
              const long rows = batch_rows<int64_t>(x, layer.in_shape(), where + "x");
              const int64_t* xp = borrow_indices(x, indices->index_count(), where + "x");
              indices->check_indices(xp, rows, where + "x");
              const std::vector<long> out_shape = batch_shape(rows, layer.out_shape());
              const T* yp = borrow_shaped<T>(y, out_shape, where + "y");
              const T* dyp = borrow_shaped<T>(dy, out_shape, where + "dy");
              {  // the GIL comes back before any Python object is touched again
                py::gil_scoped_release release;
                std::lock_guard<std::mutex> lock(layer.cache_mutex());
                indices->backward_indices(xp, yp, dyp, rows, accumulate);
              }
              return py::none();
            }
            const long rows = batch_rows<T>(x, layer.in_shape(), where + "x");
            const std::vector<long> out_shape = batch_shape(rows, layer.out_shape());
            const T* yp = borrow_shaped<T>(y, out_shape, where + "y");
            const T* dyp = borrow_shaped<T>(dy, out_shape, where + "dy");
            py::array_t<T> dx(batch_shape(rows, layer.in_shape()));
            T* dxp = dx.mutable_data();
            const T* xp = static_cast<const T*>(x.data());
            {  // returning dx as a py::object takes a reference: with the GIL held, after this block
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(layer.cache_mutex());
              layer.backward(xp, yp, dyp, rows, dxp, accumulate);
            }
            return dx;
          },
          py::arg("x"), py::arg("y"), py::arg("dy"), py::arg("accumulate") = false,
          "dx for the x, y of the last forward; writes (or, with accumulate, adds) parameter gradients.");

  py::class_<nn::Linear<T>, Layer, std::shared_ptr<nn::Linear<T>>>(m, ("Linear" + suffix).c_str())
      .def(py::init<long, long, bool, const std::string&, double, uint64_t>(), py::arg("in_features"),
           py::arg("out_features"), py::arg("bias"), py::arg("init"), py::arg("init_limit"), py::arg("seed"));
  py::class_<nn::ActivationLayer<T>, Layer, std::shared_ptr<nn::ActivationLayer<T>>>(m, ("Activation" + suffix).c_str())
      .def(py::init<const std::string&, const std::vector<double>&>(), py::arg("name"), py::arg("params"))
      .def_property_readonly("derivative_from_output", [](const nn::ActivationLayer<T>& layer) {
        return layer.activation().derivative_from_output();  // whether it fuses after a Linear
      });
  py::class_<nn::PReLU<T>, Layer, std::shared_ptr<nn::PReLU<T>>>(m, ("PReLU" + suffix).c_str())
      .def(py::init<long, double>(), py::arg("num_parameters"), py::arg("init"));
  bind_convolution<T, nn::Conv<T>>(m, "Conv" + suffix);
  bind_convolution<T, nn::ConvTranspose<T>>(m, "ConvTranspose" + suffix);
  py::class_<nn::Softmax<T>, Layer, std::shared_ptr<nn::Softmax<T>>>(m, ("Softmax" + suffix).c_str()).def(py::init<>());
  py::class_<nn::Dropout<T>, Layer, std::shared_ptr<nn::Dropout<T>>>(m, ("Dropout" + suffix).c_str())
      .def(py::init<double, uint64_t>(), py::arg("p"), py::arg("seed"));
  py::class_<nn::BatchNorm<T>, Layer, std::shared_ptr<nn::BatchNorm<T>>>(m, ("BatchNorm" + suffix).c_str())
      .def(py::init<long, double, double>(), py::arg("features"), py::arg("eps"), py::arg("momentum"));
  py::class_<nn::LayerNorm<T>, Layer, std::shared_ptr<nn::LayerNorm<T>>>(m, ("LayerNorm" + suffix).c_str())
      .def(py::init<long, double>(), py::arg("features"), py::arg("eps"));
  py::class_<nn::Embedding<T>, Layer, std::shared_ptr<nn::Embedding<T>>>(m, ("Embedding" + suffix).c_str())
      .def(py::init<long, long, uint64_t, std::optional<long>>(), py::arg("num_embeddings"), py::arg("embedding_dim"),
           py::arg("seed"), py::arg("padding_idx") = py::none())
      .def_property_readonly("padding_idx", &nn::Embedding<T>::padding_idx);
  py::class_<nn::Flatten<T>, Layer, std::shared_ptr<nn::Flatten<T>>>(m, ("Flatten" + suffix).c_str())
      .def(py::init<long, long>(), py::arg("start_dim"), py::arg("end_dim"));
  py::class_<nn::Reshape<T>, Layer, std::shared_ptr<nn::Reshape<T>>>(m, ("Reshape" + suffix).c_str())
      .def(py::init<std::vector<long>>(), py::arg("shape"));
  py::class_<nn::Sequential<T>, Layer, std::shared_ptr<nn::Sequential<T>>>(m, ("Sequential" + suffix).c_str())
      .def(py::init<std::vector<LayerPtr>>(), py::arg("layers"))
      .def_property_readonly("layers", &nn::Sequential<T>::layers)
      .def_property_readonly("step_names", [](const nn::Sequential<T>& net) {
        std::vector<std::string> names;  // "Linear+ReLU" for a fused pair: what tests and summaries can show
        for (const auto& step : net.steps()) names.push_back(step->name());
        return names;
      })
      .def_property_readonly("lengths_from_padding", &nn::Sequential<T>::lengths_from_padding)
      .def_property_readonly("infer_step_names", [](const nn::Sequential<T>& net) {
        std::vector<std::string> names;  // "Conv2d+BatchNorm2d+ReLU" for a folded run
        for (const auto& step : net.infer_steps()) names.push_back(step->name());
        return names;
      });
  py::class_<nn::Residual<T>, Layer, std::shared_ptr<nn::Residual<T>>>(m, ("Residual" + suffix).c_str())
      .def(py::init<std::vector<LayerPtr>, std::vector<LayerPtr>>(), py::arg("layers"),
           py::arg("shortcut") = std::vector<LayerPtr>{}, "shortcut: the layers of g in y = f(x) + g(x); empty: x")
      .def_property_readonly("body", &nn::Residual<T>::body, py::return_value_policy::reference_internal);

  using Model = nn::Model<T>;
  py::class_<Model, std::shared_ptr<Model>>(m, ("Model" + suffix).c_str())
      .def(py::init<std::shared_ptr<nn::Sequential<T>>, const nn::SampleShape&>(), py::arg("net"),
           py::arg("sample_shape"))
      .def_property_readonly("takes_indices", &Model::takes_indices)
      .def_property_readonly("in_shape", &Model::in_shape)
      .def_property_readonly("out_shape", &Model::out_shape)
      .def(
          "forward",
          [](Model& model, const py::array& x, bool training) {
            const std::string where = "[Sequential.forward] x";
            const bool indices = model.takes_indices();
            const long rows = indices ? batch_rows<int64_t>(x, model.in_shape(), where) : batch_rows<T>(x, model.in_shape(), where);
            if (indices) model.check_indices(borrow_indices(x, model.index_count(), where), rows, where);
            py::array_t<T> y(batch_shape(rows, model.out_shape()));
            T* out = y.mutable_data();
            const void* in = x.data();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(model.net().cache_mutex());
            const std::size_t count = std::size_t(rows * model.in_size());
            if (indices)
              std::memcpy(model.index_input(rows), in, sizeof(int64_t) * count);
            else
              std::memcpy(model.input(rows), in, sizeof(T) * count);
            const T* y_data = model.forward(rows, training ? nn::Mode::train : nn::Mode::eval);
            std::memcpy(out, y_data, sizeof(T) * std::size_t(rows * model.out_size()));
            return y;
          },
          py::arg("x"), py::arg("training") = false)
      .def(
          "backward",
          [](Model& model, const py::array& dout, bool accumulate) {
            const T* d = borrow<T>(dout, "[Sequential.backward] grad_out");
            const std::vector<long> shape = shape_of(dout);
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(model.net().cache_mutex());
            // Checked under the lock: another thread's forward may have changed the batch size.
            if (model.last_rows() < 1) throw ValueError("[Sequential.backward] call forward first");
            if (!model.last_forward_on_this_thread())
              throw ValueError("[Sequential.backward] the last forward of this model ran on another thread, so its "
                               "saved activations are that thread's batch; run forward and backward on one thread "
                               "(or give each thread its own model)");
            const std::vector<long> expected = batch_shape(model.last_rows(), model.out_shape());
            if (shape != expected)
              throw ValueError("[Sequential.backward] grad_out has shape " + shape_text(shape) + "; expected " +
                               shape_text(expected) + " (the output of the last forward)");
            model.backward(d, accumulate);
          },
          py::arg("grad_out"), py::arg("accumulate") = false)
      .def(
          "predict",
          [](Model& model, const py::array& x, long batch_size, bool check_finite) {
            if (batch_size < 1) throw ValueError("[Sequential.predict] batch_size must be >= 1; got " + std::to_string(batch_size));
            const std::string where = "[Sequential.predict] x";
            const bool indices = model.takes_indices();
            const long rows = indices ? batch_rows<int64_t>(x, model.in_shape(), where) : batch_rows<T>(x, model.in_shape(), where);
            if (indices) model.check_indices(borrow_indices(x, model.index_count(), where), rows, where);
            py::array_t<T> out(batch_shape(rows, model.out_shape()));
            T* o = out.mutable_data();
            const void* in = x.data();
            py::gil_scoped_release release;
            // check_finite: Python's fast path leaves this check here, one crossing fewer (batch-1 predict
            // is ~20 us, ~1 us of it was the separate check's crossing).
            if (check_finite && !indices && !ops::all_finite(static_cast<const T*>(in), rows * model.in_size()))
              throw ValueError("[predict] x contains NaN or Inf");
            if (indices)
              model.predict_indices(static_cast<const int64_t*>(in), rows, batch_size, o);
            else
              model.predict(static_cast<const T*>(in), rows, batch_size, o);
            return out;
          },
          py::arg("x"), py::arg("batch_size"), py::arg("check_finite") = false);
}

}  // namespace

void init_nn(py::module_& m) {
  py::enum_<nn::Mode>(m, "Mode", "How a forward runs: train, eval, or replay (the last train forward again).")
      .value("train", nn::Mode::train)
      .value("eval", nn::Mode::eval)
      .value("replay", nn::Mode::replay);
  // The activation table (ops/activations.h) as plain data, so Python makes one layer class per entry
  // from its name and parameters: [(name, [(param, default, must_be_positive)], op)].
  m.def("activation_table", [] {
    py::list table;
    for (const auto& entry : ops::activation_table()) {
      py::list params;
      for (const auto& p : entry.params)
        params.append(py::make_tuple(p.name, p.default_value, p.domain == ops::ParamDomain::positive));
      table.append(py::make_tuple(entry.name, params, entry.op));
    }
    return table;
  });
  // Checks a name and parameter values as a layer or graph node would: ValueError, else None.
  m.def("check_activation", [](const std::string& name, const std::vector<double>& params) {
    ops::Activation(name, params);
  }, py::arg("name"), py::arg("params"));
  bind_layers<float>(m, "_float32");
  bind_layers<double>(m, "_float64");
}

}  // namespace bprop::bindings
