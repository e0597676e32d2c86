#include "engine/delivery/lease.h"

#include "engine/base/strings.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {

void LeaseLedger::Release(const queue::DueRecipient& due, absl::Time at) {
  absl::Status s = spool_->Release(due, at);
  if (!s.ok()) spdlog::debug("release of {}: {}", due.id.ToString(), ToStd(s.message()));
  Done(1);
}

Batch& Batch::operator=(Batch&& o) noexcept {
  if (this != &o) {
    ReleaseAll();
    ledger_ = o.ledger_;
    content_ = o.content_;
    domain_ = std::move(o.domain_);
    recipients_ = std::move(o.recipients_);
    o.recipients_.clear();
    hops = std::move(o.hops);
    settings = std::move(o.settings);
    held = std::move(o.held);
    queued_at = o.queued_at;
  }
  return *this;
}

std::shared_ptr<const queue::Content> Batch::ReadAheadContent() const {
  for (const LeasedRecipient& r : recipients_) {
    if (r.content != nullptr) return r.content;
  }
  return nullptr;
}

void Batch::Consume(size_t n) {
  n = std::min(n, recipients_.size());
  recipients_.erase(recipients_.begin(), recipients_.begin() + static_cast<ptrdiff_t>(n));
  if (held) held->fetch_sub(static_cast<int64_t>(n));
}

Batch Batch::TakeFront(size_t n) {
  n = std::min(n, recipients_.size());
  Batch front(ledger_, content_, domain_);
  front.recipients_.assign(
      std::make_move_iterator(recipients_.begin()),
      std::make_move_iterator(recipients_.begin() + static_cast<ptrdiff_t>(n)));
  recipients_.erase(recipients_.begin(), recipients_.begin() + static_cast<ptrdiff_t>(n));
  front.hops = hops;
  front.settings = settings;
  front.held = held;
  front.queued_at = queued_at;
  return front;
}

void Batch::ReleaseAll(absl::Time at) {
  if (recipients_.empty() || ledger_ == nullptr) return;
  for (const LeasedRecipient& r : recipients_) ledger_->Release(r.due, at);
  if (held) held->fetch_sub(static_cast<int64_t>(recipients_.size()));
  recipients_.clear();
}

}  // namespace salvo::delivery
