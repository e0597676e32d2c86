// The mutation engine of the in-suite (ctest) fuzz tests: seeded, so every
// run is the same run, and aware of each protocol's special tokens (a
// dictionary) so that mutations of valid inputs reach deep into the parsers
// instead of failing at the first byte. Header-only; used by the gtest
// mutation tests in tests/{smtp,smtp_server,pop3,imap,api}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace salvo::fuzz {

class Mutator {
 public:
  Mutator(uint64_t seed, std::vector<std::string> dictionary)
      : rng_(seed), dictionary_(std::move(dictionary)) {}

  std::mt19937_64& rng() { return rng_; }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  // One to `max_edits` edits of `s`; the result is at most `max_size` bytes.
  std::string Mutate(std::string s, int max_edits = 4, size_t max_size = 4096) {
    int edits = 1 + static_cast<int>(Below(static_cast<size_t>(max_edits)));
    for (int e = 0; e < edits; ++e) Edit(s);
    if (s.size() > max_size) s.resize(max_size);
    return s;
  }

  // Random cut points of `n` bytes (ascending, ending at n): how the bytes
  // arrive from the network.
  std::vector<size_t> Splits(size_t n) {
    std::vector<size_t> cuts;
    size_t at = 0;
    bool bytewise = Below(8) == 0;
    while (at < n) {
      at += bytewise ? 1 : 1 + Below(std::min<size_t>(n - at, 1 + Below(64)));
      cuts.push_back(std::min(at, n));
    }
    return cuts;
  }

 private:
  void Edit(std::string& s) {
    size_t at = Below(s.size() + 1);
    switch (Below(9)) {
      case 0:  // flip a bit
        if (!s.empty()) s[at % s.size()] ^= static_cast<char>(1 << Below(8));
        break;
      case 1:  // random byte
        if (!s.empty()) s[at % s.size()] = static_cast<char>(rng_());
        break;
      case 2:  // cut short
        s.resize(at);
        break;
      case 3:  // delete a slice
        s.erase(at, 1 + Below(16));
        break;
      case 4:  // duplicate a slice
        if (!s.empty()) s.insert(at, s.substr(Below(s.size()), 1 + Below(32)));
        break;
      case 5:  // insert a protocol token
      case 6:
        if (!dictionary_.empty()) s.insert(at, dictionary_[Below(dictionary_.size())]);
        break;
      case 7:  // overwrite with a protocol token
        if (!dictionary_.empty()) {
          const std::string& t = dictionary_[Below(dictionary_.size())];
          s.replace(at, t.size(), t);
        }
        break;
      case 8:  // a run of one byte (long lines, deep nesting, many digits)
        s.insert(at, 1 + Below(300), s.empty() ? 'x' : s[Below(s.size())]);
        break;
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> dictionary_;
};

}  // namespace salvo::fuzz
