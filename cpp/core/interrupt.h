// Ctrl-C during a long C++ call. Python sees a signal only when control comes back to it, so a call
// that trains for minutes would ignore Ctrl-C until it returned. Long loops therefore poll between units
// of work (a batch, a GEMM block, a graph node): interrupt_requested() costs a clock read, and at most
// every kPollInterval it asks the checker the bindings installed (on the thread Python's signal handlers
// run on: take the GIL, run the pending handlers). When that says yes, the call unwinds by throwing
// Interrupted, outside any parallel region; the bindings turn it back into the KeyboardInterrupt (or
// whatever the handler raised). Work is left at a unit boundary: a fit keeps the weights of its last
// completed step.
#pragma once
#include <exception>

namespace bprop {

// Thrown (never inside a parallel region) when a poll found a pending interrupt.
struct Interrupted : std::exception {
  const char* what() const noexcept override { return "interrupted"; }
};

// Returns true when an interrupt is pending (the checker has already taken it from Python). Installed
// once by the bindings; without one, nothing is ever pending (C++ tests, embedding).
using InterruptChecker = bool (*)();
void set_interrupt_checker(InterruptChecker checker);

// Whether a poll found an interrupt. Call from the thread that entered the core (never a worker).
bool interrupt_requested();
// interrupt_requested(), thrown as Interrupted: for loops outside parallel regions.
void throw_if_interrupted();

}  // namespace bprop
