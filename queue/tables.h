// Small interning tables beside the Schedule: the domain of each queued
// recipient (so routing needs no lookup of the address) and each live
// content (message or campaign) with the count of its recipients still in
// the spool. Not thread-safe: guarded by the spool's mutex, like Schedule.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "queue/ids.h"

namespace salvo::queue {

// Domains are never removed: there are few of them next to recipients.
class DomainTable {
 public:
  uint32_t Intern(std::string_view domain);
  // The index of a domain already interned.
  std::optional<uint32_t> Find(std::string_view domain) const {
    auto it = index_.find(domain);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }
  // Valid for the table's lifetime.
  std::string_view name(uint32_t index) const { return names_[index]; }
  size_t size() const { return names_.size(); }
  size_t MemoryBytes() const;

 private:
  std::deque<std::string> names_;  // a deque: views into it stay valid
  absl::flat_hash_map<std::string_view, uint32_t> index_;
};

struct CampaignState;  // campaign_table.h

// What TakeDue does with a content's due recipients.
enum class Hold : uint8_t {
  kNone,       // hands them out
  kPaused,     // parks them (EntryState::kPaused) until the campaign resumes
  kCancelled,  // finalises them as cancelled
};

struct ContentSlot {
  ContentId id;
  CampaignState* campaign = nullptr;  // null for a single message
  uint32_t live = 0;                  // recipients in the spool (accepted, not yet final)
  uint32_t max_age_s = 0;             // 0: the retry policy's
  bool sealed = false;                // no more recipients will come
  bool deleting = false;              // its deletion is in the batch being written
  bool used = false;
  Hold hold = Hold::kNone;
};

class ContentTable {
 public:
  uint32_t Add(ContentId id, bool sealed, uint32_t max_age_s);
  // The index of `id`, or -1.
  int64_t Find(ContentId id) const {
    auto it = index_.find(id);
    return it == index_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
  }
  ContentSlot& at(uint32_t index) { return slots_[index]; }
  const ContentSlot& at(uint32_t index) const { return slots_[index]; }
  void Remove(uint32_t index);
  // Calls f(index, slot) for every live content.
  template <typename F>
  void ForEach(F f) {
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].used) f(i, slots_[i]);
    }
  }
  size_t size() const { return index_.size(); }
  size_t MemoryBytes() const;

 private:
  std::vector<ContentSlot> slots_;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<ContentId, uint32_t> index_;
};

}  // namespace salvo::queue
