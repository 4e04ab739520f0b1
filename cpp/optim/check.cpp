#include "optim/check.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace bprop::optim {

bool Range::contains(double v) const {
  const bool lo_ok = lo_open ? v > lo : v >= lo;
  const bool hi_ok = hi_open ? v < hi : v <= hi;
  return lo_ok && hi_ok;
}

std::string Range::text() const {
  if (std::isinf(hi)) return (lo_open ? "> " : ">= ") + format_number(lo);
  return std::string("in ") + (lo_open ? "(" : "[") + format_number(lo) + ", " + format_number(hi) +
         (hi_open ? ")" : "]");
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // Fewest significant digits that give the same double back (Python's repr does the same).
  for (int digits = 1; digits <= 17; ++digits) {
    std::ostringstream text;
    text.precision(digits);
    text << v;
    if (std::strtod(text.str().c_str(), nullptr) == v) return text.str();
  }
  return std::to_string(v);
}

void check_hyperparameter(const std::string& who, const std::string& name, double v, const Range& range) {
  if (!std::isfinite(v))
    throw ValueError("[" + who + "] " + name + " must be a finite number; got " + format_number(v));
  if (!range.contains(v))
    throw ValueError("[" + who + "] " + name + " must be " + range.text() + "; got " + format_number(v));
}

void check_hyperparameters(const std::string& who, std::initializer_list<Rule> rules) {
  for (const Rule& rule : rules) check_hyperparameter(who, rule.name, rule.value, rule.range);
}

void check_count(const std::string& who, const std::string& name, long v, long min) {
  if (v < min)
    throw ValueError("[" + who + "] " + name + " must be >= " + std::to_string(min) + "; got " + std::to_string(v));
}

}  // namespace bprop::optim
