// An owning, 64-byte aligned, zero-initialised array of T: parameters, gradients, optimizer state and
// layer caches. It grows only when asked for more than it holds, so steps after the first reuse it.
#pragma once
#include <cstddef>
#include <cstring>
#include <utility>

#include "core/workspace.h"

namespace bprop {

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
      data_ = data;
      capacity_ = size;
    }
    size_ = size;
  }
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
  T* data_ = nullptr;
  long size_ = 0, capacity_ = 0;
};

}  // namespace bprop
