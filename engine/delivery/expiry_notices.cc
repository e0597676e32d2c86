#include "engine/delivery/expiry_notices.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <utility>
#include <variant>

#include "engine/base/strings.h"
#include "engine/delivery/dsn_builder.h"
#include "engine/dsn/dsn_compose.h"

namespace salvo::delivery {

ExpiryNotices::ExpiryNotices(queue::Spool& spool,
                             std::function<std::shared_ptr<const Config>()> config,
                             std::string hostname, std::function<void()> queued)
    : spool_(spool),
      config_(std::move(config)),
      hostname_(std::move(hostname)),
      queued_(std::move(queued)) {}

std::vector<queue::ContentId> ExpiryNotices::operator()(
    const std::vector<queue::Spool::ExpiringRecipient>& expiring) const {
  std::vector<queue::ContentId> held;
  if (!config_()->delivery.dsn.enabled) return held;
  std::map<queue::ContentId, std::vector<queue::Spool::ExpiringRecipient>> by_content;
  for (const auto& e : expiring) by_content[e.content].push_back(e);
  absl::Time now = absl::Now();
  for (const auto& [content, recipients] : by_content) {
    if (absl::Status s = NotifyContent(content, recipients, now); !s.ok()) {
      spdlog::warn("expiry DSN for {} not queued ({}); its {} recipient(s) stay queued",
                   content.ToString(), ToStd(s.message()), recipients.size());
      held.push_back(content);
    }
  }
  return held;
}

absl::Status ExpiryNotices::NotifyContent(
    queue::ContentId content, const std::vector<queue::Spool::ExpiringRecipient>& expiring,
    absl::Time now) const {
  absl::StatusOr<queue::Content> loaded = spool_.ReadContent(content).Wait();
  if (absl::IsNotFound(loaded.status())) return absl::OkStatus();  // gone: nothing to report
  if (!loaded.ok()) return loaded.status();
  const queue::Message* message = std::get_if<queue::Message>(&*loaded);
  if (message == nullptr) return absl::OkStatus();  // a campaign: events, not DSN mail
  std::vector<DsnEntry> entries;
  absl::Time arrival = absl::InfiniteFuture();
  for (const queue::Spool::ExpiringRecipient& e : expiring) {
    absl::StatusOr<queue::Recipient> r = spool_.ReadRecipient(content, e.id).Wait();
    if (absl::IsNotFound(r.status())) continue;
    if (!r.ok()) return r.status();
    dsn::DsnNotify notify = NotifyOf(r->dsn.notify);
    if (!dsn::ShouldSendDsn(message->envelope_from, message->content, notify,
                            dsn::DsnAction::kFailed)) {
      continue;
    }
    queue::DeliveryOutcome outcome{.kind = queue::DeliveryOutcome::Kind::kFailed};
    if (r->last_response) outcome.response = *r->last_response;
    outcome.reason = e.lease_lost
                         ? "expired: the last delivery attempt never reported back"
                         : fmt::format("expired in the queue after {} attempt(s)", e.attempts);
    entries.push_back(DsnEntry{.address = r->address,
                               .params = r->dsn,
                               .action = dsn::DsnAction::kFailed,
                               .outcome = std::move(outcome),
                               .attempted = r->last_attempt.value_or(now),
                               .expired = true});
    arrival = std::min(arrival, r->accepted_at);
  }
  if (entries.empty()) return absl::OkStatus();
  DsnSettings settings = DsnSettingsFrom(*config_(), hostname_);
  std::string seed =
      fmt::format("{}.expired.{}", expiring.front().id.ToString(), absl::ToUnixSeconds(now));
  absl::StatusOr<DsnMessage> dsn = BuildDsnMessage(*message, arrival, entries, settings, seed, now);
  if (!dsn.ok()) {
    // Not a transient problem (e.g. the sender is <>): nothing to hold back for.
    spdlog::warn("expiry DSN for {}: {}", content.ToString(), ToStd(dsn.status().message()));
    return absl::OkStatus();
  }
  absl::StatusOr<queue::AcceptedMessage> accepted =
      spool_.AcceptMessage(std::move(dsn->message), std::move(dsn->recipients)).Wait();
  if (!accepted.ok()) return accepted.status();
  spdlog::info("DSN {} queued for {} recipient(s) of {} expired in the queue",
               accepted->id.ToString(), entries.size(), content.ToString());
  if (queued_) queued_();
  return absl::OkStatus();
}

}  // namespace salvo::delivery
