// Scratch arrays for calls that must not touch shared state: inference runs from many Python threads
// on one model at once, so its intermediate outputs cannot live in the layers. Each calling thread has
// a stack of buffers; a ScratchFrame takes buffers from it and gives them all back when it ends, so
// nested frames (a Sequential inside a Residual inside a Sequential) stack up. Buffers only grow: after
// the first call of a given size, later calls on that thread allocate nothing.
#pragma once
#include <cstddef>
#include <deque>

#include "core/workspace.h"

namespace bprop {

class ScratchFrame {
 public:
  ScratchFrame() : stack_(thread_stack()), first_(stack_.used) {}
  ~ScratchFrame() { stack_.used = first_; }
  ScratchFrame(const ScratchFrame&) = delete;
  ScratchFrame& operator=(const ScratchFrame&) = delete;

  // `count` elements of T, 64-byte aligned, contents unspecified, valid until the frame ends. May throw
  // std::bad_alloc: take scratch before any parallel region.
  template <typename T>
  T* take(long count) {
    if (stack_.used == stack_.buffers.size()) stack_.buffers.emplace_back();
    return stack_.buffers[stack_.used++].reserve_elements<T>(std::size_t(count > 0 ? count : 1));
  }

 private:
  struct Stack {
    std::deque<AlignedBuffer> buffers;  // a deque: growing it never moves a buffer in use
    std::size_t used = 0;
  };
  static Stack& thread_stack() {
    thread_local Stack stack;
    return stack;
  }

  Stack& stack_;
  std::size_t first_;
};

}  // namespace bprop
