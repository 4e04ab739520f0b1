// Hyperparameter checks shared by the optimizers and schedules: one wording for every range error,
// `[Adam] lr must be >= 0; got -1`. They throw ValueError, so they run at construction, never in step().
#pragma once
#include <initializer_list>
#include <limits>
#include <string>

namespace bprop::optim {

// A set of allowed values: [lo, hi], with either end open. Infinite ends print as ">= lo" / "> lo".
struct Range {
  double lo = 0, hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = true;

  bool contains(double v) const;
  std::string text() const;  // ">= 0", "> 0", "in [0, 1)"
};

inline Range at_least(double lo) { return {lo}; }
inline Range above(double lo) { return {lo, std::numeric_limits<double>::infinity(), true, true}; }
inline Range between(double lo, double hi, bool hi_open) { return {lo, hi, false, hi_open}; }

// The shortest faithful text of a number, as in Python: -1, 0.001, 1e-08, nan, inf.
std::string format_number(double v);

// ValueError "[who] name must be <range>; got v" unless v is finite and in `range`.
void check_hyperparameter(const std::string& who, const std::string& name, double v, const Range& range);
// One hyperparameter's rule, for checking an options struct as a table.
struct Rule {
  const char* name;
  double value;
  Range range;
};
void check_hyperparameters(const std::string& who, std::initializer_list<Rule> rules);

// ValueError "[who] name must be >= min; got v" for counts (steps, periods).
void check_count(const std::string& who, const std::string& name, long v, long min);

}  // namespace bprop::optim

namespace bprop::optim {

// `options` after options.validate(who): lets a constructor check its hyperparameters before its base.
template <class Options>
const Options& validated(const Options& options, const std::string& who) {
  options.validate(who);
  return options;
}

}  // namespace bprop::optim
