// Shared glue of the libFuzzer targets in tests/fuzz: the input as a string
// view, a deterministic "network split" derived from the input, and the
// report of a broken invariant (printed, then abort() so libFuzzer saves the
// input as a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace salvo::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Cut points for `text`, the same for the same input.
inline std::vector<size_t> SplitsOf(std::string_view text) {
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string_view>{}(text)));
  std::vector<size_t> cuts;
  for (size_t at = 0; at < text.size();) {
    at = std::min(text.size(), at + 1 + rng() % 23);
    cuts.push_back(at);
  }
  return cuts;
}

inline void Require(const std::string& error) {
  if (error.empty()) return;
  std::fprintf(stderr, "invariant broken: %s\n", error.c_str());
  std::abort();
}

}  // namespace salvo::fuzz
