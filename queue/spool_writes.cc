// The spool's write requests: what each accept, outcome and expiry adds to a
// group's batch, and how it updates the index once durable (see
// group_commit.h for the order of the calls and spool_core.h for locking).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "queue/spool_core.h"

namespace salvo::queue {
namespace {

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

class AcceptRequest final : public WriteRequest {
 public:
  AcceptRequest(Spool::Core& core, std::optional<NewContent> content, ContentId target,
                EncodedRecipients recipients, StatusDone done)
      : core_(core),
        content_(std::move(content)),
        target_(target),
        rcpts_(std::move(recipients)),
        done_(std::move(done)) {}

  bool needs_space() const override { return true; }
  size_t size_hint() const override {
    return rcpts_.values.size() + 48 * rcpts_.ids.size() + (content_ ? content_->body.size() : 0);
  }

  absl::Status Prepare(BatchWriter& b) override {
    if (content_) {
      index_ = core_.contents.Add(content_->id, content_->meta.sealed, content_->meta.max_age_s);
      created_ = true;
      std::string key = ContentKey(content_->id);
      b.Put(Cf::kContentMeta, key, EncodeContentMeta(content_->meta));
      b.Put(Cf::kContents, key, content_->body);
      if (content_->campaign) CreateCampaign(b);
    } else {
      int64_t i = core_.contents.Find(target_);
      if (i < 0) {
        // A completed or cancelled campaign keeps its record after its
        // content is gone: closed to new recipients, not unknown.
        const CampaignState* st = core_.campaigns.Find(target_);
        if (st != nullptr && st->closed) {
          return absl::FailedPreconditionError(fmt::format(
              "campaign {} is {}", target_.ToString(), st->cancelled ? "cancelled" : "completed"));
        }
        return absl::NotFoundError(fmt::format("campaign {} not found", target_.ToString()));
      }
      const ContentSlot& c = core_.contents.at(static_cast<uint32_t>(i));
      if (c.sealed || c.deleting) {
        return absl::FailedPreconditionError(
            fmt::format("campaign {} is closed to new recipients", target_.ToString()));
      }
      index_ = static_cast<uint32_t>(i);
    }
    ContentSlot& slot = core_.contents.at(index_);
    slot.live += static_cast<uint32_t>(rcpts_.ids.size());
    if (slot.campaign != nullptr && !rcpts_.ids.empty()) {
      campaign_ = slot.campaign;
      campaign_->counters.accepted += rcpts_.ids.size();
      b.Put(Cf::kCampaigns, CampaignKey(campaign_->id), EncodeCampaignState(*campaign_));
    }
    std::string key;
    key.reserve(kRecipientKeySize);
    for (size_t i = 0; i < rcpts_.ids.size(); ++i) {
      key.clear();
      target_.AppendTo(&key);
      rcpts_.ids[i].AppendTo(&key);
      b.Put(Cf::kRecipients, key, rcpts_.value(i));
    }
    return absl::OkStatus();
  }

  void Apply() override {
    std::string_view last_name;
    uint32_t last_domain = 0;
    for (size_t i = 0; i < rcpts_.ids.size(); ++i) {
      RecipientId id = rcpts_.ids[i];
      std::string_view name = rcpts_.domain(i);
      if (i == 0 || name != last_name) last_domain = core_.domains.Intern(name);
      last_name = name;
      core_.schedule.Add(id, index_, last_domain, 0, static_cast<UnixSeconds>(id.unix_ms() / 1000));
    }
  }

  void Undo() override {
    core_.contents.at(index_).live -= static_cast<uint32_t>(rcpts_.ids.size());
    if (campaign_ != nullptr) campaign_->counters.accepted -= rcpts_.ids.size();
    if (created_) {
      core_.contents.Remove(index_);
      if (content_->campaign) core_.campaigns.Remove(content_->id);
    }
  }

  void Complete(absl::Status status) override { done_(std::move(status)); }

 private:
  // The campaign's state and settings records, and its in-memory state.
  void CreateCampaign(BatchWriter& b) {
    CampaignState* st = core_.campaigns.Add(content_->id);
    st->settings = *content_->campaign;
    st->created_ms = content_->id.unix_ms();
    st->closed = content_->meta.sealed;
    core_.contents.at(index_).campaign = st;
    b.Put(Cf::kCampaigns, CampaignKey(st->id), EncodeCampaignState(*st));
    b.Put(Cf::kCampaigns, CampaignSettingsKey(st->id), EncodeCampaignSettings(st->settings));
  }

  Spool::Core& core_;
  std::optional<NewContent> content_;
  ContentId target_;
  EncodedRecipients rcpts_;
  StatusDone done_;
  uint32_t index_ = 0;
  bool created_ = false;
  CampaignState* campaign_ = nullptr;  // whose `accepted` this request raised
};

class CloseCampaignRequest final : public WriteRequest {
 public:
  CloseCampaignRequest(Spool::Core& core, ContentId campaign, StatusDone done)
      : core_(core), campaign_(campaign), done_(std::move(done)) {}

  size_t size_hint() const override { return 64; }

  absl::Status Prepare(BatchWriter& b) override {
    int64_t i = core_.contents.Find(campaign_);
    if (i < 0) {
      const CampaignState* st = core_.campaigns.Find(campaign_);
      if (st != nullptr && st->closed) return absl::OkStatus();  // completed or cancelled
      return absl::NotFoundError(fmt::format("campaign {} not found", campaign_.ToString()));
    }
    index_ = static_cast<uint32_t>(i);
    ContentSlot& c = core_.contents.at(index_);
    if (c.sealed) return absl::OkStatus();  // already closed: nothing to write
    c.sealed = true;
    changed_ = true;
    if (c.campaign != nullptr) {
      c.campaign->closed = true;
      b.Put(Cf::kCampaigns, CampaignKey(campaign_), EncodeCampaignState(*c.campaign));
    }
    deleted_ = DeleteContentIfDone(c, b);
    if (!deleted_) {
      ContentMeta meta{.kind = ContentKind::kCampaign, .sealed = true, .max_age_s = c.max_age_s};
      b.Put(Cf::kContentMeta, ContentKey(campaign_), EncodeContentMeta(meta));
    }
    return absl::OkStatus();
  }
  void Apply() override {
    if (deleted_) core_.contents.Remove(index_);
  }
  void Undo() override {
    if (!changed_) return;
    ContentSlot& c = core_.contents.at(index_);
    c.sealed = false;
    c.deleting = false;
    if (c.campaign != nullptr) c.campaign->closed = false;
  }
  void Complete(absl::Status status) override { done_(std::move(status)); }

 private:
  Spool::Core& core_;
  ContentId campaign_;
  StatusDone done_;
  uint32_t index_ = 0;
  bool changed_ = false;
  bool deleted_ = false;
};

// The attribution key and value side by side in `out` (no allocation).
void PutAttribution(RecipientId rcpt, CampaignId campaign, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(rcpt.hi() >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<char>(rcpt.lo() >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) out[16 + i] = static_cast<char>(campaign.hi() >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) out[24 + i] = static_cast<char>(campaign.lo() >> (56 - 8 * i));
}

std::string LoadAddress(PointReader& reader, ContentId content, RecipientId id) {
  std::string value;
  if (!reader.Get(Cf::kRecipients, RecipientKey(content, id), &value).ok()) return {};
  auto address = DecodeRecipientAddress(value);
  return address.ok() ? std::string(*address) : std::string();
}

class OutcomeRequest final : public WriteRequest {
 public:
  OutcomeRequest(Spool::Core& core, OutcomePlan plan, StatusDone done)
      : core_(core), plan_(std::move(plan)), done_(std::move(done)) {}

  size_t size_hint() const override { return 256 + plan_.response.text.size(); }
  // Lost in a crash, the recipient is delivered again: no mail is lost.
  bool sync_may_wait() const override { return true; }
  bool deferred() const { return plan_.state == RecipientState::kDeferred; }

  void Load(PointReader& reader) override {
    address_ = plan_.address.empty() ? LoadAddress(reader, plan_.content, plan_.id)
                                     : std::move(plan_.address);
  }

  absl::Status Prepare(BatchWriter& b) override {
    DeliveryEvent event{.id = plan_.event,
                        .recipient = plan_.id,
                        .content = plan_.content,
                        .kind = plan_.state,
                        .time = plan_.now,
                        .attempts = plan_.attempts,
                        .address = std::move(address_),
                        .response = plan_.response,
                        .reason = plan_.reason};
    if (deferred()) event.next_attempt = plan_.next_attempt;
    b.Put(Cf::kEvents, EventKey(event.id), EncodeEvent(event));
    campaign_ = core_.contents.at(plan_.content_index).campaign;
    if (campaign_ != nullptr) {
      delta_ = IndexCampaignEvent(*campaign_, event, plan_.attempts > 1, b);
      // A later bounce, complaint or unsubscribe finds its campaign here.
      if (plan_.state == RecipientState::kDelivered &&
          core_.options.feedback_retention > absl::ZeroDuration()) {
        char key[RecipientId::kBytes + ContentId::kBytes];
        PutAttribution(plan_.id, campaign_->id, key);
        b.Put(Cf::kAttributions, std::string_view(key, RecipientId::kBytes),
              std::string_view(key + RecipientId::kBytes, ContentId::kBytes));
      }
    }
    std::string key = RecipientKey(plan_.content, plan_.id);
    if (deferred()) {
      ScheduleRecord record{.state = RecipientState::kDeferred,
                            .attempts = plan_.attempts,
                            .next_attempt_ms = Ms(plan_.next_attempt),
                            .last_attempt_ms = Ms(plan_.now),
                            .last_reason = plan_.reason};
      if (plan_.response != RemoteResponse{}) record.last_response = plan_.response;
      b.Put(Cf::kSchedule, key, EncodeSchedule(record));
      return absl::OkStatus();
    }
    b.SingleDelete(Cf::kRecipients, key);
    if (plan_.attempts > 1) b.Delete(Cf::kSchedule, key);  // written at the first deferral
    ContentSlot& c = core_.contents.at(plan_.content_index);
    --c.live;
    content_deleted_ = DeleteContentIfDone(c, b);
    return absl::OkStatus();
  }

  void Apply() override {
    if (deferred()) {
      core_.schedule.at(plan_.slot).attempts =
          static_cast<uint16_t>(std::min(plan_.attempts, 0xffff));
      // A cancelled campaign's recipient comes back at once, to be cancelled.
      bool cancelled = core_.contents.at(plan_.content_index).hold == Hold::kCancelled;
      core_.schedule.Place(plan_.slot, EntryState::kQueued,
                           cancelled ? 0 : ToIndexSeconds(plan_.next_attempt));
      return;
    }
    core_.schedule.Free(plan_.slot);
    if (content_deleted_) core_.contents.Remove(plan_.content_index);
  }

  void Undo() override {
    core_.schedule.SetLeaseState(plan_.slot, EntryState::kInFlight);
    if (campaign_ != nullptr) AddCounters(campaign_->counters, delta_, -1);
    if (deferred()) return;
    ContentSlot& c = core_.contents.at(plan_.content_index);
    ++c.live;
    if (content_deleted_) c.deleting = false;
    content_deleted_ = false;
  }

  void Complete(absl::Status status) override { done_(std::move(status)); }

 private:
  Spool::Core& core_;
  OutcomePlan plan_;
  StatusDone done_;
  std::string address_;
  bool content_deleted_ = false;
  CampaignState* campaign_ = nullptr;
  CampaignCounters delta_;
};

// Expires recipients past their maximum age or, with `cancel`, finalises
// those of a cancelled campaign (kFailed, reason "cancelled").
class ExpiryRequest final : public WriteRequest {
 public:
  ExpiryRequest(Spool::Core& core, std::vector<ExpiryItem> items, bool cancel, StatusDone done)
      : core_(core),
        items_(std::move(items)),
        now_(absl::Now()),
        cancel_(cancel),
        done_(std::move(done)) {}

  size_t size_hint() const override { return 160 * items_.size(); }

  void Load(PointReader& reader) override {
    addresses_.reserve(items_.size());
    for (const ExpiryItem& it : items_)
      addresses_.push_back(LoadAddress(reader, it.content, it.id));
  }

  absl::Status Prepare(BatchWriter& b) override {
    for (size_t i = 0; i < items_.size(); ++i) {
      const ExpiryItem& it = items_[i];
      ContentSlot& c = core_.contents.at(it.content_index);
      DeliveryEvent event{.id = NewId<EventId>(),
                          .recipient = it.id,
                          .content = it.content,
                          .kind = cancel_ ? RecipientState::kFailed : RecipientState::kExpired,
                          .time = now_,
                          .attempts = it.attempts,
                          .address = std::move(addresses_[i])};
      event.reason =
          cancel_ ? std::string(kCancelledReason)
                  : fmt::format("expired: still queued after the maximum age of {} ({} attempts)",
                                absl::FormatDuration(absl::Seconds(core_.MaxAgeSeconds(c))),
                                it.attempts);
      b.Put(Cf::kEvents, EventKey(event.id), EncodeEvent(event));
      if (c.campaign != nullptr) {
        counted_.emplace_back(c.campaign,
                              IndexCampaignEvent(*c.campaign, event, it.attempts > 0, b));
      }
      std::string key = RecipientKey(it.content, it.id);
      b.SingleDelete(Cf::kRecipients, key);
      if (it.attempts > 0) b.Delete(Cf::kSchedule, key);
      --c.live;
      if (DeleteContentIfDone(c, b)) deleted_.push_back(it.content_index);
    }
    return absl::OkStatus();
  }

  void Apply() override {
    for (const ExpiryItem& it : items_) core_.schedule.Free(it.slot);
    for (uint32_t index : deleted_) core_.contents.Remove(index);
    if (!cancel_) core_.expired += items_.size();
  }

  void Undo() override {
    UnixSeconds retry = ToIndexSeconds(absl::Now() + absl::Minutes(1));
    for (const ExpiryItem& it : items_) {
      ++core_.contents.at(it.content_index).live;
      core_.schedule.Place(it.slot, EntryState::kQueued, retry);
    }
    for (uint32_t index : deleted_) core_.contents.at(index).deleting = false;
    deleted_.clear();
    for (auto& [campaign, delta] : counted_) AddCounters(campaign->counters, delta, -1);
    counted_.clear();
  }

  void Complete(absl::Status status) override {
    const char* what = cancel_ ? "cancelled" : "expired";
    if (status.ok()) {
      spdlog::info("spool: {} recipients {}", items_.size(), what);
    } else {
      spdlog::warn("spool: {} recipients not {}, retrying in a minute: {}", items_.size(), what,
                   status.ToString());
    }
    if (done_) done_(std::move(status));
  }

 private:
  Spool::Core& core_;
  std::vector<ExpiryItem> items_;
  absl::Time now_;
  bool cancel_;
  StatusDone done_;
  std::vector<std::string> addresses_;
  std::vector<uint32_t> deleted_;
  std::vector<std::pair<CampaignState*, CampaignCounters>> counted_;
};

class RecordRequest final : public WriteRequest {
 public:
  RecordRequest(Cf cf, std::string key, std::optional<std::string> value, StatusDone done)
      : cf_(cf), key_(std::move(key)), value_(std::move(value)), done_(std::move(done)) {}

  bool needs_space() const override { return value_.has_value(); }
  size_t size_hint() const override { return key_.size() + (value_ ? value_->size() : 0) + 16; }
  absl::Status Prepare(BatchWriter& b) override {
    if (value_) {
      b.Put(cf_, key_, *value_);
    } else {
      b.Delete(cf_, key_);
    }
    return absl::OkStatus();
  }
  void Apply() override {}
  void Undo() override {}
  void Complete(absl::Status status) override { done_(std::move(status)); }

 private:
  Cf cf_;
  std::string key_;
  std::optional<std::string> value_;
  StatusDone done_;
};

}  // namespace

bool DeleteContentIfDone(ContentSlot& c, BatchWriter& b) {
  if (c.live != 0 || !c.sealed || c.deleting) return false;
  c.deleting = true;
  std::string key = ContentKey(c.id);
  b.Delete(Cf::kContentMeta, key);
  b.Delete(Cf::kContents, key);
  return true;
}

CampaignCounters IndexCampaignEvent(CampaignState& campaign, const DeliveryEvent& event,
                                    bool was_deferred, BatchWriter& b) {
  CampaignEventRef ref = RefOf(event);
  b.Put(Cf::kCampaignEvents, CampaignEventKey(campaign.id, event.id), EncodeCampaignEventRef(ref));
  CampaignCounters delta = DeltaOf(event.kind, ref.cls, was_deferred);
  AddCounters(campaign.counters, delta, +1);
  b.Put(Cf::kCampaigns, CampaignKey(campaign.id), EncodeCampaignState(campaign));
  return delta;
}

std::unique_ptr<WriteRequest> NewAcceptRequest(Spool::Core& core, std::optional<NewContent> content,
                                               ContentId target, EncodedRecipients recipients,
                                               StatusDone done) {
  return std::make_unique<AcceptRequest>(core, std::move(content), target, std::move(recipients),
                                         std::move(done));
}

std::unique_ptr<WriteRequest> NewCloseCampaignRequest(Spool::Core& core, ContentId campaign,
                                                      StatusDone done) {
  return std::make_unique<CloseCampaignRequest>(core, campaign, std::move(done));
}

std::unique_ptr<WriteRequest> NewOutcomeRequest(Spool::Core& core, OutcomePlan plan,
                                                StatusDone done) {
  return std::make_unique<OutcomeRequest>(core, std::move(plan), std::move(done));
}

std::unique_ptr<WriteRequest> NewExpiryRequest(Spool::Core& core, std::vector<ExpiryItem> items) {
  return std::make_unique<ExpiryRequest>(core, std::move(items), false, nullptr);
}

std::unique_ptr<WriteRequest> NewCancelRequest(Spool::Core& core, std::vector<ExpiryItem> items,
                                               StatusDone done) {
  return std::make_unique<ExpiryRequest>(core, std::move(items), true, std::move(done));
}

std::unique_ptr<WriteRequest> NewRecordRequest(Cf cf, std::string key,
                                               std::optional<std::string> value, StatusDone done) {
  return std::make_unique<RecordRequest>(cf, std::move(key), std::move(value), std::move(done));
}

}  // namespace salvo::queue
