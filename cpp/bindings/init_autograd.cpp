// bprop._core.Tensor and the differentiable operations: the C++ tensor is the Python one (no wrapper
// object per op), so an op costs one pybind11 call. Python adds indexing, to_dot and gradcheck on top
// (bprop/autograd/).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>
#include <unordered_map>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "bindings/arguments.h"
#include "bindings/init.h"
#include "core/error.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

using autograd::DType;
using autograd::Tensor;

// A copy of a float32/float64 C-contiguous array (the Python front converts other dtypes first).
Tensor from_numpy(const py::array& array, bool requires_grad) {
  DType dtype;
  if (py::isinstance<py::array_t<float>>(array))
    dtype = DType::float32;
  else if (py::isinstance<py::array_t<double>>(array))
    dtype = DType::float64;
  else
    throw TypeError("[tensor] expects float32 or float64 data; got " + std::string(py::str(array.dtype())));
  autograd::Shape shape(array.shape(), array.shape() + array.ndim());
  Tensor t = autograd::make_tensor(dtype, shape);
  py::array contiguous = py::array::ensure(array, py::array::c_style);
  std::memcpy(t->raw(), contiguous.data(), std::size_t(t->numel()) * autograd::dtype_size(dtype));
  t->set_requires_grad(requires_grad);
  return t;
}

// A read-only NumPy view of t's buffer, keeping the buffer alive: writes go through in-place operations,
// which count versions. A parameter's view also keeps the block it points at now: if an optimizer moves
// the parameter into its arena later, the view keeps the values it had then, never freed memory.
py::array to_numpy(const Tensor& t) {
  using Keep = std::pair<std::shared_ptr<autograd::Buffer>, std::shared_ptr<void>>;
  auto keep = new Keep(t->buffer(), t->buffer()->storage);
  py::capsule owner(keep, [](void* p) { delete static_cast<Keep*>(p); });
  py::dtype dtype = t->dtype() == DType::float32 ? py::dtype::of<float>() : py::dtype::of<double>();
  std::vector<py::ssize_t> shape(t->shape().begin(), t->shape().end());
  py::array out(dtype, shape, {}, t->raw(), owner);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

Tensor scalar_like(const Tensor& t, double value) { return autograd::scalar_tensor(t->dtype(), value); }

// The other operand of `like` ∘ other when it is neither a tensor nor a Python number: an array-like (a
// NumPy array, a list, a Parameter) becomes a constant tensor (bprop.tensor's rules, in like's dtype), so
// the result stays a tensor with its graph whichever side the array is on. None and non-numbers are a
// TypeError here: pybind11 would pass None on as a null tensor.
Tensor operand(const Tensor& like, const py::object& other, const char* op) {
  if (other.is_none())
    throw TypeError(std::string("[Tensor ") + op + "] the other operand is None; expected a Tensor, an array or a number");
  return py::module_::import("bprop.tensor").attr("as_operand")(other, like, std::string("Tensor ") + op).cast<Tensor>();
}

// pybind11 turns None into a null tensor for `const Tensor&` arguments: every function taking tensors
// from Python goes through this, which refuses None with a TypeError naming the function.
void require_tensor(const Tensor& t, const char* op) {
  if (!t) throw TypeError(std::string("[") + op + "] expects a Tensor; got None");
}
template <typename Arg>
void require_if_tensor(const Arg& arg, const char* op) {
  if constexpr (std::is_same_v<std::decay_t<Arg>, Tensor>) require_tensor(arg, op);
}
template <typename... Args>
auto checked(const char* op, Tensor (*fn)(Args...)) {
  return [op, fn](Args... args) {
    (require_if_tensor(args, op), ...);
    return fn(args...);
  };
}

// t's values ← source's (cast to t's dtype), counted as an in-place write so saved copies notice. Only
// on tensors no recorded operation differentiates through.
void write_in_place(const Tensor& t, const Tensor& source) {
  if (autograd::grad_enabled() && t->requires_grad())
    throw ValueError("[Tensor] in-place change of a tensor that requires grad; use no_grad() (as optimizers do)");
  if (source->shape() != t->shape())
    throw ValueError("[Tensor] in-place write of shape " + shape_text(source->shape()) +
                     " into a tensor of shape " + shape_text(t->shape()));
  Tensor cast = autograd::to_dtype(source, t->dtype());
  std::memcpy(t->raw(), cast->raw(), std::size_t(t->numel()) * autograd::dtype_size(t->dtype()));
  t->bump_version();
}

// Flat positions for gather/scatter_add, as NumPy computed them (bprop/_indexing.py): one copy of an
// int64 array, not a Python int per position.
using FlatIndex = py::array_t<int64_t, py::array::c_style>;
std::shared_ptr<const std::vector<long>> flat_positions(const FlatIndex& index) {
  const int64_t* data = index.data();
  return std::make_shared<const std::vector<long>>(data, data + index.size());
}

}  // namespace

void init_autograd(py::module_& m) {
  namespace ag = autograd;
  py::class_<ag::TensorImpl, Tensor> tensor(m, "Tensor", "A float32/float64 array that records the operations "
                                                         "applied to it for backward(). Make one with bprop.tensor().");
  // bprop.Tensor(data) works as bprop.tensor(data) does (torch.Tensor(data) users write it).
  tensor.def(py::init([](const py::object& data, const py::object& requires_grad) {
               return py::module_::import("bprop.tensor").attr("tensor")(data, requires_grad).cast<Tensor>();
             }),
             py::arg("data"), py::arg("requires_grad") = false)
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t->shape())); })
      .def_property_readonly("ndim", [](const Tensor& t) { return t->dim(); })
      .def_property_readonly("size", [](const Tensor& t) { return t->numel(); })
      .def_property_readonly("dtype", [](const Tensor& t) { return ag::dtype_name(t->dtype()); })
      .def_property("requires_grad", [](const Tensor& t) { return t->requires_grad(); },
                    [](const Tensor& t, const py::object& flag) {
                      const bool value = as_flag(flag, "[Tensor.requires_grad]");
                      if (t->grad_pinned)  // the view is remade from the parameter, which keeps the flag
                        throw ValueError("[Tensor.requires_grad] this tensor views a Parameter; set "
                                         "requires_grad on the Parameter instead (p.requires_grad = False)");
                      t->set_requires_grad(value);
                    })
      .def_property_readonly("is_leaf", [](const Tensor& t) { return t->is_leaf(); })
      .def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
        if (!t->grad_fn()) return py::none();
        return py::str(t->grad_fn()->name());
      })
      .def_property("grad", [](const Tensor& t) -> py::object {
        if (!t->grad) return py::none();
        return to_numpy(ag::copy(t->grad));
      }, [](const Tensor& t, py::object value) {
        if (!value.is_none()) throw ValueError("[Tensor.grad] can only be set to None (use zero_grad)");
        if (t->grad_pinned)  // a parameter's gradient: the optimizer keeps reading this storage
          std::memset(t->grad->raw(), 0, std::size_t(t->grad->numel()) * ag::dtype_size(t->grad->dtype()));
        else
          t->grad.reset();
      })
      .def_property_readonly("grad_tensor", [](const Tensor& t) { return t->grad; },
                             "The gradient as a Tensor (with its graph after backward(create_graph=True)).")
      .def_property("name", [](const Tensor& t) { return t->name; },
                    [](const Tensor& t, const py::object& name) { t->name = as_text(name, "[Tensor.name]"); })
      .def_property_readonly("version", [](const Tensor& t) { return t->version(); })
      .def("numpy", &to_numpy,
           "A read-only view of the values (copy it to write). A parameter's view made before an optimizer "
           "binds the parameter keeps the values it had then; take a new one to see the optimizer's updates.")
      .def("detach", &ag::detach)
      .def("backward", [](const Tensor& t, const py::object& gradient, const py::object& retain,
                          const py::object& create) {
        const bool retain_graph = as_flag(retain, "[Tensor.backward] retain_graph");
        const bool create_graph = as_flag(create, "[Tensor.backward] create_graph");
        // The gradient: None (a scalar's 1), a Tensor, or an array-like taken as a constant tensor.
        Tensor seed;
        if (!gradient.is_none())
          seed = py::isinstance<ag::TensorImpl>(gradient) ? gradient.cast<Tensor>() : operand(t, gradient, "backward");
        py::gil_scoped_release release;
        ag::backward({t}, {seed}, retain_graph, create_graph);
      }, py::arg("gradient") = py::none(), py::arg("retain_graph") = false, py::arg("create_graph") = false)
      .def("_add_", [](const Tensor& t, const Tensor& other) {
        require_tensor(other, "Tensor._add_");
        write_in_place(t, ag::add(ag::detach(t), ag::detach(other)));
        return t;
      })
      .def("_assign_", [](const Tensor& t, const py::array& values) { write_in_place(t, from_numpy(values, false)); });

  // Binary operators with a tensor, a Python number (taken in the tensor's dtype) or, last, anything else
  // (an array-like becomes a constant tensor; None is a TypeError). The first two are the fast paths; the
  // catch-all also keeps pybind11 from handing None to the tensor overload as a null pointer.
#define BPROP_BINARY(pyname, rpyname, fn)                                                                      \
  tensor.def(pyname, [](const Tensor& a, const Tensor& b) { return fn(a, b); }, py::is_operator(),              \
             py::arg("other").none(false))                                                                     \
      .def(pyname, [](const Tensor& a, double b) { return fn(a, scalar_like(a, b)); }, py::is_operator())      \
      .def(pyname, [](const Tensor& a, const py::object& b) { return fn(a, operand(a, b, pyname)); },           \
           py::is_operator())                                                                                  \
      .def(rpyname, [](const Tensor& a, double b) { return fn(scalar_like(a, b), a); }, py::is_operator())     \
      .def(rpyname, [](const Tensor& a, const py::object& b) { return fn(operand(a, b, rpyname), a); },         \
           py::is_operator());
  BPROP_BINARY("__add__", "__radd__", ag::add)
  BPROP_BINARY("__sub__", "__rsub__", ag::sub)
  BPROP_BINARY("__mul__", "__rmul__", ag::mul)
  BPROP_BINARY("__truediv__", "__rtruediv__", ag::div)
  BPROP_BINARY("__matmul__", "__rmatmul__", ag::matmul)
#undef BPROP_BINARY
  tensor.def("__pow__", [](const Tensor& a, const Tensor& b) { return ag::pow(a, b); }, py::is_operator(),
             py::arg("other").none(false))
      .def("__pow__", [](const Tensor& a, double p) { return ag::pow_scalar(a, p); }, py::is_operator())
      .def("__pow__", [](const Tensor& a, const py::object& b) { return ag::pow(a, operand(a, b, "__pow__")); },
           py::is_operator())
      .def("__rpow__", [](const Tensor& a, double b) { return ag::pow(scalar_like(a, b), a); }, py::is_operator())
      .def("__rpow__", [](const Tensor& a, const py::object& b) { return ag::pow(operand(a, b, "__rpow__"), a); },
           py::is_operator())
      .def("__neg__", &ag::neg)
      .def("__abs__", &ag::abs)
      .def("exp", &ag::exp)
      .def("log", &ag::log)
      .def("sqrt", &ag::sqrt)
      .def("abs", &ag::abs)
      .def("relu", &ag::relu)
      .def("sigmoid", &ag::sigmoid)
      .def("tanh", &ag::tanh);

  m.def("ag_tensor", &from_numpy, py::arg("data"), py::arg("requires_grad") = false);
  m.def("ag_matmul", checked("matmul", &ag::matmul));
  m.def(
      "ag_conv",
      [](const Tensor& x, const Tensor& weight, const Tensor& bias, std::vector<long> stride, std::vector<long> pad_begin,
         std::vector<long> pad_end, std::vector<long> dilation, long groups, std::vector<long> output_padding,
         bool transposed) {
        require_tensor(x, "conv");
        require_tensor(weight, "conv");  // bias may be None: no bias
        ag::ConvSettings settings{std::move(stride), std::move(pad_begin), std::move(pad_end), std::move(dilation),
                                  std::move(output_padding), groups};
        py::gil_scoped_release release;  // a convolution is long enough to let other Python threads run
        return ag::conv(x, weight, bias, settings, transposed);
      },
      py::arg("x"), py::arg("weight"), py::arg("bias").none(true), py::arg("stride"), py::arg("pad_begin"),
      py::arg("pad_end"), py::arg("dilation"), py::arg("groups"), py::arg("output_padding"), py::arg("transposed"));
  m.def("ag_maximum", checked("maximum", &ag::maximum));
  m.def("ag_where", checked("where", &ag::where));
  m.def("ag_clip", checked("clip", &ag::clip));
  m.def("ag_exp", checked("exp", &ag::exp));
  m.def("ag_log", checked("log", &ag::log));
  m.def("ag_sqrt", checked("sqrt", &ag::sqrt));
  m.def("ag_abs", checked("abs", &ag::abs));
  m.def("ag_relu", checked("relu", &ag::relu));
  m.def("ag_sigmoid", checked("sigmoid", &ag::sigmoid));
  m.def("ag_tanh", checked("tanh", &ag::tanh));
  m.def("ag_gelu", checked("gelu", &ag::gelu));
  m.def("ag_activation", checked("activation", &ag::activation), py::arg("x"), py::arg("name"), py::arg("params"));
  m.def("ag_softmax", checked("softmax", &ag::softmax));
  m.def("ag_log_softmax", checked("log_softmax", &ag::log_softmax));
  m.def("ag_sum", checked("sum", &ag::sum));
  m.def("ag_mean", checked("mean", &ag::mean));
  m.def("ag_max", checked("max", &ag::max));
  m.def("ag_reshape", checked("reshape", &ag::reshape));
  m.def("ag_transpose", checked("transpose", &ag::transpose));
  m.def("ag_expand", checked("expand", &ag::expand));
  m.def("ag_compare", [](const Tensor& a, const Tensor& b, int op) {
    require_tensor(a, "compare");
    require_tensor(b, "compare");
    return ag::compare(a, b, ag::Compare(op));
  });
  m.def("ag_gather", [](const Tensor& x, const FlatIndex& index, const ag::Shape& shape) {
    require_tensor(x, "Tensor.__getitem__");
    return ag::gather(x, flat_positions(index), shape);
  }, py::arg("x"), py::arg("index").noconvert(), py::arg("shape"));
  m.def("ag_scatter_add", [](const Tensor& x, const FlatIndex& index, const ag::Shape& shape) {
    require_tensor(x, "concatenate");
    return ag::scatter_add(x, flat_positions(index), shape);
  }, py::arg("x"), py::arg("index").noconvert(), py::arg("shape"));
  m.def("ag_to_dtype", [](const Tensor& x, const std::string& dtype) {
    require_tensor(x, "Tensor.astype");
    return ag::to_dtype(x, dtype == "float64" ? DType::float64 : DType::float32);
  });
  m.def("ag_grad", [](const std::vector<Tensor>& outputs, const std::vector<std::optional<Tensor>>& grads,
                      const std::vector<Tensor>& inputs, bool retain_graph, bool create_graph) {
    for (const auto& t : outputs) require_tensor(t, "grad");
    for (const auto& t : inputs) require_tensor(t, "grad");
    std::vector<Tensor> seeds;
    for (const auto& g : grads) seeds.push_back(g.value_or(nullptr));
    py::gil_scoped_release release;
    return ag::grad(outputs, seeds, inputs, retain_graph, create_graph);
  });
  m.def("ag_grad_enabled", &ag::grad_enabled);
  m.def("ag_set_grad_enabled", &ag::set_grad_enabled);
  m.def("ag_graph", [](const Tensor& root) {
    require_tensor(root, "to_dot");
    // (id, name, [child ids]) for every node reachable from root, for to_dot; iterative.
    std::vector<std::tuple<std::uintptr_t, std::string, std::vector<std::uintptr_t>>> out;
    std::vector<ag::Node*> stack;
    std::unordered_map<ag::Node*, bool> seen;
    if (root->grad_fn()) stack.push_back(root->grad_fn().get());
    while (!stack.empty()) {
      ag::Node* node = stack.back();
      stack.pop_back();
      if (seen[node]) continue;
      seen[node] = true;
      std::vector<std::uintptr_t> children;
      for (const auto& child : node->next)
        if (child) {
          children.push_back(reinterpret_cast<std::uintptr_t>(child.get()));
          stack.push_back(child.get());
        }
      out.emplace_back(reinterpret_cast<std::uintptr_t>(node), node->name(), children);
    }
    return out;
  });
}

}  // namespace bprop::bindings
