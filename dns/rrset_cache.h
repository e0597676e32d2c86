// RrsetCache: answers by (name, type) until their TTL runs out, positive and
// negative alike, bounded in entries. When full, the least recently used
// entry goes; an expired entry goes when it is looked up. I/O-free: the
// caller passes the time. Entries are shared_ptr<const Rrset>, so a caller
// holding one is unaffected by eviction. One cache per shard: not
// thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "dns/rrset.h"
#include "engine/base/deadline.h"

namespace salvo::dns {

class RrsetCache {
 public:
  explicit RrsetCache(size_t max_entries) : max_entries_(max_entries) {}
  RrsetCache(const RrsetCache&) = delete;
  RrsetCache& operator=(const RrsetCache&) = delete;

  // The live entry for (name, type), or nullptr.
  std::shared_ptr<const Rrset> Find(std::string_view name, RrType type, Deadline now);
  // Keeps `rrset` until rrset->expires; replaces an entry with the same key.
  // Does nothing if it has already expired or the cache holds no entries.
  void Insert(std::shared_ptr<const Rrset> rrset, Deadline now);

  size_t size() const { return index_.size(); }
  size_t max_entries() const { return max_entries_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const Rrset> rrset;
  };
  using Lru = std::list<Entry>;  // front: most recently used

  static std::string Key(std::string_view name, RrType type);
  void Erase(Lru::iterator it);

  size_t max_entries_;
  uint64_t evictions_ = 0;
  Lru lru_;
  absl::flat_hash_map<std::string, Lru::iterator> index_;
};

}  // namespace salvo::dns
