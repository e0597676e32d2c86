#include "queue/tables.h"

namespace salvo::queue {

uint32_t DomainTable::Intern(std::string_view domain) {
  auto it = index_.find(domain);
  if (it != index_.end()) return it->second;
  uint32_t i = static_cast<uint32_t>(names_.size());
  names_.emplace_back(domain);
  index_.emplace(std::string_view(names_.back()), i);
  return i;
}

size_t DomainTable::MemoryBytes() const {
  size_t bytes = index_.capacity() * (sizeof(std::string_view) + sizeof(uint32_t) + 1);
  for (const std::string& s : names_) bytes += sizeof(std::string) + s.capacity();
  return bytes;
}

uint32_t ContentTable::Add(ContentId id, bool sealed, uint32_t max_age_s) {
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[i] =
      ContentSlot{.id = id, .live = 0, .max_age_s = max_age_s, .sealed = sealed, .used = true};
  index_[id] = i;
  return i;
}

void ContentTable::Remove(uint32_t i) {
  index_.erase(slots_[i].id);
  slots_[i] = ContentSlot{};
  free_.push_back(i);
}

size_t ContentTable::MemoryBytes() const {
  return slots_.capacity() * sizeof(ContentSlot) + free_.capacity() * sizeof(uint32_t) +
         index_.capacity() * (sizeof(ContentId) + sizeof(uint32_t) + 1);
}

}  // namespace salvo::queue
