#include "engine/delivery/outcome_recorder.h"

#include "absl/time/clock.h"
#include "engine/base/json_line.h"
#include "engine/base/strings.h"
#include "engine/delivery/outcome_mapping.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {
namespace {

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

std::string DeliveryLogLine(const LeasedRecipient& r, const queue::DeliveryOutcome& outcome,
                            const AttemptContext& context,
                            const absl::StatusOr<queue::OutcomeResult>& result) {
  std::string_view event = OutcomeKindName(outcome.kind);
  if (result.ok()) event = queue::RecipientStateName(result->state);
  std::string line;
  line.reserve(384 + outcome.response.text.size() + outcome.reason.size());
  // Fields in name order, as the lines have always had them.
  JsonLine j(line);
  j.Int("attempt", r.due.attempts + 1)
      .Int("code", outcome.response.code)
      .Str("content", r.due.content.ToString())
      .Str("domain", r.due.domain)
      .Str("enhanced", outcome.response.enhanced_status);
  if (!result.ok()) j.Str("error", ToStd(result.status().message()));
  j.Str("event", event).Str("ip", outcome.response.ip).Str("mx", outcome.response.host);
  if (result.ok() && result->next_attempt) j.Str("next_attempt", TimeText(*result->next_attempt));
  j.Str("rcpt", r.address);
  if (!outcome.reason.empty()) j.Str("reason", outcome.reason);
  j.Str("recipient", r.due.id.ToString())
      .Str("site", context.site)
      .Str("source", context.source)
      .Str("text", outcome.response.text)
      .Str("time", TimeText(absl::Now()))
      .Bool("tls", context.tls);
  j.End();
  return line;
}

namespace {

using Kind = queue::DeliveryOutcome::Kind;

// Contents held for DSNs (besides the shard's cache for sending).
constexpr size_t kDsnContentEntries = 64;
// A failure whose DSN could not be queued is tried again after this.
constexpr absl::Duration kDsnRetryDelay = absl::Minutes(5);

bool AsksFailure(uint8_t notify) { return notify == 0 || (notify & queue::kNotifyFailure); }

}  // namespace

struct OutcomeRecorder::Pending {
  LeasedRecipient recipient;  // lease, record and DSN parameters
  queue::DeliveryOutcome outcome;
  AttemptContext context;
  std::optional<absl::Time> now;         // the time the DSN decision used
  bool expired = false;                  // fails at the maximum age
  std::optional<dsn::DsnAction> notice;  // kRelayed / kDelayed, once durable
  std::shared_ptr<const LoadedContent> content;
};

OutcomeRecorder::OutcomeRecorder(EngineCore& core, Ring& ring)
    : core_(core), ring_(ring), contents_(&core.ledger.spool(), kDsnContentEntries) {}

OutcomeRecorder::~OutcomeRecorder() = default;

void OutcomeRecorder::Record(const LeasedRecipient& r, queue::DeliveryOutcome outcome,
                             const AttemptContext& context) {
  ++outstanding_;
  auto p = std::make_unique<Pending>(Pending{
      .recipient =
          LeasedRecipient{.due = r.due, .address = r.address, .dsn = r.dsn, .loaded = r.loaded},
      .outcome = std::move(outcome),
      .context = context});
  if (!MayNotify(p->recipient, p->outcome, p->context)) {
    Commit(std::move(p));
    return;
  }
  Hold(std::move(p));
}

bool OutcomeRecorder::MayNotify(const LeasedRecipient& r, const queue::DeliveryOutcome& outcome,
                                const AttemptContext& context) const {
  const uint8_t notify = r.dsn.notify;
  if (!r.loaded || (notify & queue::kNotifyNever)) return false;
  if (!core_.config()->delivery.dsn.enabled) return false;
  switch (outcome.kind) {
    case Kind::kFailed:
      return AsksFailure(notify);
    case Kind::kDelivered:
      return (notify & queue::kNotifySuccess) && !context.peer_dsn;
    case Kind::kDeferred:
      if (notify & queue::kNotifyDelay) return true;
      return AsksFailure(notify) && core_.ledger.spool().WouldExpire(r.due, absl::Now());
  }
  return false;
}

void OutcomeRecorder::Hold(PendingPtr p) {
  queue::ContentId content = p->recipient.due.content;
  std::vector<PendingPtr>& items = held_[content];
  // Decided once the current turn has handed over everything it has.
  if (items.empty()) ring_.Post([this, content] { DecideHeld(content); });
  items.push_back(std::move(p));
}

void OutcomeRecorder::DecideHeld(queue::ContentId content) {
  auto it = held_.find(content);
  if (it == held_.end()) return;
  std::vector<PendingPtr> items = std::move(it->second);
  held_.erase(it);
  if (tasks_.closed()) {
    // Past Drain(): no DSN can be made now, so no failure is recorded.
    for (PendingPtr& p : items) {
      if (p->outcome.kind == Kind::kFailed) {
        p->outcome.kind = Kind::kDeferred;
        p->outcome.retry_at = absl::Now() + kDsnRetryDelay;
      }
      Commit(std::move(p));
    }
    return;
  }
  tasks_.Spawn(Decide(content, std::move(items)));
}

bool OutcomeRecorder::Classify(Pending& p, const queue::Message& message,
                               bool crossed_delay_warning) {
  const dsn::DsnNotify notify = NotifyOf(p.recipient.dsn.notify);
  const std::string& sender = message.envelope_from;
  switch (p.outcome.kind) {
    case Kind::kFailed:
      p.expired = IsExpiryFailure(p.outcome);
      return dsn::ShouldSendDsn(sender, message.content, notify, dsn::DsnAction::kFailed);
    case Kind::kDeferred:
      if (core_.ledger.spool().WouldExpire(p.recipient.due, *p.now)) {
        p.expired = true;  // the spool records it as kExpired
        return dsn::ShouldSendDsn(sender, message.content, notify, dsn::DsnAction::kFailed);
      }
      if (notify.delay && crossed_delay_warning &&
          dsn::ShouldSendDsn(sender, message.content, notify, dsn::DsnAction::kDelayed)) {
        p.notice = dsn::DsnAction::kDelayed;
      }
      return false;
    case Kind::kDelivered:
      if (!p.context.peer_dsn &&
          dsn::ShouldSendDsn(sender, message.content, notify, dsn::DsnAction::kRelayed)) {
        p.notice = dsn::DsnAction::kRelayed;
      }
      return false;
  }
  return false;
}

Task<bool> OutcomeRecorder::CrossedDelayWarning(const Pending& p, const DsnSettings& settings) {
  const queue::DueRecipient& due = p.recipient.due;
  if (settings.delay_warning <= absl::ZeroDuration()) co_return due.attempts == 0;
  if (*p.now - due.accepted_at < settings.delay_warning) co_return false;
  if (due.attempts == 0) co_return true;
  // Was the previous attempt still younger than delay_warning?
  auto read = core_.ledger.spool().ReadRecipient(due.content, due.id);
  absl::StatusOr<queue::Recipient> record = co_await read;
  if (!record.ok() || !record->last_attempt) co_return false;
  co_return *record->last_attempt - due.accepted_at < settings.delay_warning;
}

namespace {

DsnEntry EntryOf(const LeasedRecipient& r, const queue::DeliveryOutcome& outcome, absl::Time now,
                 dsn::DsnAction action, bool expired) {
  return DsnEntry{.address = r.address,
                  .params = r.dsn,
                  .action = action,
                  .outcome = outcome,
                  .attempted = now,
                  .expired = expired};
}

std::string SeedOf(const queue::DueRecipient& due, std::string_view what) {
  return fmt::format("{}.{}.{}", due.id.ToString(), due.attempts + 1, what);
}

}  // namespace

Task<void> OutcomeRecorder::Decide(queue::ContentId id, std::vector<PendingPtr> items) {
  absl::StatusOr<std::shared_ptr<const LoadedContent>> loaded = co_await contents_.Get(id);
  if (!loaded.ok() || (*loaded)->is_campaign() || !(*loaded)->message) {
    // Campaigns get events, not DSN mail. A content that cannot be read
    // (other than gone) cannot be reported on now: its failures wait.
    bool wait = !loaded.ok() && !absl::IsNotFound(loaded.status());
    for (PendingPtr& p : items) {
      if (wait && p->outcome.kind == Kind::kFailed) {
        p->outcome.kind = Kind::kDeferred;
        p->outcome.retry_at = absl::Now() + kDsnRetryDelay;
      }
      Commit(std::move(p));
    }
    co_return;
  }
  std::shared_ptr<const LoadedContent> content = *loaded;
  const queue::Message& message = *content->message;
  DsnSettings settings = DsnSettingsFrom(*core_.config(), core_.options.hostname);
  absl::Time now = absl::Now();
  std::vector<Pending*> owed;
  std::vector<DsnEntry> entries;
  for (PendingPtr& p : items) {
    p->now = now;
    p->content = content;
    bool crossed = false;
    if (p->outcome.kind == Kind::kDeferred && (p->recipient.dsn.notify & queue::kNotifyDelay)) {
      crossed = co_await CrossedDelayWarning(*p, settings);
    }
    if (!Classify(*p, message, crossed)) continue;
    owed.push_back(p.get());
    entries.push_back(EntryOf(p->recipient, p->outcome, now, dsn::DsnAction::kFailed, p->expired));
  }
  if (!owed.empty()) {
    const queue::DueRecipient& first = owed.front()->recipient.due;
    absl::StatusOr<DsnMessage> dsn = BuildDsnMessage(message, first.accepted_at, entries, settings,
                                                     SeedOf(first, "failed"), now);
    if (!dsn.ok()) {
      spdlog::warn("DSN for {}: {}", id.ToString(), ToStd(dsn.status().message()));
    } else {
      auto accept =
          core_.ledger.spool().AcceptMessage(std::move(dsn->message), std::move(dsn->recipients));
      absl::StatusOr<queue::AcceptedMessage> accepted = co_await accept;
      if (accepted.ok()) {
        spdlog::info("DSN {} queued for {} failed recipient(s) of {}", accepted->id.ToString(),
                     owed.size(), id.ToString());
      } else {
        // Never drop it: the recipients are tried again and the DSN made then.
        spdlog::warn("DSN for {} could not be queued ({}); deferring its failures", id.ToString(),
                     ToStd(accepted.status().message()));
        for (Pending* p : owed) {
          p->outcome.kind = Kind::kDeferred;
          p->outcome.retry_at = now + kDsnRetryDelay;
          p->outcome.reason = fmt::format("{} [failure DSN not queued: {}]", p->outcome.reason,
                                          ToStd(accepted.status().message()));
        }
      }
    }
  }
  for (PendingPtr& p : items) Commit(std::move(p));
}

void OutcomeRecorder::Commit(PendingPtr p) {
  queue::DeliveryOutcome outcome = p->outcome;  // p keeps its copy for the log line
  outcome.address = p->recipient.address;       // spares the spool a read (empty: not loaded)
  absl::Time now = p->now.value_or(absl::Now());
  core_.ledger.spool()
      .RecordOutcome(p->recipient.due, std::move(outcome), now)
      .Then([this, p = std::move(p)](absl::StatusOr<queue::OutcomeResult> result) mutable {
        ring_.Post([this, p = std::move(p), result = std::move(result)]() mutable {
          Finish(std::move(p), result);
        });
      });
}

void OutcomeRecorder::Finish(PendingPtr p, const absl::StatusOr<queue::OutcomeResult>& result) {
  core_.ledger.Done(1);
  if (!result.ok()) {
    core_.counters.outcome_errors.fetch_add(1);
    spdlog::warn("recording the outcome of {} ({}) failed: {}", p->recipient.due.id.ToString(),
                 p->recipient.address, ToStd(result.status().message()));
  } else {
    switch (result->state) {
      case queue::RecipientState::kDelivered:
        core_.counters.delivered.Add();
        break;
      case queue::RecipientState::kDeferred:
        core_.counters.deferred.Add();
        break;
      default:
        core_.counters.failed.Add();
        break;
    }
  }
  if (core_.log) core_.log->Append(DeliveryLogLine(p->recipient, p->outcome, p->context, result));
  if (result.ok() && p->notice) SendNotice(*p, result->state);
  Done();
}

void OutcomeRecorder::SendNotice(const Pending& p, queue::RecipientState state) {
  bool fits =
      (*p.notice == dsn::DsnAction::kDelayed && state == queue::RecipientState::kDeferred) ||
      (*p.notice == dsn::DsnAction::kRelayed && state == queue::RecipientState::kDelivered);
  if (!fits || !p.content || !p.content->message) return;
  DsnSettings settings = DsnSettingsFrom(*core_.config(), core_.options.hostname);
  absl::Time now = p.now.value_or(absl::Now());
  std::vector<DsnEntry> entries{EntryOf(p.recipient, p.outcome, now, *p.notice, false)};
  absl::StatusOr<DsnMessage> dsn =
      BuildDsnMessage(*p.content->message, p.recipient.due.accepted_at, entries, settings,
                      SeedOf(p.recipient.due, dsn::ActionName(*p.notice)), now);
  if (!dsn.ok()) return;
  ++outstanding_;
  std::string about = p.recipient.due.id.ToString();
  core_.ledger.spool()
      .AcceptMessage(std::move(dsn->message), std::move(dsn->recipients))
      .Then([this, about](absl::StatusOr<queue::AcceptedMessage> accepted) {
        ring_.Post([this, about, ok = accepted.status()] {
          // Informational notices are best effort: a failure is only logged.
          if (!ok.ok()) spdlog::warn("notice DSN for {} not queued: {}", about, ok.ToString());
          Done();
        });
      });
}

void OutcomeRecorder::Done() {
  --outstanding_;
  if (outstanding_ == 0) drained_.Wake();
}

Task<void> OutcomeRecorder::Drain() {
  while (outstanding_ > 0) co_await drained_.Wait(After(std::chrono::milliseconds(200)));
  co_await tasks_.Close();
}

}  // namespace salvo::delivery
