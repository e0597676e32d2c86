#include "queue/spool.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "engine/base/status_macros.h"
#include "engine/loop/ring.h"
#include "queue/spool_core.h"
#include "queue/wire.h"

namespace salvo::queue {
namespace {

constexpr size_t kMaxAddressBytes = 320;  // 64 local + '@' + 255 domain
constexpr size_t kExpiryChunk = 4096;     // recipients per expiry write
constexpr uint32_t kSweepSlotsPerLock = 1 << 16;

absl::Status CheckAddress(const std::string& address, size_t index) {
  size_t at = address.rfind('@');
  const char* problem = nullptr;
  if (address.empty() || address.size() > kMaxAddressBytes) {
    problem = "empty or longer than 320 octets";
  } else if (at == std::string::npos || at == 0 || at + 1 == address.size()) {
    problem = "not local@domain";
  } else if (std::any_of(address.begin(), address.end(),
                         [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 127; })) {
    problem = "contains a space or a control character";
  }
  if (problem == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(fmt::format("recipient {}: address {}", index, problem));
}

absl::StatusOr<EncodedRecipients> EncodeRecipients(const std::vector<NewRecipient>& rcpts) {
  EncodedRecipients out;
  out.ids.reserve(rcpts.size());
  out.ends.reserve(rcpts.size());
  out.domain_ends.reserve(rcpts.size());
  for (size_t i = 0; i < rcpts.size(); ++i) {
    const std::string& address = rcpts[i].address;
    RETURN_IF_ERROR(CheckAddress(address, i));
    out.ids.push_back(NewId<RecipientId>());
    EncodeRecipient(rcpts[i], &out.values);
    out.ends.push_back(static_cast<uint32_t>(out.values.size()));
    for (size_t c = address.rfind('@') + 1; c < address.size(); ++c) {
      out.domains.push_back(absl::ascii_tolower(static_cast<unsigned char>(address[c])));
    }
    out.domain_ends.push_back(static_cast<uint32_t>(out.domains.size()));
  }
  return out;
}

uint32_t MaxAgeField(const std::optional<absl::Duration>& d) {
  if (!d || *d <= absl::ZeroDuration()) return 0;
  return static_cast<uint32_t>(std::min<int64_t>(absl::ToInt64Seconds(*d), UINT32_MAX));
}

absl::Status CheckSchema(RocksDb& db) {
  std::string value;
  absl::Status s = db.Get(Cf::kMeta, kSchemaKey, &value);
  if (absl::IsNotFound(s)) {
    std::string v;
    wire::PutVarint(&v, kSchemaVersion);
    rocksdb::WriteBatch batch;
    batch.Put(db.cf(Cf::kMeta), ToSlice(kSchemaKey), v);
    return db.WriteSynced(&batch);
  }
  RETURN_IF_ERROR(s);
  std::string_view in = value;
  uint64_t version = 0;
  if (!wire::GetVarint(&in, &version)) return absl::DataLossError("spool schema record damaged");
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        fmt::format("spool schema v{} is newer than this Salvo reads (v{}); refusing to open",
                    version, kSchemaVersion));
  }
  if (version < kSchemaVersion) {  // the new column families exist now; Recover migrates
    spdlog::info("spool: upgrading schema v{} to v{}", version, kSchemaVersion);
    std::string v;
    wire::PutVarint(&v, kSchemaVersion);
    rocksdb::WriteBatch batch;
    batch.Put(db.cf(Cf::kMeta), ToSlice(kSchemaKey), v);
    return db.WriteSynced(&batch);
  }
  return absl::OkStatus();
}

absl::Status LoadSuppressionFilter(RocksDb& db, SuppressionFilter& filter) {
  auto it = db.Scan(Cf::kSuppressions, /*fill_cache=*/false);
  for (it->SeekToFirst(); it->Valid(); it->Next()) filter.Add(ToView(it->key()));
  return FromRocks(it->status(), "load suppressions");
}

}  // namespace

Spool::Spool(std::unique_ptr<Core> core) : core_(std::move(core)) {}

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(SpoolOptions options) {
  if (options.path.empty()) return absl::InvalidArgumentError("spool: no path");
  RETURN_IF_ERROR(options.retry.Validate());
  auto core = std::make_unique<Core>();
  core->options = std::move(options);
  ASSIGN_OR_RETURN(core->db, RocksDb::Open(core->options));
  RETURN_IF_ERROR(CheckSchema(*core->db));
  RETURN_IF_ERROR(Recover(*core));
  RETURN_IF_ERROR(LoadSuppressionFilter(*core->db, core->suppressions));
  ASSIGN_OR_RETURN(core->mailbox, Mailbox::Open(*core));
  Core* c = core.get();
  core->committer = std::make_unique<GroupCommitter>(
      GroupCommitter::Options{
          .max_group_bytes = c->options.max_group_bytes,
          .max_pending_bytes = c->options.max_pending_bytes,
          .max_sync_delay = absl::ToChronoNanoseconds(c->options.outcome_sync_delay),
          .max_linger = absl::ToChronoNanoseconds(
              std::min(c->options.outcome_linger, c->options.outcome_sync_delay))},
      [c](GroupCommitter::Group& group, bool sync) { c->CommitGroup(group, sync); },
      [c] { c->SyncLog(); });
  core->reader = std::make_unique<Executor>(1, "spool-read");
  core->sweeper = std::thread([c] { c->SweepLoop(); });
  ResumeInterruptedCancels(*c);
  return std::unique_ptr<Spool>(new Spool(std::move(core)));
}

Spool::~Spool() {
  {
    std::lock_guard<std::mutex> lock(core_->sweep_mu);
    core_->stopping = true;
    core_->sweep_cv.notify_one();
  }
  core_->sweeper.join();
  core_->committer->Stop();
  core_->reader->Stop();
}

SpoolOp<absl::StatusOr<AcceptedMessage>> Spool::AcceptMessage(
    Message message, std::vector<NewRecipient> recipients) {
  using Op = SpoolOp<absl::StatusOr<AcceptedMessage>>;
  if (recipients.empty()) {
    return Op::Ready(absl::InvalidArgumentError("a message needs at least one recipient"));
  }
  auto encoded = EncodeRecipients(recipients);
  if (!encoded.ok()) return Op::Ready(encoded.status());
  NewContent content{.id = NewId<ContentId>(),
                     .meta = {.kind = ContentKind::kMessage,
                              .sealed = true,
                              .max_age_s = MaxAgeField(message.max_age)}};
  EncodeMessage(message, &content.body);
  return Op([core = core_.get(), content = std::move(content),
             rcpts = std::move(*encoded)](Op::Done done) mutable {
    AcceptedMessage accepted{.id = content.id, .recipients = rcpts.ids};
    ContentId id = content.id;
    core->committer->Submit(NewAcceptRequest(
        *core, std::move(content), id, std::move(rcpts),
        [accepted = std::move(accepted), done = std::move(done)](absl::Status s) mutable {
          if (s.ok()) {
            done(std::move(accepted));
          } else {
            done(std::move(s));
          }
        }));
  });
}

SpoolOp<absl::StatusOr<CampaignId>> Spool::CreateCampaign(Campaign campaign) {
  using Op = SpoolOp<absl::StatusOr<CampaignId>>;
  NewContent content{.id = NewId<ContentId>(),
                     .meta = {.kind = ContentKind::kCampaign,
                              .sealed = false,
                              .max_age_s = MaxAgeField(campaign.settings.max_age)}};
  EncodeCampaign(campaign, &content.body);
  content.campaign = std::move(campaign.settings);
  return Op([core = core_.get(), content = std::move(content)](Op::Done done) mutable {
    ContentId id = content.id;
    core->committer->Submit(NewAcceptRequest(*core, std::move(content), id, EncodedRecipients{},
                                             [id, done = std::move(done)](absl::Status s) mutable {
                                               if (s.ok()) {
                                                 done(id);
                                               } else {
                                                 done(std::move(s));
                                               }
                                             }));
  });
}

SpoolOp<absl::StatusOr<std::vector<RecipientId>>> Spool::AddCampaignRecipients(
    CampaignId campaign, std::vector<NewRecipient> recipients) {
  using Op = SpoolOp<absl::StatusOr<std::vector<RecipientId>>>;
  auto encoded = EncodeRecipients(recipients);
  if (!encoded.ok()) return Op::Ready(encoded.status());
  return Op([core = core_.get(), campaign, rcpts = std::move(*encoded)](Op::Done done) mutable {
    std::vector<RecipientId> ids = rcpts.ids;
    core->committer->Submit(
        NewAcceptRequest(*core, std::nullopt, campaign, std::move(rcpts),
                         [ids = std::move(ids), done = std::move(done)](absl::Status s) mutable {
                           if (s.ok()) {
                             done(std::move(ids));
                           } else {
                             done(std::move(s));
                           }
                         }));
  });
}

SpoolOp<absl::Status> Spool::CloseCampaign(CampaignId campaign) {
  return SpoolOp<absl::Status>([core = core_.get(), campaign](SpoolOp<absl::Status>::Done done) {
    core->committer->Submit(NewCloseCampaignRequest(*core, campaign, std::move(done)));
  });
}

std::vector<DueRecipient> Spool::TakeDue(size_t max, absl::Time now) {
  UnixSeconds now_s = ToIndexSeconds(now);
  UnixSeconds lease_end = ToIndexSeconds(now + core_->options.lease);
  UnixSeconds sweep_s = std::max<UnixSeconds>(
      1, static_cast<UnixSeconds>(absl::ToInt64Seconds(core_->options.sweep_interval)));
  std::vector<DueRecipient> out;
  std::vector<ExpiryItem> cancelled;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    Schedule& schedule = core_->schedule;
    while (out.size() < max) {
      std::optional<Schedule::Slot> slot = schedule.PeekDue(now_s);
      if (!slot) break;
      ScheduleEntry& e = schedule.at(*slot);
      if (e.state == EntryState::kCommitting) {  // its outcome is being written
        schedule.Place(*slot, EntryState::kCommitting, now_s + 60);
        continue;
      }
      if (e.state == EntryState::kInFlight) ++core_->leases_lost;
      const ContentSlot& c = core_->contents.at(e.content);
      if (c.hold == Hold::kPaused) {  // parked until the campaign resumes
        schedule.Unplace(*slot, EntryState::kPaused);
        continue;
      }
      if (c.hold == Hold::kCancelled) {
        schedule.Unplace(*slot, EntryState::kExpiring);
        cancelled.push_back({*slot, e.id(), c.id, e.content, e.attempts});
        continue;
      }
      if (now_s > core_->ExpiryOf(e)) {  // due exactly at expiry: one last try
        // Past its maximum age: not handed out. The sweep expires it, after
        // the failure DSN it may owe is queued (ExpiryNotifier), which cannot
        // be done here on a ring; until then it waits out of the way.
        schedule.Place(*slot, EntryState::kQueued, now_s + sweep_s);
        continue;
      }
      schedule.Place(*slot, EntryState::kInFlight, lease_end);
      ++e.lease_generation;
      out.push_back(DueRecipient{.id = e.id(),
                                 .content = c.id,
                                 .domain = core_->domains.name(e.domain),
                                 .attempts = e.attempts,
                                 .accepted_at = absl::FromUnixMillis(e.id().unix_ms()),
                                 .lease = *slot | uint64_t{e.lease_generation} << 32,
                                 .single_message = c.campaign == nullptr});
    }
  }
  if (!cancelled.empty()) SubmitCancels(*core_, std::move(cancelled));
  return out;
}

namespace {
// The entry `due` holds a lease on, or null if the lease is no longer valid.
ScheduleEntry* Leased(Schedule& schedule, const DueRecipient& due) {
  Schedule::Slot slot = static_cast<Schedule::Slot>(due.lease);
  if (slot >= schedule.slot_limit()) return nullptr;
  ScheduleEntry& e = schedule.at(slot);
  if (e.state != EntryState::kInFlight || e.id() != due.id ||
      e.lease_generation != static_cast<uint8_t>(due.lease >> 32)) {
    return nullptr;
  }
  return &e;
}

absl::Status NotInFlight(const DueRecipient& due) {
  return absl::FailedPreconditionError(
      fmt::format("recipient {} is not leased (its lease ran out or its outcome is recorded)",
                  due.id.ToString()));
}
}  // namespace

absl::Status Spool::Release(const DueRecipient& due, absl::Time due_at) {
  std::lock_guard<std::mutex> lock(core_->mu);
  Schedule& schedule = core_->schedule;
  if (Leased(schedule, due) == nullptr) return NotInFlight(due);
  schedule.Place(static_cast<Schedule::Slot>(due.lease), EntryState::kQueued,
                 ToIndexSeconds(due_at));
  return absl::OkStatus();
}

std::optional<absl::Time> Spool::NextDue() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  auto next = core_->schedule.NextDue();
  if (!next) return std::nullopt;
  return absl::FromUnixSeconds(*next);
}

SpoolOp<absl::StatusOr<OutcomeResult>> Spool::RecordOutcome(const DueRecipient& due,
                                                            DeliveryOutcome outcome,
                                                            absl::Time now) {
  using Op = SpoolOp<absl::StatusOr<OutcomeResult>>;
  // The lease is checked and taken when the op starts, so that an op never
  // consumed leaves the recipient leased as it was.
  return Op([core = core_.get(), due, outcome = std::move(outcome), now](Op::Done done) mutable {
    absl::StatusOr<OutcomePlan> plan = core->PlanOutcome(due, std::move(outcome), now);
    if (!plan.ok()) return done(plan.status());
    OutcomeResult result{.state = plan->state, .event = plan->event};
    if (plan->state == RecipientState::kDeferred) result.next_attempt = plan->next_attempt;
    core->committer->Submit(NewOutcomeRequest(
        *core, std::move(*plan), [result, done = std::move(done)](absl::Status s) mutable {
          if (s.ok()) {
            done(result);
          } else {
            done(std::move(s));
          }
        }));
  });
}

bool Spool::WouldExpire(const DueRecipient& due, absl::Time now) const {
  std::lock_guard<std::mutex> lock(core_->mu);
  ScheduleEntry* e = Leased(core_->schedule, due);
  return e != nullptr && now >= absl::FromUnixSeconds(core_->ExpiryOf(*e));
}

absl::StatusOr<OutcomePlan> Spool::Core::PlanOutcome(const DueRecipient& due,
                                                     DeliveryOutcome outcome, absl::Time now) {
  OutcomePlan plan{.slot = static_cast<Schedule::Slot>(due.lease), .id = due.id, .now = now};
  absl::Time expires;
  {
    std::lock_guard<std::mutex> lock(mu);
    ScheduleEntry* e = Leased(schedule, due);
    if (e == nullptr) return NotInFlight(due);
    schedule.SetLeaseState(plan.slot, EntryState::kCommitting);  // until written (or undone)
    plan.content = contents.at(e->content).id;
    plan.content_index = e->content;
    plan.attempts = e->attempts + 1;
    expires = absl::FromUnixSeconds(ExpiryOf(*e));
  }
  plan.response = std::move(outcome.response);
  plan.reason = std::move(outcome.reason);
  plan.address = std::move(outcome.address);
  plan.event = NewId<EventId>();
  switch (outcome.kind) {
    case DeliveryOutcome::Kind::kDelivered:
      plan.state = RecipientState::kDelivered;
      break;
    case DeliveryOutcome::Kind::kFailed:
      plan.state = RecipientState::kFailed;
      break;
    case DeliveryOutcome::Kind::kDeferred:
      if (now >= expires) {
        plan.state = RecipientState::kExpired;
        plan.reason = fmt::format("expired after {} attempts; last: {}", plan.attempts,
                                  plan.reason.empty() ? plan.response.text : plan.reason);
      } else {
        plan.state = RecipientState::kDeferred;
        absl::Time next =
            outcome.retry_at.value_or(options.retry.NextAttempt(plan.attempts, now, RandomUnit()));
        plan.next_attempt = std::clamp(next, now, expires);  // a last try at expiry
      }
      break;
  }
  return plan;
}

SpoolOp<absl::Status> Spool::AddSuppression(SuppressionEntry entry) {
  entry.address = NormalizeAddress(entry.address);
  if (entry.created == absl::Time()) entry.created = absl::Now();
  std::string value = EncodeSuppression(entry);
  return SpoolOp<absl::Status>(
      [core = core_.get(), key = std::move(entry.address),
       value = std::move(value)](SpoolOp<absl::Status>::Done done) mutable {
        core->committer->Submit(
            NewRecordRequest(Cf::kSuppressions, std::move(key), std::move(value), std::move(done)));
      });
}

SpoolOp<absl::Status> Spool::RemoveSuppression(std::string address) {
  return SpoolOp<absl::Status>([core = core_.get(), key = NormalizeAddress(address)](
                                   SpoolOp<absl::Status>::Done done) mutable {
    core->committer->Submit(
        NewRecordRequest(Cf::kSuppressions, std::move(key), std::nullopt, std::move(done)));
  });
}

SpoolOp<absl::StatusOr<std::optional<SuppressionEntry>>> Spool::FindSuppression(
    std::string address) {
  using R = absl::StatusOr<std::optional<SuppressionEntry>>;
  std::string key = NormalizeAddress(address);
  // The common answer, "not suppressed", without a read or a thread hop.
  if (!core_->suppressions.MayContain(key)) {
    return SpoolOp<R>::Ready(R(std::optional<SuppressionEntry>()));
  }
  return OnReader<R>(core_.get(), [key = std::move(key)](RocksDb& db) -> R {
    std::string value;
    absl::Status s = db.Get(Cf::kSuppressions, key, &value);
    if (absl::IsNotFound(s)) return std::optional<SuppressionEntry>();
    if (!s.ok()) return s;
    auto entry = DecodeSuppression(key, value);
    if (!entry.ok()) return entry.status();
    return std::optional<SuppressionEntry>(std::move(*entry));
  });
}

namespace {

// A recipient from its stored record, with `suppressed` set when its address
// is on the suppression list now: suppressions added since the accept stop
// delivery. The in-memory filter answers for almost every address, a point
// read for the rest. The schedule fields keep their defaults.
absl::StatusOr<Recipient> RecipientFromRecord(Spool::Core& core, RocksDb& db, ContentId content,
                                              RecipientId id, std::string_view record) {
  ASSIGN_OR_RETURN(NewRecipient stored, DecodeRecipient(record));
  Recipient r{.id = id,
              .content = content,
              .address = std::move(stored.address),
              .variables = std::move(stored.variables),
              .dsn = std::move(stored.dsn),
              .accepted_at = absl::FromUnixMillis(id.unix_ms())};
  r.next_attempt = r.accepted_at;
  std::string address_key = NormalizeAddress(r.address);
  if (!core.suppressions.MayContain(address_key)) return r;
  std::string value;
  absl::Status s = db.Get(Cf::kSuppressions, address_key, &value);
  if (absl::IsNotFound(s)) return r;
  RETURN_IF_ERROR(s);
  absl::StatusOr<SuppressionEntry> entry = DecodeSuppression(address_key, value);
  r.suppressed = true;
  r.suppression =
      entry.ok() ? fmt::format("{} ({})", entry->reason, entry->source) : std::string("suppressed");
  return r;
}

absl::Status RecipientMissing(RecipientId id) {
  return absl::NotFoundError(fmt::format("recipient {} is not in the spool", id.ToString()));
}

}  // namespace

SpoolOp<absl::StatusOr<Recipient>> Spool::ReadRecipient(ContentId content, RecipientId id) {
  using R = absl::StatusOr<Recipient>;
  return OnReader<R>(core_.get(), [core = core_.get(), content, id](RocksDb& db) -> R {
    std::string key = RecipientKey(content, id);
    std::string value;
    absl::Status s = db.Get(Cf::kRecipients, key, &value);
    if (absl::IsNotFound(s)) return RecipientMissing(id);
    RETURN_IF_ERROR(s);
    ASSIGN_OR_RETURN(Recipient r, RecipientFromRecord(*core, db, content, id, value));
    s = db.Get(Cf::kSchedule, key, &value);
    if (absl::IsNotFound(s)) return r;
    RETURN_IF_ERROR(s);
    ASSIGN_OR_RETURN(ScheduleRecord sched, DecodeSchedule(value));
    r.state = sched.state;
    r.attempts = sched.attempts;
    r.next_attempt = absl::FromUnixMillis(sched.next_attempt_ms);
    if (sched.last_attempt_ms != 0) r.last_attempt = absl::FromUnixMillis(sched.last_attempt_ms);
    r.last_response = std::move(sched.last_response);
    return r;
  });
}

SpoolOp<absl::StatusOr<DeliveryRead>> Spool::ReadForDelivery(std::vector<RecipientRef> refs,
                                                             std::vector<ContentId> contents,
                                                             ReadAheadLimits limits) {
  using R = absl::StatusOr<DeliveryRead>;
  if (refs.empty() && contents.empty()) return SpoolOp<R>::Ready(R(DeliveryRead()));
  return OnReader<R>(core_.get(),
                     [core = core_.get(), refs = std::move(refs), contents = std::move(contents),
                      limits](RocksDb& db) -> R {
                       DeliveryRead out;
                       std::vector<std::string> keys;
                       keys.reserve(std::max(refs.size(), contents.size()));
                       for (const RecipientRef& ref : refs)
                         keys.push_back(RecipientKey(ref.content, ref.id));
                       std::vector<rocksdb::PinnableSlice> values(keys.size());
                       std::vector<absl::Status> found =
                           db.MultiGet(Cf::kRecipients, keys, values.data());
                       out.recipients.reserve(refs.size());
                       for (size_t i = 0; i < refs.size(); ++i) {
                         if (absl::IsNotFound(found[i])) {
                           out.recipients.emplace_back(RecipientMissing(refs[i].id));
                         } else if (!found[i].ok()) {
                           out.recipients.emplace_back(std::move(found[i]));
                         } else {
                           out.recipients.push_back(RecipientFromRecord(
                               *core, db, refs[i].content, refs[i].id, ToView(values[i])));
                         }
                       }
                       out.contents.resize(contents.size());
                       if (contents.empty() || limits.max_total_bytes == 0) return out;
                       keys.clear();
                       for (ContentId id : contents) keys.push_back(ContentKey(id));
                       values = std::vector<rocksdb::PinnableSlice>(keys.size());
                       found = db.MultiGet(Cf::kContents, keys, values.data());
                       size_t total = 0;
                       for (size_t i = 0; i < contents.size(); ++i) {
                         size_t size = values[i].size();
                         if (!found[i].ok() || size > limits.max_content_bytes ||
                             total + size > limits.max_total_bytes) {
                           continue;
                         }
                         absl::StatusOr<Content> content = DecodeContent(ToView(values[i]));
                         if (!content.ok()) continue;
                         total += size;
                         out.contents[i] = std::move(*content);
                       }
                       return out;
                     });
}

SpoolOp<absl::StatusOr<Content>> Spool::ReadContent(ContentId content) {
  using R = absl::StatusOr<Content>;
  return OnReader<R>(core_.get(), [content](RocksDb& db) -> R {
    std::string value;
    absl::Status s = db.Get(Cf::kContents, ContentKey(content), &value);
    if (absl::IsNotFound(s)) {
      return absl::NotFoundError(fmt::format("content {} is not in the spool", content.ToString()));
    }
    RETURN_IF_ERROR(s);
    return DecodeContent(value);
  });
}

SpoolOp<absl::StatusOr<std::vector<RecipientId>>> Spool::ListRecipients(ContentId content) {
  using R = absl::StatusOr<std::vector<RecipientId>>;
  return OnReader<R>(core_.get(), [content](RocksDb& db) -> R {
    std::vector<RecipientId> ids;
    std::string prefix = ContentKey(content);
    auto it = db.Scan(Cf::kRecipients, /*fill_cache=*/true);
    for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix));
         it->Next()) {
      auto parts = ParseRecipientKey(ToView(it->key()));
      if (parts) ids.push_back(parts->recipient);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan recipients"));
    return ids;
  });
}

SpoolOp<absl::StatusOr<std::vector<DeliveryEvent>>> Spool::ReadEvents(EventId after, size_t limit) {
  using R = absl::StatusOr<std::vector<DeliveryEvent>>;
  return OnReader<R>(core_.get(), [after, limit](RocksDb& db) -> R {
    std::vector<DeliveryEvent> events;
    std::string start = EventKey(after);
    auto it = db.Scan(Cf::kEvents, /*fill_cache=*/false);
    for (it->Seek(ToSlice(start)); it->Valid() && events.size() < limit; it->Next()) {
      if (ToView(it->key()) == start) continue;
      ASSIGN_OR_RETURN(DeliveryEvent e, DecodeEvent(ToView(it->value())));
      e.id = *EventId::FromBytes(ToView(it->key()));
      events.push_back(std::move(e));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan events"));
    return events;
  });
}

size_t Spool::SweepExpired(absl::Time now) { return core_->Sweep(now); }

void Spool::set_expiry_notifier(ExpiryNotifier notifier) {
  std::lock_guard<std::mutex> lock(core_->notifier_mu);
  core_->notifier = std::move(notifier);
}

bool Spool::Core::ShouldExpire(const ScheduleEntry& e, UnixSeconds now_s, bool* lost) const {
  // Queued, or leased but its lease ran out (the engine may be paused and not
  // calling TakeDue): nobody is delivering it. Paused campaigns' recipients
  // expire at their maximum age too.
  *lost = e.state == EntryState::kInFlight && e.due <= now_s;
  bool idle = e.state == EntryState::kQueued || e.state == EntryState::kPaused;
  return (idle || *lost) && now_s > ExpiryOf(e);
}

size_t Spool::Core::Sweep(absl::Time now) {
  // Two passes with the notifier between them, which runs without spool
  // locks: first the candidates, then — for those still expirable and not
  // held back — the expiry itself.
  std::lock_guard<std::mutex> notifier_lock(notifier_mu);  // one sweep at a time
  UnixSeconds now_s = ToIndexSeconds(now);
  std::vector<ExpiryItem> candidates;
  std::vector<ExpiringRecipient> notices;
  for (Schedule::Slot begin = 0;; begin += kSweepSlotsPerLock) {
    std::lock_guard<std::mutex> lock(mu);  // short holds: ring threads wait on it
    Schedule::Slot end = std::min(schedule.slot_limit(), begin + kSweepSlotsPerLock);
    if (begin >= end) break;
    for (Schedule::Slot slot = begin; slot < end; ++slot) {
      const ScheduleEntry& e = schedule.at(slot);
      bool lost = false;
      if (!ShouldExpire(e, now_s, &lost)) continue;
      ContentId content = contents.at(e.content).id;
      candidates.push_back({slot, e.id(), content, e.content, e.attempts});
      if (notifier) notices.push_back({content, e.id(), e.attempts, lost});
    }
  }
  if (candidates.empty()) return 0;
  absl::flat_hash_set<ContentId> held;
  if (notifier) {
    for (ContentId c : notifier(notices)) held.insert(c);
  }
  std::vector<ExpiryItem> items;
  items.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); i += kSweepSlotsPerLock) {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t j = i; j < std::min(candidates.size(), i + kSweepSlotsPerLock); ++j) {
      const ExpiryItem& c = candidates[j];
      if (held.contains(c.content)) continue;
      const ScheduleEntry& e = schedule.at(c.slot);
      bool lost = false;
      // Taken, delivered or freed meanwhile: no longer this sweep's.
      if (e.id() != c.id || !ShouldExpire(e, now_s, &lost)) continue;
      if (lost) ++leases_lost;
      schedule.Unplace(c.slot, EntryState::kExpiring);
      items.push_back(c);
    }
  }
  size_t n = items.size();
  if (n > 0) SubmitExpiry(std::move(items));
  return n;
}

SpoolStats Spool::stats() const {
  SpoolStats s;
  std::lock_guard<std::mutex> lock(core_->mu);
  const Schedule& schedule = core_->schedule;
  s.queued = schedule.size();
  s.in_flight = schedule.leased();
  s.contents = core_->contents.size();
  s.domains = core_->domains.size();
  s.index_bytes =
      schedule.MemoryBytes() + core_->contents.MemoryBytes() + core_->domains.MemoryBytes();
  s.groups = core_->committer->groups();
  s.requests = core_->committer->requests();
  s.expired = core_->expired.load();
  s.leases_lost = core_->leases_lost.load();
  return s;
}

const RecoveryReport& Spool::recovery() const { return core_->recovery; }

Mailbox& Spool::mailbox() { return *core_->mailbox; }

AuditReport Spool::Audit() {
  using R = absl::StatusOr<AuditReport>;
  auto r = OnReader<R>(core_.get(), [core = core_.get()](RocksDb&) -> R {
             return AuditSpool(*core);
           }).Wait();
  return std::move(*r);
}

absl::Status Spool::Flush() {
  return OnReader<absl::Status>(core_.get(), [](RocksDb& db) { return db.Flush(); }).Wait();
}

namespace {

absl::Status RunBackgroundWork(Spool::Core* core, bool run) {
  return OnReader<absl::Status>(
             core,
             [run](RocksDb& db) {
               rocksdb::DB* d = db.db();
               return run ? FromRocks(d->ContinueBackgroundWork(), "continue background work")
                          : FromRocks(d->PauseBackgroundWork(), "pause background work");
             })
      .Wait();
}

}  // namespace

absl::Status Spool::PauseBackgroundWork() { return RunBackgroundWork(core_.get(), false); }

absl::Status Spool::ContinueBackgroundWork() { return RunBackgroundWork(core_.get(), true); }

// --- Core ---

void Spool::Core::SyncLog() {
  if (!write_error.ok() || db == nullptr) return;  // the reopen replays the log
  absl::Status s = db->SyncLog();
  if (s.ok()) return;
  spdlog::error("spool: log sync failed; refusing writes until it recovers: {}", s.ToString());
  write_error = s;
  reopen_room = db->PendingSpace();
}

void Spool::Core::CommitGroup(GroupCommitter::Group& group, bool sync) {
  if (absl::Status ready = RecoverFromWriteError(); !ready.ok()) {
    Ring::PostBatch completions;
    for (auto& r : group) r->Complete(ready);
    return;
  }
  for (auto& r : group) r->Load(*db);
  std::vector<absl::Status> status(group.size());
  absl::Status space = CheckSpace();
  RocksBatch rocks_batch(db.get());
  SuppressionRecordingBatch batch(rocks_batch, suppressions);
  bool any = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < group.size(); ++i) {
      if (group[i]->needs_space() && !space.ok()) {
        status[i] = space;
        continue;
      }
      rocks_batch.raw()->SetSavePoint();
      status[i] = group[i]->Prepare(batch);
      if (status[i].ok()) {
        any = true;
      } else {
        rocks_batch.raw()->RollbackToSavePoint().PermitUncheckedError();
      }
    }
  }
  absl::Status write;
  if (any) {
    write = db->Write(rocks_batch.raw(), sync);
    free_space.written_since += rocks_batch.raw()->GetDataSize();
    if (!write.ok()) {
      spdlog::error("spool: write failed; refusing writes until it recovers: {}", write.ToString());
      write_error = write;
      reopen_room = db->PendingSpace();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    if (write.ok()) {
      for (size_t i = 0; i < group.size(); ++i) {
        if (status[i].ok()) group[i]->Apply();
      }
    } else {
      for (size_t i = group.size(); i-- > 0;) {
        if (status[i].ok()) group[i]->Undo();
      }
    }
    soft_in_group.clear();
    attributions_in_group.clear();
  }
  // The callers hear in one wake-up per ring, not one per request.
  Ring::PostBatch completions;
  for (size_t i = 0; i < group.size(); ++i) {
    group[i]->Complete(status[i].ok() ? write : status[i]);
  }
}

absl::Status Spool::Core::CheckSpace() {
  if (options.min_free_bytes == 0) return absl::OkStatus();
  uint64_t need = options.min_free_bytes + db->PendingSpace();
  // statvfs at most every kFreeSpaceRecheck while what it saw, less what we
  // wrote since, still covers the need: a refusal always rests on a fresh one.
  absl::Time now = absl::Now();
  uint64_t estimate = free_space.seen - std::min(free_space.seen, free_space.written_since);
  if (estimate < need || now - free_space.at >= kFreeSpaceRecheck) {
    struct statvfs st;
    if (statvfs(options.path.c_str(), &st) != 0) return absl::OkStatus();  // let RocksDB tell
    free_space = {.seen = uint64_t{st.f_bavail} * st.f_frsize, .written_since = 0, .at = now};
    estimate = free_space.seen;
  }
  if (estimate >= need) return absl::OkStatus();
  return absl::ResourceExhaustedError(fmt::format(
      "spool disk full: {} bytes free, below the {} bytes kept in reserve plus {} bytes that "
      "RocksDB's next flush and WAL files may take",
      estimate, options.min_free_bytes, need - options.min_free_bytes));
}

absl::Status Spool::Core::RecoverFromWriteError() {
  if (write_error.ok() && db != nullptr) return absl::OkStatus();
  absl::Time now = absl::Now();
  if (now - last_resume < absl::Milliseconds(250)) return write_error;
  last_resume = now;
  struct statvfs st;
  if (statvfs(options.path.c_str(), &st) == 0 &&
      uint64_t{st.f_bavail} * st.f_frsize < options.min_free_bytes + reopen_room) {
    return write_error;  // still full: reopening would fail the same way
  }
  // RocksDB 7.8 keeps writing to a WAL whose last append failed (and asserts
  // in Debian's build); a reopen starts a fresh WAL. What was acknowledged is
  // in the old one and is replayed; the failed record is not.
  std::unique_lock<std::shared_mutex> lock(db_mu);
  db.reset();
  auto reopened = RocksDb::Open(options);
  if (!reopened.ok()) {
    spdlog::warn("spool: reopen after a write error failed: {}", reopened.status().ToString());
    return write_error;
  }
  db = std::move(*reopened);
  spdlog::info("spool: database reopened, writes resume (after: {})", write_error.ToString());
  write_error = absl::OkStatus();
  return absl::OkStatus();
}

uint32_t Spool::Core::MaxAgeSeconds(const ContentSlot& c) const {
  if (c.max_age_s != 0) return c.max_age_s;
  return static_cast<uint32_t>(
      std::min<int64_t>(absl::ToInt64Seconds(options.retry.max_age), UINT32_MAX));
}

UnixSeconds Spool::Core::ExpiryOf(const ScheduleEntry& e) const {
  uint64_t expiry = uint64_t{e.accepted_s()} + MaxAgeSeconds(contents.at(e.content));
  return static_cast<UnixSeconds>(std::min<uint64_t>(expiry, UINT32_MAX));
}

void Spool::Core::SubmitExpiry(std::vector<ExpiryItem> items) {
  for (size_t begin = 0; begin < items.size(); begin += kExpiryChunk) {
    size_t end = std::min(items.size(), begin + kExpiryChunk);
    std::vector<ExpiryItem> chunk(items.begin() + begin, items.begin() + end);
    committer->Submit(NewExpiryRequest(*this, std::move(chunk)));
  }
}

void Spool::Core::MaintainFeedback(absl::Time now) {
  if (now - last_feedback_expiry < options.feedback_maintenance_interval) return;
  last_feedback_expiry = now;
  queue::ExpireFeedback(*this, now, [](absl::Status s) {
    if (!s.ok()) spdlog::warn("spool: expiring feedback records: {}", s.ToString());
  });
}

void Spool::Core::SweepLoop() {
  auto interval = absl::ToChronoMilliseconds(options.sweep_interval);
  std::unique_lock<std::mutex> lock(sweep_mu);
  while (!sweep_cv.wait_for(lock, interval, [this] { return stopping; })) {
    lock.unlock();
    absl::Time now = absl::Now();
    Sweep(now);
    MaintainFeedback(now);
    lock.lock();
  }
}

}  // namespace salvo::queue
