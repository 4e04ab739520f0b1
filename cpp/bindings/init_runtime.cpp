// Threads, ISA choice and machine facts.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "bindings/init.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/parallel.h"
#include "gemm/blocking.h"
#include "gemm/gemm.h"
#include "gemm/isa.h"
#include "ops/finite.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

template <typename T>
py::dict kernel_dict(const gemm::Kernel<T>& k) {
  py::dict d;
  d["name"] = k.name;
  d["mr"] = k.mr;
  d["nr"] = k.nr;
  d["kc"] = k.kc;
  d["mc"] = k.mc;
  d["nc"] = k.nc;
  d["small_m"] = k.small_m;
  return d;
}

// For tests of the pool itself: runs `tasks` tasks on a team of `threads` (waking every worker); each task records the slot that ran
// it (and may throw a ValueError, or raise the stop flag) and busy-waits `task_micros`. Returns, per task,
// how many times it ran and its slot (-1 if skipped).
py::tuple parallel_probe(long tasks, int threads, long throw_task, long stop_task, double task_micros) {
  if (tasks < 0 || threads < 1) throw ValueError("[parallel_probe] tasks must be >= 0 and threads >= 1");
  std::vector<std::atomic<int>> runs(static_cast<std::size_t>(tasks));
  std::vector<int> slots(std::size_t(tasks), -1);
  std::atomic<bool> stop{false};
  {
    py::gil_scoped_release release;
    ParallelTeam team(threads, Wake::always);
    team.run(
        tasks,
        [&](long task, int slot) {
          runs[std::size_t(task)].fetch_add(1);
          slots[std::size_t(task)] = slot;
          const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double, std::micro>(task_micros);
          while (std::chrono::steady_clock::now() < until) {
          }
          if (task == stop_task) stop.store(true);
          if (task == throw_task) throw ValueError("[parallel_probe] task " + std::to_string(task) + " failed");
        },
        &stop);
  }
  std::vector<int> counts;
  for (auto& r : runs) counts.push_back(r.load());
  return py::make_tuple(counts, slots);
}

// all_finite for a C-contiguous, aligned float32/float64 array (the Python side passes only those): a
// batch-1 predict checks its row in well under a µs, where NumPy's isfinite(x).all() takes ~2.
template <typename T>
bool array_all_finite(const py::array& x) {
  const T* data = static_cast<const T*>(x.data());
  const long n = long(x.size());
  // A release costs a GIL hand-off, which with many Python threads is slower than checking a small array.
  constexpr long kReleaseAbove = 1L << 16;
  if (n <= kReleaseAbove) return ops::all_finite(data, n);
  py::gil_scoped_release release;
  return ops::all_finite(data, n);
}

bool all_finite(const py::array& x) {
  const bool layout = (x.flags() & py::array::c_style) && reinterpret_cast<std::uintptr_t>(x.data()) % x.itemsize() == 0;
  if (layout && py::isinstance<py::array_t<float>>(x)) return array_all_finite<float>(x);
  if (layout && py::isinstance<py::array_t<double>>(x)) return array_all_finite<double>(x);
  throw TypeError("[all_finite] expects a C-contiguous, aligned float32 or float64 array");
}


}  // namespace

void init_runtime(py::module_& m) {
  m.def("num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("has_threads", &has_threads);
  m.def("available_cores", &available_cores);
  m.def("max_threads", &max_threads);
  m.def("parallel_probe", &parallel_probe, py::arg("tasks"), py::arg("threads"), py::arg("throw_task") = -1,
        py::arg("stop_task") = -1, py::arg("task_micros") = 0.0);

  m.def("all_finite", &all_finite, py::arg("x"));

  m.def("active_isa", [] { return std::string(isa_name(active_isa())); });
  m.def("available_isas", [] {
    std::vector<std::string> names;
    for (Isa isa : available_isas()) names.push_back(isa_name(isa));
    return names;
  });
  m.def("set_isa", &set_active_isa, py::arg("name"));

  m.def("cpu_brand", [] { return cpu_features().brand; });
  m.def("cpu_identity", [] {
    const CpuFeatures& f = cpu_features();
    py::dict d;
    d["vendor"] = f.vendor;
    d["family"] = f.family;
    d["model"] = f.model;
    d["cache_source"] = std::string(f.cache_source);
    return d;
  });
  // The GEMM's choices for this CPU (gemm/blocking.h); the first call may run the FMA probe (~1 ms).
  m.def("gemm_blocking", [] {
    const gemm::Blocking* chosen;
    {
      py::gil_scoped_release release;
      chosen = &gemm::blocking();
    }
    const auto blocks = [](const gemm::Blocks& b) {
      py::dict d;
      d["kc"] = b.kc;
      d["mc"] = b.mc;
      d["nc"] = b.nc;
      return d;
    };
    py::dict d;
    d["family"] = chosen->family;
    d["source"] = chosen->source;
    d["fma512_per_cycle"] = chosen->fma512_per_cycle;
    d["fma_probe_ratio"] = chosen->fma_probe_ratio;
    d["sgemm_avx512"] = blocks(chosen->sgemm_avx512);
    d["sgemm_avx2"] = blocks(chosen->sgemm_avx2);
    d["in_place_bytes"] = chosen->in_place_bytes;
    d["in_place_a_bytes"] = chosen->in_place_a_bytes;
    return d;
  });
  m.def("cache_sizes", [] {
    const CpuFeatures& f = cpu_features();
    py::dict d;
    d["l1d"] = f.l1d_bytes;
    d["l2"] = f.l2_bytes;
    d["l3"] = f.l3_bytes;
    return d;
  });

  // The kernel table of one ISA and dtype: tile and cache-block sizes, for tests and benchmarks.
  m.def(
      "gemm_config",
      [](const std::string& isa, const std::string& dtype) {
        if (dtype == "float32") return kernel_dict(gemm::sgemm_kernel(isa_by_name(isa, "gemm_config")));
        if (dtype == "float64") return kernel_dict(gemm::dgemm_kernel(isa_by_name(isa, "gemm_config")));
        throw ValueError("[gemm_config] dtype must be 'float32' or 'float64'; got '" + dtype + "'");
      },
      py::arg("isa"), py::arg("dtype"));

  m.def("gemm_parallel_min_flops", &gemm::parallel_min_flops);
  m.def("set_gemm_parallel_min_flops", &gemm::set_parallel_min_flops, py::arg("flops"));

  m.def(
      "fma_peak_gflops",
      [](const std::string& isa, int threads, double seconds) {
        if (threads < 1) throw ValueError("[fma_peak_gflops] threads must be >= 1");
        const Isa chosen = isa_by_name(isa, "fma_peak_gflops");
        py::gil_scoped_release release;
        return gemm::measure_fma_peak_gflops(chosen, threads, seconds);
      },
      py::arg("isa"), py::arg("threads") = 1, py::arg("seconds") = 0.2);
}

}  // namespace bprop::bindings
