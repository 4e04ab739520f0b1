// Scratch memory that lives with the calling thread and is reused across calls, so the hot path
// allocates only when a call needs more than any call before it.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

namespace bprop {

inline constexpr std::size_t kAlignment = 64;  // one cache line, one zmm register

// A 64-byte aligned block that only ever grows. Its contents are not kept across growth.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& other) noexcept { swap(other); }
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    swap(other);
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }

  void swap(AlignedBuffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(capacity_, other.capacity_);
  }

  // Returns at least `bytes` bytes; throws std::bad_alloc (call it before any parallel region).
  void* reserve(std::size_t bytes) {
    if (bytes <= capacity_) return data_;
    const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* fresh = std::aligned_alloc(kAlignment, rounded);
    if (!fresh) throw std::bad_alloc();
    std::free(data_);
    data_ = fresh;
    capacity_ = rounded;
    return data_;
  }

  template <typename T>
  T* reserve_elements(std::size_t count) {
    return static_cast<T*>(reserve(count * sizeof(T)));
  }

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// The scratch of one calling thread. A parallel region started by that thread carves one slice per
// worker out of it, so workers never allocate.
struct Workspace {
  AlignedBuffer gemm_pack_a;
  AlignedBuffer gemm_pack_b;
  AlignedBuffer gemm_row;  // the few-row GEMM's accumulators
  AlignedBuffer conv_columns;  // a convolution's backward-data column blocks, one per thread of the call
  AlignedBuffer conv_padded;   // a convolution's padded input samples, one per thread of the call
};

inline Workspace& thread_workspace() {
  thread_local Workspace workspace;
  return workspace;
}

}  // namespace bprop
