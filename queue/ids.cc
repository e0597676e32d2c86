#include "queue/ids.h"

#include <sys/random.h>

#include <chrono>

namespace salvo::queue::internal {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct Generator {
  int64_t last_ms = 0;
  uint32_t seq = 0;
  uint64_t rng = 0;

  Generator() {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
      seed = static_cast<uint64_t>(
          std::chrono::high_resolution_clock::now().time_since_epoch().count());
    }
    rng = seed ^ reinterpret_cast<uintptr_t>(this);
  }
};

}  // namespace

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void NextUuid7(int64_t now_ms, uint64_t* hi, uint64_t* lo) {
  thread_local Generator gen;
  if (now_ms > gen.last_ms) {
    gen.last_ms = now_ms;
    gen.seq = 0;
  } else if (++gen.seq > 0xfff) {  // 4096 ids in one ms: borrow the next ms
    ++gen.last_ms;
    gen.seq = 0;
  }
  uint64_t ms = static_cast<uint64_t>(gen.last_ms) & 0xffffffffffffULL;
  *hi = (ms << 16) | (0x7ULL << 12) | gen.seq;
  *lo = (0x2ULL << 62) | (SplitMix64(gen.rng) >> 2);
}

std::string UuidText(uint64_t hi, uint64_t lo) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 32; ++i) {
    uint64_t word = i < 16 ? hi : lo;
    int nibble = static_cast<int>((word >> (60 - 4 * (i % 16))) & 0xf);
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    s.push_back(kHex[nibble]);
  }
  return s;
}

bool ParseUuidText(std::string_view text, uint64_t* hi, uint64_t* lo) {
  if (text.size() != 32 && text.size() != 36) return false;
  uint64_t words[2] = {0, 0};
  int digits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (text.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (c != '-') return false;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      return false;
    }
    words[digits / 16] = (words[digits / 16] << 4) | static_cast<uint64_t>(v);
    ++digits;
  }
  *hi = words[0];
  *lo = words[1];
  return digits == 32;
}

}  // namespace salvo::queue::internal
