// bprop._core.Trainer_float32 / _float64: the C++ training loop. The Python Trainer validates and
// converts the dataset once per fit; each call here re-checks only dtypes, layouts and shapes
// (cheap) before releasing the GIL for a whole chunk of batches.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/init.h"
#include "bindings/numpy_util.h"
#include "train/trainer.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

template <typename T>
train::Dataset<T> dataset(const nn::Model<T>& model, const py::array& x, const py::object& labels,
                          const py::object& values, const py::object& sample_weight, const std::string& where) {
  train::Dataset<T> d;
  const std::vector<long> shape = shape_of(x);
  if (shape.empty() || std::vector<long>(shape.begin() + 1, shape.end()) != model.in_shape())
    throw ValueError(where + " x has shape " + shape_text(shape) + "; expected (n, *" + shape_text(model.in_shape()) +
                     ")");
  if (model.takes_indices()) {
    d.indices = borrow_indices(x, model.index_count(), where + " x");
    model.check_indices(d.indices, long(shape[0]), where + " x");
  } else
    d.x = borrow<T>(x, where + " x");
  d.rows = long(shape[0]);
  d.features = model.in_size();
  std::vector<long> label_shape{d.rows};
  if (!labels.is_none()) {
    const py::array l = labels.cast<py::array>();
    // One label per sample, or one per position of an output (..., classes): (n, *out_shape[:-1]).
    const auto& out = model.out_shape();
    if (l.ndim() > 1) label_shape.insert(label_shape.end(), out.begin(), out.end() - 1);
    d.labels = borrow_shaped<int64_t>(l, label_shape, where + " labels");
    d.positions = model.out_size() / out.back();
    if (l.ndim() == 1 && d.positions != 1)
      throw ValueError(where + " labels have shape " + shape_text(shape_of(l)) + "; outputs of shape " +
                       shape_text(out) + " need one label per position: (n, *" +
                       shape_text({out.begin(), out.end() - 1}) + ")");
  } else if (!values.is_none()) {
    const py::array v = values.cast<py::array>();
    d.values = borrow_shaped<T>(v, batch_shape(d.rows, model.out_shape()), where + " targets");
    d.target_cols = model.out_size();
  } else {
    throw ValueError(where + " needs targets (labels or values)");
  }
  if (!sample_weight.is_none()) {
    // One weight per sample, or with per-position labels one per position (class weights of those labels).
    const py::array w = sample_weight.cast<py::array>();
    const bool per_position = d.labels && label_shape.size() > 1 && w.ndim() > 1;
    d.sample_weight = borrow_shaped<T>(w, per_position ? label_shape : std::vector<long>{d.rows}, where + " sample_weight");
    if (per_position) d.weight_positions = d.positions;
  }
  return d;
}

py::dict totals_dict(const train::Totals& t) {
  py::dict d;
  d["loss_sum"] = t.loss_sum;
  d["loss_weight"] = t.loss_weight;
  d["samples"] = t.samples;
  d["batches"] = t.batches;
  d["metric_sums"] = t.metric_sums;
  d["metric_weight"] = t.metric_weight;
  d["nonfinite"] = t.nonfinite;
  d["nonfinite_batch"] = t.nonfinite_batch;
  return d;
}

// (name, k, threshold) triples as Python's compile parsed them.
std::vector<train::Metric> parsed_metrics(const std::vector<std::tuple<std::string, int, double>>& metrics) {
  std::vector<train::Metric> parsed;
  for (const auto& [name, k, threshold] : metrics) {
    train::Metric metric = train::metric_from_name(name, k);
    metric.threshold = threshold;
    parsed.push_back(metric);
  }
  return parsed;
}

template <typename T>
void bind_trainer(py::module_& m, const std::string& suffix) {
  using Trainer = train::Trainer<T>;
  using Model = nn::Model<T>;
  struct Bound {  // the trainer and what it borrows, kept alive between calls
    std::shared_ptr<Model> model;
    std::shared_ptr<Trainer> trainer;
    optim::OptimizerPtr<T> optimizer;
    std::vector<py::object> training_arrays;  // the data of the current fit
    bool started = false;
  };
  py::class_<Bound>(m, ("Trainer" + suffix).c_str())
      .def(py::init([](std::shared_ptr<Model> model, loss::LossPtr<T> loss, optim::OptimizerPtr<T> optimizer,
                       const std::vector<std::tuple<std::string, int, double>>& metrics) {
             if (!model || !loss) throw ValueError("[Trainer] needs a model and a loss");
             return Bound{model, std::make_shared<Trainer>(model, loss, optimizer, parsed_metrics(metrics)), optimizer,
                          {}, false};
           }),
           py::arg("model"), py::arg("loss"), py::arg("optimizer").none(true), py::arg("metrics"))
      .def(
          "start",
          [](Bound& self, const py::array& x, const py::object& labels, const py::object& values,
             const py::object& sample_weight, long batch_size, uint64_t seed, long first_epoch) {
            const std::string where = "[Trainer.start]";
            if (!self.optimizer) throw ValueError(where + " needs an optimizer");
            if (batch_size < 1) throw ValueError(where + " batch_size must be >= 1");
            if (first_epoch < 0) throw ValueError(where + " first_epoch must be >= 0");
            const train::Dataset<T> d = dataset<T>(*self.model, x, labels, values, sample_weight, where);
            if (d.rows < 1) throw ValueError(where + " x is empty");
            self.trainer->start(d, batch_size, seed, first_epoch);
            self.training_arrays = {x, labels, values, sample_weight};
            self.started = true;
          },
          py::arg("x"), py::arg("labels"), py::arg("values"), py::arg("sample_weight"), py::arg("batch_size"),
          py::arg("seed"), py::arg("first_epoch") = 0)
      .def_property_readonly("batches_per_epoch", [](const Bound& self) { return self.trainer->batches_per_epoch(); })
      .def(
          "new_epoch",
          [](Bound& self, bool shuffle) {
            if (!self.started) throw ValueError("[Trainer.new_epoch] call start first");
            self.trainer->new_epoch(shuffle);
          },
          py::arg("shuffle"))
      .def(
          "train_batches",
          [](Bound& self, long first, long last) {
            if (!self.started) throw ValueError("[Trainer.train_batches] call start first");
            const long batches = self.trainer->batches_per_epoch();
            if (first < 0 || last > batches || first > last)
              throw ValueError("[Trainer.train_batches] batch range [" + std::to_string(first) + ", " +
                               std::to_string(last) + ") is outside [0, " + std::to_string(batches) + ")");
            train::Totals totals;
            {
              py::gil_scoped_release release;
              totals = self.trainer->train_batches(first, last);
            }
            return totals_dict(totals);
          },
          py::arg("first_batch"), py::arg("last_batch"))
      .def(
          "run_epochs",
          [](Bound& self, long count, bool shuffle, const py::object& validation) {
            if (!self.started) throw ValueError("[Trainer.run_epochs] call start first");
            if (count < 0) throw ValueError("[Trainer.run_epochs] count must be >= 0");
            train::Dataset<T> val;
            const bool has_val = !validation.is_none();
            if (has_val) {
              const py::tuple v = validation.cast<py::tuple>();
              if (v.size() != 4) throw ValueError("[Trainer.run_epochs] validation is (x, labels, values, sample_weight)");
              val = dataset<T>(*self.model, v[0].cast<py::array>(), v[1], v[2], v[3], "[Trainer.run_epochs] validation");
            }
            std::vector<train::EpochResult> results;
            {
              py::gil_scoped_release release;
              results = self.trainer->run_epochs(count, shuffle, has_val ? &val : nullptr);
            }
            py::list out;
            for (const auto& r : results)
              out.append(py::make_tuple(totals_dict(r.train), r.has_validation ? py::object(totals_dict(r.validation))
                                                                               : py::object(py::none())));
            return out;
          },
          py::arg("count"), py::arg("shuffle"), py::arg("validation").none(true),
          "count whole epochs in one call: [(train totals, validation totals or None)] per epoch run.")
      .def(
          "evaluate",
          [](Bound& self, const py::array& x, const py::object& labels, const py::object& values,
             const py::object& sample_weight, long batch_size) {
            const train::Dataset<T> d = dataset<T>(*self.model, x, labels, values, sample_weight, "[Trainer.evaluate]");
            if (batch_size < 1) throw ValueError("[Trainer.evaluate] batch_size must be >= 1");
            train::Totals totals;
            {
              py::gil_scoped_release release;
              totals = self.trainer->evaluate(d, batch_size);
            }
            return totals_dict(totals);
          },
          py::arg("x"), py::arg("labels"), py::arg("values"), py::arg("sample_weight"), py::arg("batch_size"));
}

// The batch accounting of the C++ trainer (train/accounting.h) for training loops run from Python
// (Module.fit): the same loss and metric totals, in the same schema, from the same code.
template <typename T>
void bind_accounting(py::module_& m, const std::string& suffix) {
  struct Bound {
    train::Accounting<T> accounting;
    train::Totals totals;
  };
  py::class_<Bound>(m, ("Accounting" + suffix).c_str())
      .def(py::init([](loss::LossPtr<T> loss, const std::vector<std::tuple<std::string, int, double>>& metrics) {
             if (!loss) throw ValueError("[Accounting] needs a loss");
             Bound bound{train::Accounting<T>(loss, parsed_metrics(metrics)), {}};
             bound.totals.metric_sums.assign(bound.accounting.metrics().size(), 0.0);
             return bound;
           }),
           py::arg("loss"), py::arg("metrics"))
      .def(
          "add",
          [](Bound& self, const py::array& out, const py::object& labels, const py::object& values,
             const py::object& sample_weight) {
            const std::string where = "[Accounting.add]";
            if (out.ndim() != 2 || out.shape(0) < 1 || out.shape(1) < 1)
              throw ValueError(where + " out must be a non-empty 2-D array; got shape " + shape_text(shape_of(out)));
            const long rows = long(out.shape(0)), cols = long(out.shape(1));
            const T* o = borrow<T>(out, where + " out");
            loss::Targets<T> targets;
            if (!labels.is_none()) {
              targets.labels = borrow_shaped<int64_t>(labels.cast<py::array>(), {rows}, where + " labels");
              check_labels(targets.labels, rows, cols, self.accounting.loss().ignore_index(), where);
            } else if (!values.is_none()) {
              targets.values = borrow_shaped<T>(values.cast<py::array>(), {rows, cols}, where + " targets");
            } else {
              throw ValueError(where + " needs targets (labels or values)");
            }
            const T* weights = nullptr;
            if (!sample_weight.is_none())
              weights = borrow_shaped<T>(sample_weight.cast<py::array>(), {rows}, where + " sample_weight");
            return self.accounting.add_batch(o, rows, cols, 1, targets, weights, nullptr, self.totals);
          },
          py::arg("out").noconvert(), py::arg("labels"), py::arg("values"), py::arg("sample_weight"),
          "The batch's loss; when finite, added with its metrics to the totals.")
      .def(
          "take_totals",
          [](Bound& self) {
            py::dict d = totals_dict(self.totals);
            self.totals = train::Totals{};
            self.totals.metric_sums.assign(self.accounting.metrics().size(), 0.0);
            return d;
          },
          "The totals since the last take (the trainer's schema), starting afresh.");
}

}  // namespace

void init_train(py::module_& m) {
  bind_trainer<float>(m, "_float32");
  bind_trainer<double>(m, "_float64");
  m.def("epoch_seed", &train::epoch_seed, py::arg("seed"), py::arg("epoch"),
        "The seed of an epoch's random streams (shuffle, dropout) in a run seeded with `seed`.");
  m.def(
      "epoch_order",
      [](uint64_t epoch_seed, bool shuffle, long n) {
        if (n < 0) throw ValueError("[epoch_order] n must be >= 0; got " + std::to_string(n));
        py::array_t<int64_t> order(n);
        train::epoch_order(epoch_seed, shuffle, order.mutable_data(), n);
        return order;
      },
      py::arg("epoch_seed"), py::arg("shuffle"), py::arg("n"),
      "The order an epoch visits n samples in (the C++ trainer's shuffle), from that epoch's seed.");
  bind_accounting<float>(m, "_float32");
  bind_accounting<double>(m, "_float64");
}

}  // namespace bprop::bindings
