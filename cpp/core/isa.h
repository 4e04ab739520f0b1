// Which instruction set the kernels run: the best the CPU has, chosen once at start-up from cpuid, or one
// forced for tests and benchmarks. Every kernel family (GEMM micro-kernels, optimizer updates, and the
// convolution and recurrent kernels to come) dispatches on this one choice, so it lives in core/, below
// all of them.
#pragma once
#include <string>
#include <vector>

namespace bprop {

enum class Isa { reference, avx2, avx512 };

const char* isa_name(Isa isa);
std::vector<Isa> available_isas();  // reference first, best last
Isa active_isa();
// Forces one ISA by name ("reference", "avx2", "avx512"); ValueError if unknown or not on this CPU.
void set_active_isa(const std::string& name);
// The ISA of that name; ValueError naming `where` if the name is unknown (availability not checked).
Isa isa_by_name(const std::string& name, const std::string& where);

}  // namespace bprop
