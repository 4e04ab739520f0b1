#include "core/isa.h"

#include <atomic>

#include "core/cpu_features.h"
#include "core/error.h"

namespace bprop {
namespace {

constexpr Isa kAllIsas[] = {Isa::reference, Isa::avx2, Isa::avx512};

std::atomic<Isa>& active_setting() {
  static std::atomic<Isa> isa{available_isas().back()};
  return isa;
}

std::string names_of(const std::vector<Isa>& isas) {
  std::string names;
  for (Isa isa : isas) names += std::string(names.empty() ? "" : ", ") + isa_name(isa);
  return names;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::reference: break;
  }
  return "reference";
}

std::vector<Isa> available_isas() {
  std::vector<Isa> isas{Isa::reference};
#ifdef BPROP_HAVE_X86_KERNELS
  if (cpu_features().avx2) isas.push_back(Isa::avx2);
  if (cpu_features().avx512) isas.push_back(Isa::avx512);
#endif
  return isas;
}

Isa active_isa() { return active_setting().load(std::memory_order_relaxed); }

Isa isa_by_name(const std::string& name, const std::string& where) {
  for (Isa isa : kAllIsas)
    if (name == isa_name(isa)) return isa;
  throw ValueError("[" + where + "] unknown ISA '" + name + "'; expected one of: " +
                   names_of({std::begin(kAllIsas), std::end(kAllIsas)}));
}

void set_active_isa(const std::string& name) {
  const Isa wanted = isa_by_name(name, "set_isa");
  for (Isa have : available_isas())
    if (have == wanted) {
      active_setting().store(wanted, std::memory_order_relaxed);
      return;
    }
  throw ValueError("[set_isa] this CPU (or this build) lacks '" + name + "'; available: " +
                   names_of(available_isas()));
}

}  // namespace bprop
