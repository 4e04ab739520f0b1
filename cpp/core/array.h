// An owning, 64-byte aligned, zero-initialised array of T: parameters, gradients, optimizer state and
// layer caches. It grows only when asked for more than it holds, so steps after the first reuse it.
// It can instead view part of a shared block (view()): a parameter inside an optimizer's arena.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "core/workspace.h"

namespace bprop {

// `count` rounded up to a whole number of 64-byte lines of T: where the next array in a block may start.
template <typename T>
constexpr long aligned_count(long count) {
  constexpr long line = long(kAlignment / sizeof(T));
  return (count + line - 1) / line * line;
}

// A zeroed, 64-byte aligned block of `count` T, freed when the last holder lets go: the storage that
// parameters and optimizer state share. Throws std::bad_alloc (call it before any parallel region).
template <typename T>
std::shared_ptr<T> make_shared_block(long count) {
  const std::size_t bytes = (std::max<std::size_t>(std::size_t(count) * sizeof(T), 1) + kAlignment - 1) / kAlignment * kAlignment;
  void* memory = std::aligned_alloc(kAlignment, bytes);
  if (!memory) throw std::bad_alloc();
  std::memset(memory, 0, bytes);
  return std::shared_ptr<T>(static_cast<T*>(memory), [](T* p) { std::free(p); });
}

template <typename T>
class Array {
 public:
  Array() = default;
  explicit Array(long size) { resize(size); }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;
  Array(Array&& other) noexcept { *this = std::move(other); }
  Array& operator=(Array&& other) noexcept {
    storage_.swap(other.storage_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    block_.swap(other.block_);
    return *this;
  }

  // Holds `size` elements afterwards; new storage is zeroed, kept storage keeps its values.
  void resize(long size) {
    if (size > capacity_) {
      AlignedBuffer fresh;
      T* data = fresh.reserve_elements<T>(std::size_t(size));
      std::memset(static_cast<void*>(data), 0, sizeof(T) * std::size_t(size));
      if (size_) std::memcpy(static_cast<void*>(data), data_, sizeof(T) * std::size_t(size_));
      storage_.swap(fresh);
      block_.reset();
      data_ = data;
      capacity_ = size;
    }
    size_ = size;
  }
  // Views `size` elements at `data`, inside the block `block` keeps alive, and lets go of what it held
  // (its own storage, or the block it viewed). A later resize() past `size` copies out into owned storage.
  void view(std::shared_ptr<void> block, T* data, long size) {
    AlignedBuffer().swap(storage_);
    block_ = std::move(block);
    data_ = data;
    size_ = capacity_ = size;
  }
  // The shared block this array views; null while it owns its storage. Holding it keeps data() valid
  // after the array moves elsewhere (NumPy views of a parameter do).
  const std::shared_ptr<void>& block() const { return block_; }

  void fill(T value) {
    for (long i = 0; i < size_; ++i) data_[i] = value;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  long size() const { return size_; }
  T& operator[](long i) { return data_[i]; }
  const T& operator[](long i) const { return data_[i]; }

 private:
  AlignedBuffer storage_;
  std::shared_ptr<void> block_;  // set while viewing a shared block
  T* data_ = nullptr;
  long size_ = 0, capacity_ = 0;
};

}  // namespace bprop
