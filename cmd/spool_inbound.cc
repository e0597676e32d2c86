#include "cmd/spool_inbound.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"
#include "spdlog/spdlog.h"

namespace salvo {

uint8_t ParseDsnNotify(std::string_view notify) {
  uint8_t bits = 0;
  for (absl::string_view word : absl::StrSplit(ToAbsl(notify), ',', absl::SkipEmpty())) {
    std::string w = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(word));
    if (w == "NEVER") bits |= queue::kNotifyNever;
    if (w == "SUCCESS") bits |= queue::kNotifySuccess;
    if (w == "FAILURE") bits |= queue::kNotifyFailure;
    if (w == "DELAY") bits |= queue::kNotifyDelay;
  }
  return bits;
}

namespace {

queue::DsnReturn ParseRet(std::string_view ret) {
  if (ret == "FULL") return queue::DsnReturn::kFull;
  if (ret == "HDRS") return queue::DsnReturn::kHeaders;
  return queue::DsnReturn::kUnspecified;
}

}  // namespace

SpoolMessageSink::SpoolMessageSink(queue::Spool* spool, std::function<void()> accepted)
    : spool_(spool), accepted_(std::move(accepted)) {}

Task<absl::StatusOr<smtp::AcceptedMessage>> SpoolMessageSink::Accept(smtp::InboundMessage message) {
  queue::Message stored;
  stored.envelope_from = std::move(message.reverse_path);
  stored.content = std::move(message.content);
  stored.ret = ParseRet(message.ret);
  stored.envid = std::move(message.envid);
  std::vector<queue::NewRecipient> recipients;
  recipients.reserve(message.recipients.size());
  size_t suppressed = 0;
  for (smtp::InboundRecipient& r : message.recipients) {
    // Accepted-and-marked suppressed recipients are acknowledged to the
    // client but never queued: the suppression list already holds why.
    if (r.suppressed) {
      ++suppressed;
      continue;
    }
    queue::NewRecipient n;
    n.address = std::move(r.address);
    n.dsn.notify = ParseDsnNotify(r.notify);
    n.dsn.orcpt = std::move(r.orcpt);
    recipients.push_back(std::move(n));
  }
  if (recipients.empty()) {
    spdlog::info("smtp {}: all {} recipients suppressed; nothing queued", message.session_id,
                 suppressed);
    co_return smtp::AcceptedMessage{.queue_id = "suppressed"};
  }
  auto op = spool_->AcceptMessage(std::move(stored), std::move(recipients));
  absl::StatusOr<queue::AcceptedMessage> accepted = co_await op;
  if (!accepted.ok()) {
    spdlog::warn("smtp {}: spool refused the message: {}", message.session_id,
                 ToStd(accepted.status().ToString()));
    co_return accepted.status();
  }
  if (accepted_) accepted_();
  co_return smtp::AcceptedMessage{.queue_id = accepted->id.ToString()};
}

Task<absl::StatusOr<std::optional<std::string>>> SpoolSuppressionCheck::Check(
    std::string recipient) {
  auto op = spool_->FindSuppression(queue::NormalizeAddress(recipient));
  absl::StatusOr<std::optional<queue::SuppressionEntry>> found = co_await op;
  if (!found.ok()) co_return found.status();
  if (!found->has_value()) co_return std::nullopt;
  const queue::SuppressionEntry& entry = **found;
  co_return fmt::format("{} ({})", entry.reason.empty() ? "suppressed" : entry.reason,
                        entry.source);
}

}  // namespace salvo
