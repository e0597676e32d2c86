#include "queue/schedule.h"

namespace salvo::queue {

Schedule::Slot Schedule::Allocate() {
  if (free_head_ != kNoSlot) {
    Slot s = free_head_;
    free_head_ = at(s).heap_pos;
    return s;
  }
  Slot s = next_slot_++;
  if ((s >> kChunkBits) >= chunks_.size()) {
    chunks_.push_back(std::make_unique_for_overwrite<ScheduleEntry[]>(size_t{1} << kChunkBits));
  }
  return s;
}

Schedule::Slot Schedule::Add(RecipientId id, uint32_t content, uint32_t domain, uint16_t attempts,
                             UnixSeconds due) {
  Slot s = Allocate();
  ScheduleEntry& e = at(s);
  e.set_id(id);
  e.due = due;
  e.heap_pos = kNotInHeap;
  e.domain = domain;
  e.content = content;
  e.attempts = attempts;
  e.state = EntryState::kQueued;
  e.lease_generation = 0;
  ++live_;
  HeapPush(s);
  return s;
}

void Schedule::Place(Slot slot, EntryState state, UnixSeconds due) {
  ScheduleEntry& e = at(slot);
  SetState(e, state);
  UnixSeconds old = e.due;
  e.due = due;
  if (e.heap_pos == kNotInHeap) {
    HeapPush(slot);
    return;
  }
  uint32_t pos = e.heap_pos;
  heap_[pos].due = due;
  if (due < old) {
    SiftUp(pos);
  } else {
    SiftDown(pos);
  }
}

void Schedule::Unplace(Slot slot, EntryState state) {
  ScheduleEntry& e = at(slot);
  SetState(e, state);
  if (e.heap_pos != kNotInHeap) HeapRemove(e.heap_pos);
}

void Schedule::SetLeaseState(Slot slot, EntryState state) { SetState(at(slot), state); }

void Schedule::Free(Slot slot) {
  ScheduleEntry& e = at(slot);
  if (e.heap_pos != kNotInHeap) HeapRemove(e.heap_pos);
  SetState(e, EntryState::kFree);
  e.heap_pos = free_head_;
  free_head_ = slot;
  --live_;
}

size_t Schedule::MemoryBytes() const {
  return chunks_.size() * (sizeof(ScheduleEntry) << kChunkBits) +
         chunks_.capacity() * sizeof(chunks_[0]) + heap_.capacity() * sizeof(HeapItem);
}

void Schedule::HeapPush(Slot slot) {
  heap_.push_back({at(slot).due, slot});
  uint32_t pos = static_cast<uint32_t>(heap_.size() - 1);
  at(slot).heap_pos = pos;
  SiftUp(pos);
}

void Schedule::HeapRemove(uint32_t pos) {
  at(heap_[pos].slot).heap_pos = kNotInHeap;
  uint32_t last = static_cast<uint32_t>(heap_.size() - 1);
  if (pos != last) {
    HeapItem moved = heap_[last];
    heap_.pop_back();
    Put(pos, moved);
    SiftUp(pos);
    SiftDown(at(moved.slot).heap_pos);
  } else {
    heap_.pop_back();
  }
}

void Schedule::SiftUp(uint32_t pos) {
  HeapItem item = heap_[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (heap_[parent].due <= item.due) break;
    Put(pos, heap_[parent]);
    pos = parent;
  }
  Put(pos, item);
}

void Schedule::SiftDown(uint32_t pos) {
  HeapItem item = heap_[pos];
  uint32_t n = static_cast<uint32_t>(heap_.size());
  while (true) {
    uint32_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1].due < heap_[child].due) ++child;
    if (heap_[child].due >= item.due) break;
    Put(pos, heap_[child]);
    pos = child;
  }
  Put(pos, item);
}

}  // namespace salvo::queue
