#include "core/sizes.h"

#include <sys/resource.h>
#include <unistd.h>

#include "core/error.h"

namespace bprop {

long product_or_overflow(const std::vector<long>& sizes) {
  long product = 1;
  for (long size : sizes)
    if (size < 0 || __builtin_mul_overflow(product, size, &product)) return -1;
  return product;
}

std::size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  std::size_t bytes = pages <= 0 || page <= 0 ? std::size_t(1) << 62 : std::size_t(pages) * std::size_t(page);
  // A process limited below that (ulimit -v, a container, the fuzz workers) can allocate no more.
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < bytes)
    bytes = std::size_t(limit.rlim_cur);
  return bytes;
}

std::string shape_text(const std::vector<long>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

namespace {

std::string gib(double bytes) { return std::to_string(long(bytes / double(1L << 30) + 0.5)) + " GiB"; }

}  // namespace

long checked_count(const std::vector<long>& sizes, std::size_t element_bytes, const std::string& where) {
  for (long size : sizes)
    if (size < 0) throw ValueError(where + " sizes must be >= 0; got " + shape_text(sizes));
  const long count = product_or_overflow(sizes);
  if (count < 0) throw ValueError(where + " sizes " + shape_text(sizes) + " hold more than 2^63 elements");
  const double bytes = double(count) * double(element_bytes), memory = double(physical_memory_bytes());
  if (bytes > memory)
    throw ValueError(where + " sizes " + shape_text(sizes) + " need " + gib(bytes) + "; this machine has " +
                     gib(memory) + " for this process");
  return count;
}

}  // namespace bprop
