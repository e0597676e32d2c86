// Leased recipients as they travel through the engine, and the guarantee
// that none is forgotten: a recipient taken from the spool (TakeDue) is
// either given an outcome (RecordOutcome) or given back (Release). A Batch
// that is dropped — at shutdown, in a message posted to a shard that has
// already stopped — releases whatever it still holds in its destructor, so
// even a lost hand-over only delays mail, never strands it until its lease
// runs out.
//
// LeaseLedger counts recipients in flight engine-wide (the feeder stops
// taking at the cap) and outlives every shard.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/deadline.h"
#include "queue/records.h"
#include "queue/spool.h"

namespace salvo::delivery {

struct NextHops;
struct DestinationSettings;

class LeaseLedger {
 public:
  explicit LeaseLedger(queue::Spool* spool) : spool_(spool) {}
  queue::Spool& spool() const { return *spool_; }

  void Taken(size_t n) { in_flight_.fetch_add(static_cast<int64_t>(n)); }
  // The recipient got an outcome submitted, or was given back.
  void Done(size_t n) { in_flight_.fetch_sub(static_cast<int64_t>(n)); }
  int64_t in_flight() const { return in_flight_.load(); }
  // Gives `due` back to the spool, due at `at`.
  void Release(const queue::DueRecipient& due, absl::Time at = absl::Now());

 private:
  queue::Spool* spool_;
  std::atomic<int64_t> in_flight_{0};
};

// A recipient with its lease and, once read from the spool, its record.
struct LeasedRecipient {
  queue::DueRecipient due;
  std::string address;
  queue::Variables variables;
  queue::DsnParams dsn;
  // Its single-message content, when read ahead with the record (or null).
  std::shared_ptr<const queue::Content> content;
  Deadline taken_at{};
  bool loaded = false;
};

// Per-domain count of recipients held anywhere in the engine (shared by the
// domain's shard and the site shards its batches go to).
using HeldCounter = std::shared_ptr<std::atomic<int64_t>>;

// Recipients of one content for one domain, on their way to one site: they
// share a transaction when the content is a single message.
class Batch {
 public:
  Batch(LeaseLedger* ledger, queue::ContentId content, std::string domain)
      : ledger_(ledger), content_(content), domain_(std::move(domain)) {}
  Batch(Batch&& o) noexcept = default;
  Batch& operator=(Batch&& o) noexcept;
  Batch(const Batch&) = delete;
  ~Batch() { ReleaseAll(); }

  queue::ContentId content() const { return content_; }
  const std::string& domain() const { return domain_; }
  std::vector<LeasedRecipient>& recipients() { return recipients_; }
  bool empty() const { return recipients_.empty(); }
  // The content as read ahead with some recipient's record, or null.
  std::shared_ptr<const queue::Content> ReadAheadContent() const;
  // Marks the first `n` recipients done (their outcomes are submitted) and
  // removes them.
  void Consume(size_t n);
  // Gives every recipient back to the spool, due at `at`.
  void ReleaseAll(absl::Time at = absl::Now());
  // Moves the first `n` recipients into a batch of their own (same content,
  // domain, hops and settings), which answers for them from then on.
  Batch TakeFront(size_t n);

  std::shared_ptr<const NextHops> hops;
  std::shared_ptr<const DestinationSettings> settings;
  HeldCounter held;
  Deadline queued_at{};

 private:
  LeaseLedger* ledger_;
  queue::ContentId content_;
  std::string domain_;
  std::vector<LeasedRecipient> recipients_;
};

}  // namespace salvo::delivery

namespace salvo::delivery {

// Recipients of any content and domain on their way from the feeder to the
// shard that owns their domain; released if dropped unconsumed.
class LeaseBundle {
 public:
  explicit LeaseBundle(LeaseLedger* ledger) : ledger_(ledger) {}
  LeaseBundle(LeaseBundle&&) noexcept = default;
  LeaseBundle& operator=(LeaseBundle&&) = delete;
  LeaseBundle(const LeaseBundle&) = delete;
  ~LeaseBundle() {
    if (ledger_ == nullptr) return;
    for (const LeasedRecipient& r : items) ledger_->Release(r.due);
  }
  // Hands the recipients over to the caller (no release any more).
  std::vector<LeasedRecipient> Take() { return std::move(items); }

  std::vector<LeasedRecipient> items;

 private:
  LeaseLedger* ledger_;
};

}  // namespace salvo::delivery
