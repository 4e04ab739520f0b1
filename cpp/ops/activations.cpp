#include "ops/activations.h"

#include <cctype>
#include <sstream>
#include <type_traits>

#include "core/error.h"
#include "core/parallel.h"

namespace bprop::ops {
namespace {

// The generic span loops: the functor is a template argument, so value() and grad() inline into the loop.
template <template <typename> class F, typename T>
void forward_span(const T* params, const T* x, T* y, long n) {
  const F<T> f(params);
  for (long i = 0; i < n; ++i) y[i] = f.value(x[i]);
}

template <template <typename> class F, typename T>
void backward_span(const T* params, const T* x, const T* y, const T* dy, T* dx, long n) {
  const F<T> f(params);
  constexpr Reads reads = F<T>::kReads;
  for (long i = 0; i < n; ++i) {
    T xi = T(0), yi = T(0);
    if constexpr (reads != Reads::y) xi = x[i];
    if constexpr (reads != Reads::x) yi = y[i];
    dx[i] = f.grad(xi, yi, dy[i]);
  }
}

template <template <typename> class F, typename T>
void block(const T* params, const T* bias, T* y, long rows, long cols, long ld) {
  const F<T> f(params);
  for (long r = 0; r < rows; ++r) {
    T* row = y + r * ld;
    if (bias)
      for (long j = 0; j < cols; ++j) row[j] += bias[j];
    if constexpr (!std::is_same_v<F<T>, functors::Identity<T>>)
      for (long j = 0; j < cols; ++j) row[j] = f.value(row[j]);
  }
}

template <template <typename> class F>
ActivationEntry entry() {
  using D = F<double>;
  static_assert(D::kParams.size() <= kMaxActivationParams, "raise kMaxActivationParams");
  std::string op = D::kName;
  for (char& c : op) c = char(std::tolower(static_cast<unsigned char>(c)));
  return {D::kName,
          std::move(op),
          std::vector<ActivationParam>(D::kParams.begin(), D::kParams.end()),
          D::kReads,
          &D::from_output,
          {&forward_span<F, float>, &backward_span<F, float>, &block<F, float>},
          {&forward_span<F, double>, &backward_span<F, double>, &block<F, double>}};
}

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Below this many values one thread is faster than waking a second (a 128x512 layer has 65,536).
constexpr long kParallelMinValues = 1L << 15;

template <typename T>
const T* shifted(const T* p, long offset) {  // backward's unread operand may be null
  return p ? p + offset : nullptr;
}

}  // namespace

// THE table: one line per activation, its functor in ops/activation_functors.h.
const std::vector<ActivationEntry>& activation_table() {
  static const std::vector<ActivationEntry> table = {
      entry<functors::Identity>(), entry<functors::ReLU>(),     entry<functors::LeakyReLU>(),
      entry<functors::ELU>(),      entry<functors::GELU>(),     entry<functors::GELUTanh>(),
      entry<functors::Sigmoid>(),  entry<functors::Tanh>(),
      entry<functors::SiLU>(),
      entry<functors::Softplus>(),
      entry<functors::Hardswish>(),
      entry<functors::Mish>(),
  };
  return table;
}

const ActivationEntry& find_activation(const std::string& name) {
  for (const auto& e : activation_table())
    if (name == e.name) return e;
  std::string known;
  for (const auto& e : activation_table()) known += std::string(known.empty() ? "" : ", ") + e.name;
  throw ValueError("[activation] unknown activation '" + name + "'; expected one of: " + known);
}

Activation::Activation(const std::string& name, const std::vector<double>& params) : entry_(&find_activation(name)) {
  const auto& specs = entry_->params;
  if (params.size() > specs.size())
    throw ValueError(std::string("[") + entry_->name + "] takes " + std::to_string(specs.size()) +
                     " parameters; got " + std::to_string(params.size()));
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const double v = i < params.size() ? params[i] : specs[i].default_value;
    if (specs[i].domain == ParamDomain::positive && !(v > 0))
      throw ValueError(std::string("[") + entry_->name + "] " + specs[i].name + " must be > 0; got " + number_text(v));
    params_[i] = v;
    params_f32_[i] = float(v);
  }
}

std::vector<double> Activation::params() const {
  return std::vector<double>(params_.begin(), params_.begin() + long(entry_->params.size()));
}

template <>
const float* Activation::typed_params<float>() const {
  return params_f32_.data();
}
template <>
const double* Activation::typed_params<double>() const {
  return params_.data();
}
template <>
const ActivationKernels<float>& Activation::kernels<float>() const {
  return entry_->f32;
}
template <>
const ActivationKernels<double>& Activation::kernels<double>() const {
  return entry_->f64;
}

template <typename T>
void Activation::forward(const T* x, T* y, long n) const {
  const auto kernel = kernels<T>().forward;
  const T* p = typed_params<T>();
  parallel_for(n, kParallelMinValues, [&](long b, long e) { kernel(p, x + b, y + b, e - b); });
}

template <typename T>
void Activation::backward(const T* x, const T* y, const T* dy, T* dx, long n) const {
  const auto kernel = kernels<T>().backward;
  const T* p = typed_params<T>();
  parallel_for(n, kParallelMinValues,
               [&](long b, long e) { kernel(p, shifted(x, b), shifted(y, b), dy + b, dx + b, e - b); });
}

template <typename T>
void Activation::apply_block(const T* bias, T* y, long rows, long cols, long ld) const {
  kernels<T>().block(typed_params<T>(), bias, y, rows, cols, ld);
}

template void Activation::forward<float>(const float*, float*, long) const;
template void Activation::forward<double>(const double*, double*, long) const;
template void Activation::backward<float>(const float*, const float*, const float*, float*, long) const;
template void Activation::backward<double>(const double*, const double*, const double*, double*, long) const;
template void Activation::apply_block<float>(const float*, float*, long, long, long) const;
template void Activation::apply_block<double>(const double*, double*, long, long, long) const;

}  // namespace bprop::ops
