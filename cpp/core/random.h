// The random numbers of the core: a sequential generator (xoshiro256** seeded through splitmix64) for
// initialisers and shuffles, and counter-based draws for dropout masks. Every draw comes from an
// explicit seed, so a seed reproduces a run exactly at a fixed thread count.
#pragma once
#include <cmath>
#include <cstdint>

namespace bprop {

// SplitMix64's output function: a bijection of 64-bit words that spreads any input over all bits.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A counter-based draw in [0, 1): a pure function of (key, counter), so a value can be drawn again
// (a recomputed segment gets the same dropout mask) and in any order, by any thread.
inline double counter_uniform(uint64_t key, uint64_t counter) {
  return double(mix64(key + (counter + 1) * 0x9e3779b97f4a7c15ULL) >> 11) * 0x1.0p-53;
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    for (auto& word : state_) {  // splitmix64: spreads any seed, 0 included, over the state
      seed += 0x9e3779b97f4a7c15ULL;
      word = mix64(seed);
    }
    has_spare_normal_ = false;
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9, t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  double normal() {  // Box–Muller; the second value of each pair is kept for the next call
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    double u = 0;
    while (u <= 0) u = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u)), angle = 2.0 * M_PI * uniform();
    spare_normal_ = radius * std::sin(angle);
    has_spare_normal_ = true;
    return radius * std::cos(angle);
  }

  // Uniform integer in [0, n), without modulo bias (Lemire's method).
  uint64_t below(uint64_t n) {
    unsigned __int128 product = (unsigned __int128)next() * n;
    uint64_t low = uint64_t(product);
    if (low < n) {
      const uint64_t threshold = -n % n;
      while (low < threshold) {
        product = (unsigned __int128)next() * n;
        low = uint64_t(product);
      }
    }
    return uint64_t(product >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
  double spare_normal_ = 0;
  bool has_spare_normal_ = false;
};

}  // namespace bprop
