// Schedule: the in-memory index of every queued recipient, ordered by due
// time. It holds no address and no content: 36 bytes per recipient in a
// chunked slab plus an 8-byte item in a binary min-heap, so ten million
// queued recipients fit in well under 1 GiB. The spool keeps it in step with
// RocksDB (entries are added only once their accept is durable) and guards it
// with its own mutex: this class is not thread-safe.
//
// Each live entry is in exactly one state: kQueued (in the heap at its next
// attempt), kInFlight (handed to the delivery engine; in the heap at its lease
// end, so a lost recipient comes back), kCommitting (its outcome is being
// written; in the heap at its lease end too) or kExpiring (its expiry is being
// written; out of the heap) or kPaused (its campaign is paused; out of the
// heap, `due` kept for the resume).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "queue/ids.h"

namespace salvo::queue {

// Times in the index: seconds since the Unix epoch (good until 2106).
using UnixSeconds = uint32_t;

enum class EntryState : uint8_t { kFree, kQueued, kInFlight, kCommitting, kExpiring, kPaused };

struct ScheduleEntry {
  uint32_t id_words[4];  // the RecipientId; 4-byte words keep the entry at 36 bytes
  UnixSeconds due;       // kQueued: next attempt; kInFlight/kCommitting: lease end
  uint32_t heap_pos;     // position in the heap, kNotInHeap, or the free-list link
  uint32_t domain;       // DomainTable index
  uint32_t content;      // ContentTable index
  uint16_t attempts;
  EntryState state;
  uint8_t lease_generation;  // bumped at each lease, so a stale lease is refused

  RecipientId id() const {
    return RecipientId((uint64_t{id_words[0]} << 32) | id_words[1],
                       (uint64_t{id_words[2]} << 32) | id_words[3]);
  }
  void set_id(RecipientId id) {
    id_words[0] = static_cast<uint32_t>(id.hi() >> 32);
    id_words[1] = static_cast<uint32_t>(id.hi());
    id_words[2] = static_cast<uint32_t>(id.lo() >> 32);
    id_words[3] = static_cast<uint32_t>(id.lo());
  }
  // Accept time, from the id.
  UnixSeconds accepted_s() const { return static_cast<UnixSeconds>(id().unix_ms() / 1000); }
};
static_assert(sizeof(ScheduleEntry) == 36);

class Schedule {
 public:
  using Slot = uint32_t;
  static constexpr uint32_t kNotInHeap = UINT32_MAX;

  Schedule() = default;
  Schedule(const Schedule&) = delete;
  Schedule& operator=(const Schedule&) = delete;

  // A new kQueued entry due at `due`.
  Slot Add(RecipientId id, uint32_t content, uint32_t domain, uint16_t attempts, UnixSeconds due);
  // Sets the state and due time, (re)placing the entry in the heap.
  void Place(Slot slot, EntryState state, UnixSeconds due);
  // Takes the entry out of the heap and sets its state (e.g. kExpiring).
  void Unplace(Slot slot, EntryState state);
  // Removes the entry and frees its slot.
  void Free(Slot slot);
  // Changes only the state, between kInFlight and kCommitting (the entry
  // stays where it is in the heap).
  void SetLeaseState(Slot slot, EntryState state);

  ScheduleEntry& at(Slot slot) { return chunks_[slot >> kChunkBits][slot & kChunkMask]; }
  const ScheduleEntry& at(Slot slot) const {
    return chunks_[slot >> kChunkBits][slot & kChunkMask];
  }
  // The entry with the earliest due time, if that time is <= now.
  std::optional<Slot> PeekDue(UnixSeconds now) const {
    if (heap_.empty() || heap_[0].due > now) return std::nullopt;
    return heap_[0].slot;
  }
  // The earliest due time of all entries in the heap.
  std::optional<UnixSeconds> NextDue() const {
    if (heap_.empty()) return std::nullopt;
    return heap_[0].due;
  }

  size_t size() const { return live_; }
  // Entries leased to the delivery engine (kInFlight or kCommitting).
  size_t leased() const { return leased_; }
  size_t heap_size() const { return heap_.size(); }
  // Slots handed out so far (live or free): sweeps walk [0, slot_limit()).
  Slot slot_limit() const { return next_slot_; }
  // Capacity for `n` entries in the heap (recovery knows the count).
  void Reserve(size_t n) { heap_.reserve(n); }
  // Bytes held by the slab and the heap.
  size_t MemoryBytes() const;

 private:
  static constexpr uint32_t kChunkBits = 16;
  static constexpr uint32_t kChunkMask = (1u << kChunkBits) - 1;
  static constexpr Slot kNoSlot = UINT32_MAX;

  struct HeapItem {
    UnixSeconds due;
    Slot slot;
  };

  static bool IsLeased(EntryState s) {
    return s == EntryState::kInFlight || s == EntryState::kCommitting;
  }
  // Sets e.state, keeping leased_ in step.
  void SetState(ScheduleEntry& e, EntryState state) {
    leased_ -= IsLeased(e.state);
    leased_ += IsLeased(state);
    e.state = state;
  }
  Slot Allocate();
  void HeapPush(Slot slot);
  void HeapRemove(uint32_t pos);
  void SiftUp(uint32_t pos);
  void SiftDown(uint32_t pos);
  void Put(uint32_t pos, HeapItem item) {
    heap_[pos] = item;
    at(item.slot).heap_pos = pos;
  }

  std::vector<std::unique_ptr<ScheduleEntry[]>> chunks_;
  std::vector<HeapItem> heap_;
  Slot next_slot_ = 0;
  Slot free_head_ = kNoSlot;
  size_t live_ = 0;
  size_t leased_ = 0;
};

}  // namespace salvo::queue
