#include "dns/rrset_cache.h"

namespace salvo::dns {

std::string RrsetCache::Key(std::string_view name, RrType type) {
  std::string key;
  key.reserve(name.size() + 2);
  uint16_t t = static_cast<uint16_t>(type);
  key.push_back(static_cast<char>(t >> 8));
  key.push_back(static_cast<char>(t & 0xFF));
  key.append(name);
  return key;
}

void RrsetCache::Erase(Lru::iterator it) {
  index_.erase(it->key);
  lru_.erase(it);
}

std::shared_ptr<const Rrset> RrsetCache::Find(std::string_view name, RrType type, Deadline now) {
  auto found = index_.find(Key(name, type));
  if (found == index_.end()) return nullptr;
  Lru::iterator it = found->second;
  if (it->rrset->expires <= now) {
    Erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it);
  return it->rrset;
}

void RrsetCache::Insert(std::shared_ptr<const Rrset> rrset, Deadline now) {
  if (max_entries_ == 0 || rrset->expires <= now) return;
  std::string key = Key(rrset->name, rrset->type);
  if (auto found = index_.find(key); found != index_.end()) {
    found->second->rrset = std::move(rrset);
    lru_.splice(lru_.begin(), lru_, found->second);
    return;
  }
  while (index_.size() >= max_entries_) {
    Erase(std::prev(lru_.end()));
    ++evictions_;
  }
  lru_.push_front(Entry{key, std::move(rrset)});
  index_.emplace(std::move(key), lru_.begin());
}

}  // namespace salvo::dns
