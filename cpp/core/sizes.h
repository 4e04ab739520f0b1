// Element counts of user-given shapes, checked before anything is allocated. A product of sizes can
// wrap past 2^63 (and then look small, or negative), and a size that fits in a long can still ask for
// more memory than the machine has: either is a ValueError naming the caller, never a wrapped count,
// a std::bad_alloc or an allocation that takes the machine down.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace bprop {

// The product of `sizes` (each >= 0), or ValueError ("[where] ...") when it overflows a long or when
// that many elements of `element_bytes` each exceed the machine's physical memory.
long checked_count(const std::vector<long>& sizes, std::size_t element_bytes, const std::string& where);

// The product of `sizes` when it fits in a long, else -1 (for callers that phrase their own error).
long product_or_overflow(const std::vector<long>& sizes);

// A shape as Python prints it: "(4, 3)", "(4,)", "()". For error messages everywhere in the core and bindings.
std::string shape_text(const std::vector<long>& shape);

// Bytes of physical memory (sysconf), or the address-space limit when lower; 2^62 when neither tells.
std::size_t physical_memory_bytes();

}  // namespace bprop
