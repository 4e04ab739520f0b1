#include "nn/init.h"

#include <cmath>

#include "core/error.h"
#include "core/random.h"

namespace bprop::nn {
namespace {

enum class Draw { uniform, normal, zeros };

struct Scheme {
  Draw draw;
  double scale;  // the uniform limit or the normal standard deviation
};

Scheme scheme_for(const std::string& name, long fan_in, long fan_out, double limit) {
  const double in = double(fan_in > 0 ? fan_in : 1), both = double(fan_in + fan_out > 0 ? fan_in + fan_out : 1);
  if (name == "glorot_uniform" || name == "xavier_uniform") return {Draw::uniform, std::sqrt(6.0 / both)};
  if (name == "glorot_normal" || name == "xavier_normal") return {Draw::normal, std::sqrt(2.0 / both)};
  if (name == "he_uniform" || name == "kaiming_uniform") return {Draw::uniform, std::sqrt(6.0 / in)};
  if (name == "he_normal" || name == "kaiming_normal") return {Draw::normal, std::sqrt(2.0 / in)};
  if (name == "lecun_uniform") return {Draw::uniform, std::sqrt(3.0 / in)};
  if (name == "lecun_normal") return {Draw::normal, std::sqrt(1.0 / in)};
  if (name == "uniform") return {Draw::uniform, limit};
  if (name == "zeros") return {Draw::zeros, 0.0};
  throw ValueError("[init] unknown initializer '" + name +
                   "'; expected glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, "
                   "lecun_normal, uniform or zeros (xavier_* and kaiming_* are aliases)");
}

}  // namespace

void check_initializer(const std::string& name, double limit) {
  scheme_for(name, 1, 1, limit);
  if (name == "uniform" && !(limit >= 0)) throw ValueError("[init] uniform needs a limit >= 0; got " + std::to_string(limit));
}

template <typename T>
void initialize(Array<T>& values, const std::string& name, long fan_in, long fan_out, double limit, uint64_t seed) {
  const Scheme scheme = scheme_for(name, fan_in, fan_out, limit);
  Generator rng(seed);
  for (long i = 0; i < values.size(); ++i) {
    switch (scheme.draw) {
      case Draw::uniform: values[i] = T(rng.uniform(-scheme.scale, scheme.scale)); break;
      case Draw::normal: values[i] = T(scheme.scale * rng.normal()); break;
      case Draw::zeros: values[i] = T(0); break;
    }
  }
}

template void initialize<float>(Array<float>&, const std::string&, long, long, double, uint64_t);
template void initialize<double>(Array<double>&, const std::string&, long, long, double, uint64_t);

}  // namespace bprop::nn
