// ReadAheadBudget: bounds the bytes of single-message contents that delivery
// reads together with their recipients' records (one spool read for both)
// and that those recipients (and then the content caches of the shards that
// send them, which share rather than copy them) hold. A backlog of
// waiting recipients (a slow domain, no free connection) must not pin
// unbounded message bodies in memory; past the budget, contents are read
// when sent, as without read-ahead. A soft bound: shards loading at the same
// moment may each see the same room.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "queue/records.h"

namespace salvo::delivery {

class ReadAheadBudget {
 public:
  explicit ReadAheadBudget(size_t bytes)
      : left_(std::make_shared<std::atomic<int64_t>>(static_cast<int64_t>(bytes))) {}

  size_t available() const { return static_cast<size_t>(std::max<int64_t>(0, left_->load())); }

  // `content`, charged to the budget until the last copy of the pointer is
  // gone (the budget's counter lives as long as any such copy).
  std::shared_ptr<const queue::Content> Hold(queue::Content content) {
    auto bytes = static_cast<int64_t>(Bytes(content));
    left_->fetch_sub(bytes);
    return std::shared_ptr<const queue::Content>(new queue::Content(std::move(content)),
                                                 [left = left_, bytes](const queue::Content* c) {
                                                   left->fetch_add(bytes);
                                                   delete c;
                                                 });
  }

  // What a content is charged: its text, the bulk of it.
  static size_t Bytes(const queue::Content& content) {
    if (const auto* m = std::get_if<queue::Message>(&content)) {
      return m->content.size() + m->envelope_from.size() + m->envid.size() + sizeof(content);
    }
    return sizeof(content);  // campaigns are not read ahead
  }

 private:
  std::shared_ptr<std::atomic<int64_t>> left_;
};

}  // namespace salvo::delivery
