// Optimizers and learning-rate schedules.
//   _core.SGDOptions / AdamOptions / RMSpropOptions / AdagradOptions, _core.ClipOptions: hyperparameters,
//       validated when made (so Python can check them before it has parameters to bind).
//   _core.Optimizer_<dtype>: what every optimizer shares (step with the GIL released, lr, state, ...).
//   _core.SGD_<dtype>, Adam_, AdamW_, RMSprop_, Adagrad_: made from Parameter_<dtype> handles, options,
//       clip options and a schedule. The trainer takes their optim::OptimizerPtr<T>.
//   _core.Schedule and StepDecay, ExponentialDecay, CosineDecay, LinearWarmup: one set for both dtypes.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <set>

#include "bindings/init.h"
#include "bindings/numpy_util.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/check.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

// Schedules are immutable in C++ (shared as pointers to const); Python holds them by a mutable holder.
using ScheduleHolder = std::shared_ptr<optim::Schedule>;

ScheduleHolder to_python(const optim::SchedulePtr& schedule) { return std::const_pointer_cast<optim::Schedule>(schedule); }

void bind_schedules(py::module_& m) {
  using namespace optim;
  py::class_<Schedule, ScheduleHolder>(m, "Schedule")
      .def_property_readonly("name", &Schedule::name)
      .def_property_readonly("per", [](const Schedule& s) { return std::string(schedule_unit_name(s.unit())); })
      .def("rate", &Schedule::rate, py::arg("base_lr"), py::arg("step"),
           "The learning rate of step `step` (0 for the first step) for base rate `base_lr`.");
  py::class_<StepDecay, Schedule, std::shared_ptr<StepDecay>>(m, "StepDecay")
      .def(py::init([](long step_size, double gamma, const std::string& per) {
             return std::make_shared<StepDecay>(step_size, gamma, schedule_unit(per, "StepDecay"));
           }),
           py::arg("step_size"), py::arg("gamma"), py::arg("per"))
      .def_property_readonly("step_size", &StepDecay::step_size)
      .def_property_readonly("gamma", &StepDecay::gamma);
  py::class_<ExponentialDecay, Schedule, std::shared_ptr<ExponentialDecay>>(m, "ExponentialDecay")
      .def(py::init([](double gamma, const std::string& per) {
             return std::make_shared<ExponentialDecay>(gamma, schedule_unit(per, "ExponentialDecay"));
           }),
           py::arg("gamma"), py::arg("per"))
      .def_property_readonly("gamma", &ExponentialDecay::gamma);
  py::class_<CosineDecay, Schedule, std::shared_ptr<CosineDecay>>(m, "CosineDecay")
      .def(py::init([](long t_max, double eta_min, const std::string& per) {
             return std::make_shared<CosineDecay>(t_max, eta_min, schedule_unit(per, "CosineDecay"));
           }),
           py::arg("t_max"), py::arg("eta_min"), py::arg("per"))
      .def_property_readonly("t_max", &CosineDecay::t_max)
      .def_property_readonly("eta_min", &CosineDecay::eta_min);
  py::class_<LinearWarmup, Schedule, std::shared_ptr<LinearWarmup>>(m, "LinearWarmup")
      .def(py::init([](long warmup_steps, double start_factor, ScheduleHolder then, const std::string& per) {
             return std::make_shared<LinearWarmup>(warmup_steps, start_factor, std::move(then),
                                                   schedule_unit(per, "LinearWarmup"));
           }),
           py::arg("warmup_steps"), py::arg("start_factor"), py::arg("then").none(true), py::arg("per"))
      .def_property_readonly("warmup_steps", &LinearWarmup::warmup_steps)
      .def_property_readonly("start_factor", &LinearWarmup::start_factor)
      .def_property_readonly("then", [](const LinearWarmup& s) { return to_python(s.then()); });
}

// One field of an options struct, for bind_options: its Python keyword and its member.
template <class Options, class Value>
std::pair<const char*, Value Options::*> field(const char* name, Value Options::*member) {
  return {name, member};
}

// An options class: made with keywords in declaration order (every field, defaults from the C++ struct)
// plus `who`, the optimizer named in errors (AdamW shares Adam's options); validated when made; fields
// read-only.
template <class Options, class... Values>
void bind_options(py::module_& m, const char* name, const char* who,
                  std::pair<const char*, Values Options::*>... fields) {
  const Options defaults{};
  py::class_<Options> options(m, name);
  options.def(py::init([](Values... values, const std::string& who) { return validated(Options{values...}, who); }),
              (py::arg(fields.first) = defaults.*(fields.second))..., py::arg("who") = who);
  (options.def_readonly(fields.first, fields.second), ...);
}

// The shape of state entry j: state() lists the same kinds for each parameter, parameter by parameter.
template <typename T>
const std::vector<long>& state_shape(const optim::Optimizer<T>& o, std::size_t j, std::size_t entries) {
  const auto& params = o.parameters();
  return params[j / (entries / params.size())]->shape;
}

std::string type_name(py::handle value) { return py::str(py::type::of(value).attr("__name__")); }

std::string quoted_list(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "'" : ", '") + name + "'";
  return text;
}

// Restores exported state: every array named as state() names them, with its parameter's shape and the
// optimizer's dtype. Everything is checked before anything is written, so a failed load changes nothing.
template <typename T>
void load_state(optim::Optimizer<T>& o, const py::dict& arrays, std::optional<long> step_count,
                std::optional<double> lr) {
  const std::string who = "[" + o.name() + ".load_state] ";
  const auto state = o.state();
  std::vector<std::string> expected, unexpected;
  for (const auto& [name, array] : state) expected.push_back(name);
  const std::set<std::string> known(expected.begin(), expected.end());
  std::set<std::string> given;
  for (const auto& [key, value] : arrays) {
    if (!py::isinstance<py::str>(key))
      throw TypeError(who + "state names must be str; got " + type_name(key));
    const std::string name = py::cast<std::string>(key);
    if (!known.count(name)) unexpected.push_back(name);
    given.insert(name);
  }
  std::vector<std::string> missing;
  for (const auto& name : expected)
    if (!given.count(name)) missing.push_back(name);
  if (!missing.empty() || !unexpected.empty())
    throw ValueError(who + "the state does not fit this optimizer: " +
                     (missing.empty() ? "" : "missing " + quoted_list(missing)) +
                     (missing.empty() || unexpected.empty() ? "" : "; ") +
                     (unexpected.empty() ? "" : "unexpected " + quoted_list(unexpected)) + "; expected " +
                     quoted_list(expected));
  if (step_count) optim::check_count(o.name() + ".load_state", "step_count", *step_count, 0);
  if (lr) optim::check_hyperparameter(o.name() + ".load_state", "lr", *lr, optim::at_least(0));
  std::vector<const T*> sources;
  for (std::size_t j = 0; j < state.size(); ++j) {
    const py::handle value = arrays[py::str(state[j].first)];
    if (!py::isinstance<py::array>(value))
      throw TypeError(who + state[j].first + " must be a numpy array; got " +
                      type_name(value));
    sources.push_back(borrow_shaped<T>(py::reinterpret_borrow<py::array>(value), state_shape(o, j, state.size()),
                                       who + state[j].first));
  }
  for (std::size_t j = 0; j < state.size(); ++j)
    if (state[j].second->size()) std::memcpy(state[j].second->data(), sources[j], sizeof(T) * std::size_t(state[j].second->size()));
  if (step_count) o.set_step_count(*step_count);
  if (lr) o.set_lr(*lr);
}

// A Python callable as a gradient hook: called with the optimizer's parameters and the step count. Steps
// run with the GIL released (a fit's whole chunk of batches), so the call takes it back.
template <typename T>
class PythonGradientHook : public optim::GradientHook<T> {
 public:
  explicit PythonGradientHook(py::function hook) : hook_(std::move(hook)) {}
  ~PythonGradientHook() override {
    py::gil_scoped_acquire gil;
    hook_ = py::function();
  }
  void on_gradients(const std::vector<nn::ParameterPtr<T>>& parameters, long step) override {
    py::gil_scoped_acquire gil;
    hook_(parameters, step);  // a Python exception propagates (error_already_set) before any update
  }

 private:
  py::function hook_;
};

template <typename T>
void bind_base(py::module_& m, const std::string& dtype) {
  using O = optim::Optimizer<T>;
  py::class_<O, optim::OptimizerPtr<T>>(m, ("Optimizer_" + dtype).c_str())
      .def_property_readonly("name", &O::name)
      .def_property_readonly("dtype", [](const O&) { return std::string(dtype_name<T>()); })
      .def("step", &O::step, py::call_guard<py::gil_scoped_release>(),
           "Run the gradient hooks, clip, apply the schedule, update every parameter, count the step.")
      .def(
          "add_gradient_hook",
          [](O& o, py::function hook) {
            auto wrapped = std::make_shared<PythonGradientHook<T>>(std::move(hook));
            o.add_gradient_hook(wrapped);
            return reinterpret_cast<std::uintptr_t>(wrapped.get());  // a key, compared, never dereferenced
          },
          py::arg("hook"), "hook(parameters, step) at the start of every step; returns a key for remove.")
      .def(
          "remove_gradient_hook",
          [](O& o, std::uintptr_t key) { o.remove_gradient_hook(reinterpret_cast<const optim::GradientHook<T>*>(key)); },
          py::arg("key"))
      .def("zero_grad", &O::zero_grad, py::call_guard<py::gil_scoped_release>())
      .def_property("lr", &O::lr, &O::set_lr, "The base learning rate, which a schedule scales.")
      .def_property_readonly("current_lr", &O::current_lr, "The rate the next step() will use.")
      .def_property("step_count", &O::step_count, &O::set_step_count)
      .def_property("epoch", &O::epoch, &O::set_epoch, "The epoch per-epoch schedules read (fit sets it).")
      .def_property("clip", &O::clip, &O::set_clip)
      .def_property(
          "schedule", [](const O& o) { return to_python(o.schedule()); },
          [](O& o, ScheduleHolder s) { o.set_schedule(std::move(s)); })
      .def("parameters", [](const O& o) { return o.parameters(); })
      .def_property_readonly("flat", &O::flat, "Whether the parameters all still lie in this optimizer's arena.")
      .def(
          "layout",
          [](const O& o) {
            py::list out;
            for (const auto& slot : o.layout()) out.append(py::make_tuple(slot.name, slot.offset, slot.size));
            return out;
          },
          "Each parameter's (name, offset, size) in the arena's spans, in elements.")
      .def(
          "arena_addresses",
          [](const O& o) -> py::object {
            const auto values = o.value_span(), grads = o.gradient_span();
            if (!values.data) return py::none();
            return py::make_tuple(reinterpret_cast<std::uintptr_t>(values.data),
                                  reinterpret_cast<std::uintptr_t>(grads.data), values.size);
          },
          "(values address, gradients address, span in elements) of the arena, or None when not flat: for tests.")
      .def(
          "state",
          [](O& o) {
            const auto state = o.state();
            py::dict out;
            for (std::size_t j = 0; j < state.size(); ++j)
              out[py::str(state[j].first)] = copy_to_numpy(state[j].second->data(), state_shape(o, j, state.size()));
            return out;
          },
          "Copies of the state arrays, in the order state() lists them.")
      .def("load_state", &load_state<T>, py::arg("state"), py::arg("step_count") = py::none(),
           py::arg("lr") = py::none());
}

template <class Opt, class Options, typename T>
void bind_optimizer(py::module_& m, const std::string& name, const std::string& dtype) {
  py::class_<Opt, optim::Optimizer<T>, std::shared_ptr<Opt>>(m, (name + "_" + dtype).c_str())
      .def(py::init([](typename optim::Optimizer<T>::ParameterList params, const Options& options,
                       const optim::ClipOptions& clip, ScheduleHolder schedule) {
             return std::make_shared<Opt>(std::move(params), options, clip, std::move(schedule));
           }),
           py::arg("parameters"), py::arg("options"), py::arg("clip") = optim::ClipOptions{},
           py::arg("schedule").none(true) = nullptr)
      .def_property_readonly("options", [](const Opt& o) { return o.options(); });
}

template <typename T>
void bind_optimizers(py::module_& m) {
  const std::string dtype = dtype_name<T>();
  bind_base<T>(m, dtype);
  bind_optimizer<optim::SGD<T>, optim::SGDOptions, T>(m, "SGD", dtype);
  bind_optimizer<optim::Adam<T>, optim::AdamOptions, T>(m, "Adam", dtype);
  bind_optimizer<optim::AdamW<T>, optim::AdamOptions, T>(m, "AdamW", dtype);
  bind_optimizer<optim::RMSprop<T>, optim::RMSpropOptions, T>(m, "RMSprop", dtype);
  bind_optimizer<optim::Adagrad<T>, optim::AdagradOptions, T>(m, "Adagrad", dtype);
}

}  // namespace

void init_optim(py::module_& m) {
  using namespace optim;
  bind_schedules(m);
  m.def("optim_parallel_min_elements", [] { return kParallelMinElements; },
        "Parameters at least this large are updated on several threads.");
  py::class_<ClipOptions>(m, "ClipOptions")
      .def(py::init([](std::optional<double> max_norm, std::optional<double> max_value, const std::string& who) {
             return validated(ClipOptions{max_norm, max_value}, who);
           }),
           py::arg("max_norm") = py::none(), py::arg("max_value") = py::none(), py::arg("who") = "Optimizer")
      .def_readonly("max_norm", &ClipOptions::max_norm)
      .def_readonly("max_value", &ClipOptions::max_value);
  bind_options<SGDOptions>(m, "SGDOptions", "SGD", field("lr", &SGDOptions::lr),
                           field("momentum", &SGDOptions::momentum), field("dampening", &SGDOptions::dampening),
                           field("weight_decay", &SGDOptions::weight_decay), field("nesterov", &SGDOptions::nesterov));
  bind_options<AdamOptions>(m, "AdamOptions", "Adam", field("lr", &AdamOptions::lr),
                            field("beta1", &AdamOptions::beta1), field("beta2", &AdamOptions::beta2),
                            field("eps", &AdamOptions::eps), field("weight_decay", &AdamOptions::weight_decay),
                            field("amsgrad", &AdamOptions::amsgrad));
  bind_options<RMSpropOptions>(m, "RMSpropOptions", "RMSprop", field("lr", &RMSpropOptions::lr),
                               field("alpha", &RMSpropOptions::alpha), field("eps", &RMSpropOptions::eps),
                               field("weight_decay", &RMSpropOptions::weight_decay),
                               field("momentum", &RMSpropOptions::momentum),
                               field("centered", &RMSpropOptions::centered));
  bind_options<AdagradOptions>(m, "AdagradOptions", "Adagrad", field("lr", &AdagradOptions::lr),
                               field("lr_decay", &AdagradOptions::lr_decay),
                               field("weight_decay", &AdagradOptions::weight_decay),
                               field("initial_accumulator_value", &AdagradOptions::initial_accumulator_value),
                               field("eps", &AdagradOptions::eps));
  bind_optimizers<float>(m);
  bind_optimizers<double>(m);
}

}  // namespace bprop::bindings
