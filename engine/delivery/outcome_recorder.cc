#include "engine/delivery/outcome_recorder.h"

#include "absl/time/clock.h"
#include "engine/base/strings.h"
#include "engine/delivery/outcome_mapping.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace salvo::delivery {
namespace {

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

struct OutcomeRecorder::Pending {
  LeasedRecipient recipient;  // lease and record (for the log line)
  queue::DeliveryOutcome outcome;
  AttemptContext context;
};

std::string DeliveryLogLine(const LeasedRecipient& r, const queue::DeliveryOutcome& outcome,
                            const AttemptContext& context,
                            const absl::StatusOr<queue::OutcomeResult>& result) {
  nlohmann::json j;
  j["time"] = TimeText(absl::Now());
  std::string_view event = OutcomeKindName(outcome.kind);
  if (result.ok()) event = queue::RecipientStateName(result->state);
  j["event"] = event;
  j["recipient"] = r.due.id.ToString();
  j["content"] = r.due.content.ToString();
  j["rcpt"] = r.address;
  j["domain"] = std::string(r.due.domain);
  j["attempt"] = r.due.attempts + 1;
  j["site"] = context.site;
  j["mx"] = outcome.response.host;
  j["ip"] = outcome.response.ip;
  j["source"] = context.source;
  j["tls"] = context.tls;
  j["code"] = outcome.response.code;
  j["enhanced"] = outcome.response.enhanced_status;
  j["text"] = outcome.response.text;
  if (!outcome.reason.empty()) j["reason"] = outcome.reason;
  if (result.ok() && result->next_attempt) j["next_attempt"] = TimeText(*result->next_attempt);
  if (!result.ok()) j["error"] = std::string(ToStd(result.status().message()));
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void OutcomeRecorder::Record(const LeasedRecipient& r, queue::DeliveryOutcome outcome,
                             const AttemptContext& context) {
  ++outstanding_;
  auto pending = std::make_unique<Pending>(
      Pending{LeasedRecipient{.due = r.due, .address = r.address}, outcome, context});
  core_.ledger.spool()
      .RecordOutcome(r.due, std::move(outcome))
      .Then([this, p = std::move(pending)](absl::StatusOr<queue::OutcomeResult> result) mutable {
        ring_.Post(
            [this, p = std::move(p), result = std::move(result)]() mutable { Finish(*p, result); });
      });
}

void OutcomeRecorder::Finish(const Pending& p, const absl::StatusOr<queue::OutcomeResult>& result) {
  --outstanding_;
  core_.ledger.Done(1);
  if (!result.ok()) {
    core_.counters.outcome_errors.fetch_add(1);
    spdlog::warn("recording the outcome of {} ({}) failed: {}", p.recipient.due.id.ToString(),
                 p.recipient.address, ToStd(result.status().message()));
  } else {
    switch (result->state) {
      case queue::RecipientState::kDelivered:
        core_.counters.delivered.fetch_add(1);
        break;
      case queue::RecipientState::kDeferred:
        core_.counters.deferred.fetch_add(1);
        break;
      default:
        core_.counters.failed.fetch_add(1);
        break;
    }
  }
  if (core_.log) core_.log->Append(DeliveryLogLine(p.recipient, p.outcome, p.context, result));
  if (outstanding_ == 0) drained_.Wake();
}

Task<void> OutcomeRecorder::Drain() {
  while (outstanding_ > 0) co_await drained_.Wait(After(std::chrono::milliseconds(200)));
}

}  // namespace salvo::delivery
