#include "cmd/inbound_dispatch.h"

#include <utility>

#include "absl/strings/match.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo {

InboundDispatchSink::InboundDispatchSink(std::vector<std::string> bounce_domains,
                                         std::vector<std::string> fbl_addresses,
                                         std::shared_ptr<smtp::MessageSink> bounces,
                                         std::shared_ptr<smtp::MessageSink> spool)
    : bounce_domains_(std::move(bounce_domains)),
      fbl_addresses_(std::move(fbl_addresses)),
      bounces_(std::move(bounces)),
      spool_(std::move(spool)) {}

bool InboundDispatchSink::IsBounceAddress(std::string_view address) const {
  for (const std::string& a : fbl_addresses_) {
    if (absl::EqualsIgnoreCase(ToAbsl(a), ToAbsl(address))) return true;
  }
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view domain = address.substr(at + 1);
  for (const std::string& d : bounce_domains_) {
    if (absl::EqualsIgnoreCase(ToAbsl(d), ToAbsl(domain))) return true;
  }
  return false;
}

Task<absl::StatusOr<smtp::AcceptedMessage>> InboundDispatchSink::Accept(
    smtp::InboundMessage message) {
  std::vector<smtp::InboundRecipient> to_bounces;
  std::vector<smtp::InboundRecipient> to_spool;
  for (smtp::InboundRecipient& r : message.recipients) {
    (bounces_ != nullptr && IsBounceAddress(r.address) ? to_bounces : to_spool)
        .push_back(std::move(r));
  }
  if (to_bounces.empty()) {
    message.recipients = std::move(to_spool);
    auto accept = spool_->Accept(std::move(message));
    absl::StatusOr<smtp::AcceptedMessage> accepted = co_await accept;
    co_return accepted;
  }
  std::optional<smtp::InboundMessage> rest;
  if (!to_spool.empty()) {
    rest.emplace(message);  // a copy: both parts need the content
    rest->recipients = std::move(to_spool);
  }
  message.recipients = std::move(to_bounces);
  auto ingest = bounces_->Accept(std::move(message));
  absl::StatusOr<smtp::AcceptedMessage> stored = co_await ingest;
  if (!stored.ok() || !rest) co_return stored;
  auto accept = spool_->Accept(std::move(*rest));
  absl::StatusOr<smtp::AcceptedMessage> queued = co_await accept;
  if (!queued.ok()) co_return queued.status();
  co_return smtp::AcceptedMessage{.queue_id =
                                      fmt::format("{} {}", queued->queue_id, stored->queue_id)};
}

}  // namespace salvo
