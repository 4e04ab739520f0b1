// The recurrent layers (RNN, LSTM, GRU: nn/recurrent.h), bound once per dtype as Recurrent_<dtype> under the
// common Layer_<dtype> base (its forward/backward run them in a Sequential's way), plus the calls that take
// lengths and states: run (forward with optional lengths, h0, c0; returns y, h_n, c_n) and run_backward.
// Arrays are checked here before the GIL is released; the Python layer checks them first with its own words.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <mutex>

#include "autograd/recurrent_ops.h"
#include "bindings/init.h"
#include "bindings/numpy_util.h"
#include "nn/recurrent.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

ops::CellKind cell_by_name(const std::string& name) {
  if (name == "RNN_TANH") return ops::CellKind::rnn_tanh;
  if (name == "RNN_RELU") return ops::CellKind::rnn_relu;
  if (name == "LSTM") return ops::CellKind::lstm;
  if (name == "GRU") return ops::CellKind::gru;
  throw ValueError("[Recurrent] unknown cell '" + name + "'; expected RNN_TANH, RNN_RELU, LSTM or GRU");
}

template <typename T>
const T* optional_shaped(const py::object& value, const std::vector<long>& shape, const std::string& where) {
  if (value.is_none()) return nullptr;
  return borrow_shaped<T>(py::cast<py::array>(value), shape, where);
}

// x (rows, time, input_size) for the shape the layer was built for; returns rows.
template <typename T>
long sequence_rows(const nn::Recurrent<T>& layer, const py::array& x, const std::string& where) {
  if (layer.in_size() < 1) throw ValueError(where + ": call build(sample_shape) first");
  borrow<T>(x, where + " x");
  const std::vector<long> shape = shape_of(x);
  const std::vector<long>& sample = layer.in_shape();
  if (shape.size() != 3 || shape[1] != sample[0] || shape[2] != sample[1] || shape[0] < 1)
    throw ValueError(where + " x has shape " + shape_text(shape) + "; expected (rows >= 1, " +
                     std::to_string(sample[0]) + ", " + std::to_string(sample[1]) + ")");
  return shape[0];
}

// The lengths (rows,) int64, each in [1, time], or null for None.
inline const int64_t* checked_lengths(const py::object& value, long rows, long time, const std::string& where) {
  if (value.is_none()) return nullptr;
  const int64_t* lengths = borrow_shaped<int64_t>(py::cast<py::array>(value), {rows}, where + " lengths");
  for (long r = 0; r < rows; ++r)
    if (lengths[r] < 1 || lengths[r] > time)
      throw ValueError(where + " lengths[" + std::to_string(r) + "] is " + std::to_string(lengths[r]) +
                       "; each length must be in [1, " + std::to_string(time) + "]");
  return lengths;
}

template <typename T>
void bind_recurrent(py::module_& m, const std::string& suffix) {
  using Layer = nn::Layer<T>;
  using Recurrent = nn::Recurrent<T>;
  py::class_<Recurrent, Layer, std::shared_ptr<Recurrent>>(m, ("Recurrent" + suffix).c_str())
      .def(py::init([](const std::string& cell, long input_size, long hidden_size, long num_layers, bool bias,
                       bool bidirectional, bool return_sequences, double dropout, uint64_t seed) {
             nn::RecurrentConfig config;
             config.cell = cell_by_name(cell);
             config.input_size = input_size;
             config.hidden_size = hidden_size;
             config.num_layers = num_layers;
             config.bias = bias;
             config.bidirectional = bidirectional;
             config.return_sequences = return_sequences;
             config.dropout = dropout;
             config.seed = seed;
             return std::make_shared<Recurrent>(config);
           }),
           py::arg("cell"), py::arg("input_size"), py::arg("hidden_size"), py::arg("num_layers"), py::arg("bias"),
           py::arg("bidirectional"), py::arg("return_sequences"), py::arg("dropout"), py::arg("seed"))
      .def_property_readonly("state_count", &Recurrent::state_count)
      .def(
          "run",
          [](Recurrent& layer, const py::array& x, const py::object& lengths, const py::object& h0,
             const py::object& c0, nn::Mode mode) {
            const std::string where = "[" + layer.name() + ".run]";
            const long rows = sequence_rows(layer, x, where);
            const long H = layer.config().hidden_size, time = layer.steps();
            const std::vector<long> state_shape{layer.state_count(), rows, H};
            const bool lstm = layer.config().cell == ops::CellKind::lstm;
            nn::RecurrentStates<T> states;
            const int64_t* lens = checked_lengths(lengths, rows, time, where);
            states.h0 = optional_shaped<T>(h0, state_shape, where + " h0");
            if (lstm) states.c0 = optional_shaped<T>(c0, state_shape, where + " c0");
            py::array_t<T> y(batch_shape(rows, layer.out_shape()));
            py::array_t<T> h_n(state_shape);
            py::array_t<T> c_n(lstm ? state_shape : std::vector<long>{0});
            states.h_n = h_n.mutable_data();
            if (lstm) states.c_n = c_n.mutable_data();
            T* out = y.mutable_data();
            const T* in = static_cast<const T*>(x.data());
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(layer.cache_mutex());
              layer.forward_states(in, rows, lens, states, out, mode);
            }
            return py::make_tuple(y, h_n, lstm ? py::object(c_n) : py::none());
          },
          py::arg("x"), py::arg("lengths"), py::arg("h0"), py::arg("c0"), py::arg("mode"),
          "forward with optional lengths (rows,) and initial states (state_count, rows, hidden): (y, h_n, c_n).")
      .def(
          "run_backward",
          [](Recurrent& layer, const py::array& x, const py::array& dy, const py::object& dh_n, const py::object& dc_n,
             bool accumulate) {
            const std::string where = "[" + layer.name() + ".run_backward]";
            const long rows = sequence_rows(layer, x, where);
            const long H = layer.config().hidden_size;
            const std::vector<long> state_shape{layer.state_count(), rows, H};
            const bool lstm = layer.config().cell == ops::CellKind::lstm;
            const T* dyp = borrow_shaped<T>(dy, batch_shape(rows, layer.out_shape()), where + " dy");
            nn::RecurrentStateGrads<T> grads;
            grads.dh_n = optional_shaped<T>(dh_n, state_shape, where + " dh_n");
            if (lstm) grads.dc_n = optional_shaped<T>(dc_n, state_shape, where + " dc_n");
            py::array_t<T> dx(batch_shape(rows, layer.in_shape()));
            py::array_t<T> dh0(state_shape);
            py::array_t<T> dc0(lstm ? state_shape : std::vector<long>{0});
            grads.dh0 = dh0.mutable_data();
            if (lstm) grads.dc0 = dc0.mutable_data();
            T* dxp = dx.mutable_data();
            const T* xp = static_cast<const T*>(x.data());
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(layer.cache_mutex());
              layer.backward_states(xp, dyp, rows, grads, dxp, accumulate);
            }
            return py::make_tuple(dx, dh0, lstm ? py::object(dc0) : py::none());
          },
          py::arg("x"), py::arg("dy"), py::arg("dh_n"), py::arg("dc_n"), py::arg("accumulate"),
          "backward of the last run: (dx, dh0, dc0); writes (or adds to) the parameter gradients.")
      .def(
          "graph_run",
          [](const std::shared_ptr<Recurrent>& layer, const autograd::Tensor& x, const autograd::Tensor& h0,
             const autograd::Tensor& c0, const py::object& lengths, bool training) {
            const std::string where = "[" + layer->name() + "]";
            const int64_t* lens = nullptr;
            if (!lengths.is_none()) {
              if (!x || x->dim() != 3)
                throw ValueError(where + " lengths go with x of shape (samples, time, input_size)");
              lens = checked_lengths(lengths, x->shape()[0], x->shape()[1], where);
            }
            std::vector<autograd::Tensor> outputs;
            {
              py::gil_scoped_release release;
              outputs = autograd::apply_recurrent(layer, x, h0, c0, lens, training);
            }
            return py::make_tuple(outputs[0], outputs[1], outputs[2] ? py::cast(outputs[2]) : py::none());
          },
          py::arg("x"), py::arg("h0"), py::arg("c0"), py::arg("lengths"), py::arg("training"),
          "On tensors, as one graph node: (y, h_n, c_n), c_n None but for LSTM.");
}

}  // namespace

void init_nn_recurrent(py::module_& m) {
  bind_recurrent<float>(m, "_float32");
  bind_recurrent<double>(m, "_float64");
}

}  // namespace bprop::bindings
