// The spool's feedback calls (feedback.h): the write request that attributes
// a bounce, complaint or unsubscribe to its campaign (counter, event ref) and
// counts soft bounces, and the maintenance request that drops attribution
// records past the retention and soft-bounce records past their window.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

#include "engine/base/status_macros.h"
#include "queue/feedback_records.h"
#include "queue/spool_core.h"

namespace salvo::queue {
namespace {

constexpr size_t kMaxDetail = 300;
constexpr size_t kMaxCategory = 64;
constexpr size_t kMaxSoftExpiries = 65536;  // soft-bounce records deleted per maintenance

using FeedbackDone = SpoolOp<absl::StatusOr<FeedbackResult>>::Done;

CampaignCounters DeltaOf(FeedbackKind kind) {
  CampaignCounters d;
  switch (kind) {
    case FeedbackKind::kBounced:
      d.bounced = 1;
      break;
    case FeedbackKind::kComplained:
      d.complained = 1;
      break;
    case FeedbackKind::kUnsubscribed:
      d.unsubscribed = 1;
      break;
  }
  return d;
}

// Attributes one piece of feedback (attribute_) and/or counts a soft bounce
// (feedback_.soft), all in the group's batch.
class FeedbackRequest final : public WriteRequest {
 public:
  FeedbackRequest(Spool::Core& core, CampaignFeedback feedback, bool attribute, FeedbackDone done)
      : core_(core), fb_(std::move(feedback)), attribute_(attribute), done_(std::move(done)) {}

  size_t size_hint() const override { return 160 + fb_.address.size() + fb_.detail.size(); }

  void Load(PointReader& reader) override {
    if (attribute_) {
      // Read even when the caller names the campaign: the record tells
      // whether this feedback was counted already.
      std::string value;
      lookup_ = reader.Get(Cf::kAttributions, AttributionKey(fb_.recipient), &value);
      if (lookup_.ok()) attribution_ = DecodeAttribution(value);
      if (absl::IsNotFound(lookup_) || (lookup_.ok() && !attribution_)) {
        attribution_.reset();
        lookup_ = fb_.campaign ? absl::OkStatus()
                               : absl::NotFoundError(fmt::format(
                                     "recipient {} has no campaign attribution (unknown, not a "
                                     "delivered campaign recipient, or older than the retention)",
                                     fb_.recipient.ToString()));
      }
      if (!fb_.campaign && attribution_) fb_.campaign = attribution_->campaign;
    }
    if (fb_.soft) {
      soft_read_ = reader.Get(Cf::kSoftBounces, fb_.address, &soft_value_);
      if (absl::IsNotFound(soft_read_)) soft_read_ = absl::OkStatus();
    }
  }

  absl::Status Prepare(BatchWriter& b) override {
    // Every check first: a failed request changes nothing.
    if (attribute_) {
      RETURN_IF_ERROR(lookup_);
      campaign_ = core_.campaigns.Find(*fb_.campaign);
      if (campaign_ == nullptr) {
        return absl::NotFoundError(fmt::format("no campaign {}", fb_.campaign->ToString()));
      }
    }
    RETURN_IF_ERROR(soft_read_);
    if (attribute_) {
      // A request earlier in this group may have counted the same feedback.
      std::string key = AttributionKey(fb_.recipient);
      auto pending = core_.attributions_in_group.find(key);
      Attribution record = pending != core_.attributions_in_group.end()
                               ? pending->second
                               : attribution_.value_or(Attribution{.campaign = *fb_.campaign});
      if (record.counted & FeedbackBit(fb_.kind)) {
        duplicate_ = true;
        return absl::OkStatus();
      }
      Attribute(b);
      record.counted |= FeedbackBit(fb_.kind);
      b.Put(Cf::kAttributions, key, EncodeAttribution(record));
      core_.attributions_in_group[key] = record;
    }
    if (fb_.soft) CountSoft(b);
    return absl::OkStatus();
  }

  void Apply() override {}
  void Undo() override {
    if (campaign_ != nullptr && !duplicate_) {
      AddCounters(campaign_->counters, DeltaOf(fb_.kind), -1);
    }
  }
  void Complete(absl::Status status) override {
    if (!status.ok()) return done_(std::move(status));
    done_(FeedbackResult{.campaign = fb_.campaign.value_or(CampaignId()),
                         .event = event_,
                         .soft_limit_reached = soft_reached_,
                         .duplicate = duplicate_});
  }

 private:
  void Attribute(BatchWriter& b) {
    event_ = NewId<EventId>();
    CampaignEventRef ref{.recipient = fb_.recipient,
                         .kind = RecipientState::kDelivered,
                         .time_ms = absl::ToUnixMillis(fb_.time),
                         .domain = AddressDomain(fb_.address),
                         .feedback = fb_.kind,
                         .category = fb_.category,
                         .address = fb_.address,
                         .detail = fb_.detail};
    b.Put(Cf::kCampaignEvents, CampaignEventKey(campaign_->id, event_),
          EncodeCampaignEventRef(ref));
    AddCounters(campaign_->counters, DeltaOf(fb_.kind), +1);
    b.Put(Cf::kCampaigns, CampaignKey(campaign_->id), EncodeCampaignState(*campaign_));
  }

  void CountSoft(BatchWriter& b) {
    // A request earlier in this group may have changed the record already.
    auto pending = core_.soft_in_group.find(fb_.address);
    const std::string& current =
        pending != core_.soft_in_group.end() ? pending->second : soft_value_;
    SoftBounceRecord record;
    if (!current.empty()) {
      absl::StatusOr<SoftBounceRecord> decoded = DecodeSoftBounce(current);
      if (decoded.ok()) {
        record = std::move(*decoded);
      } else {
        spdlog::warn("spool: soft bounce record of {} unreadable, counting anew: {}", fb_.address,
                     decoded.status().ToString());
      }
    }
    soft_reached_ = CountSoftBounce(record, *fb_.soft, fb_.time);
    std::string value;
    if (record.times_ms.empty()) {
      b.Delete(Cf::kSoftBounces, fb_.address);
    } else {
      value = EncodeSoftBounce(record);
      b.Put(Cf::kSoftBounces, fb_.address, value);
    }
    core_.soft_in_group[fb_.address] = std::move(value);
  }

  Spool::Core& core_;
  CampaignFeedback fb_;
  bool attribute_;
  FeedbackDone done_;
  absl::Status lookup_;
  std::optional<Attribution> attribution_;  // the recipient's record, if any
  bool duplicate_ = false;
  absl::Status soft_read_;
  std::string soft_value_;
  CampaignState* campaign_ = nullptr;
  EventId event_;
  bool soft_reached_ = false;
};

// Drops attribution records of recipients created before now - retention
// (one range tombstone) and the soft-bounce records found expired.
class FeedbackExpiryRequest final : public WriteRequest {
 public:
  FeedbackExpiryRequest(Spool::Core& core, absl::Time now, std::vector<std::string> soft,
                        StatusDone done)
      : core_(core), now_(now), soft_(std::move(soft)), done_(std::move(done)) {}

  size_t size_hint() const override { return 64 + 48 * soft_.size(); }

  void Load(PointReader& reader) override {
    // Read again: a bounce may have renewed a record since the scan.
    values_.resize(soft_.size());
    for (size_t i = 0; i < soft_.size(); ++i) {
      if (!reader.Get(Cf::kSoftBounces, soft_[i], &values_[i]).ok()) values_[i].clear();
    }
  }

  absl::Status Prepare(BatchWriter& b) override {
    absl::Duration retention = core_.options.feedback_retention;
    if (retention > absl::ZeroDuration()) {
      b.DeleteRange(Cf::kAttributions, std::string(RecipientId::kBytes, '\0'),
                    AttributionBound(absl::ToUnixMillis(now_ - retention)));
    }
    int64_t now_ms = absl::ToUnixMillis(now_);
    for (size_t i = 0; i < soft_.size(); ++i) {
      if (values_[i].empty() || core_.soft_in_group.contains(soft_[i])) continue;
      absl::StatusOr<SoftBounceRecord> r = DecodeSoftBounce(values_[i]);
      if (!r.ok() || r->expires_ms <= now_ms) {
        b.Delete(Cf::kSoftBounces, soft_[i]);
        ++deleted_;
      }
    }
    return absl::OkStatus();
  }
  void Apply() override {}
  void Undo() override {}
  void Complete(absl::Status status) override {
    if (status.ok() && deleted_ > 0) {
      spdlog::info("spool: {} soft bounce counts left their window", deleted_);
    }
    done_(std::move(status));
  }

 private:
  Spool::Core& core_;
  absl::Time now_;
  std::vector<std::string> soft_;
  StatusDone done_;
  std::vector<std::string> values_;
  size_t deleted_ = 0;
};

// The soft-bounce records whose window ended by `now` (reader thread).
absl::Status ScanExpiredSoftBounces(RocksDb& db, absl::Time now, std::vector<std::string>* out) {
  int64_t now_ms = absl::ToUnixMillis(now);
  auto it = db.Scan(Cf::kSoftBounces, /*fill_cache=*/false);
  for (it->SeekToFirst(); it->Valid() && out->size() < kMaxSoftExpiries; it->Next()) {
    absl::StatusOr<SoftBounceRecord> r = DecodeSoftBounce(ToView(it->value()));
    if (!r.ok() || r->expires_ms <= now_ms) out->emplace_back(ToView(it->key()));
  }
  return FromRocks(it->status(), "scan soft bounces");
}

CampaignFeedback Normalised(CampaignFeedback fb) {
  fb.address = NormalizeAddress(fb.address);
  if (fb.detail.size() > kMaxDetail) fb.detail.resize(kMaxDetail);
  if (fb.category.size() > kMaxCategory) fb.category.resize(kMaxCategory);
  if (fb.time == absl::InfinitePast()) fb.time = absl::Now();
  return fb;
}

}  // namespace

void ExpireFeedback(Spool::Core& core, absl::Time now, StatusDone done) {
  auto shared = std::make_shared<StatusDone>(std::move(done));
  bool posted = core.reader->Post([&core, now, shared] {
    std::vector<std::string> expired;
    absl::Status scanned;
    {
      std::shared_lock<std::shared_mutex> lock(core.db_mu);
      scanned = core.db == nullptr ? absl::UnavailableError("spool database is being reopened")
                                   : ScanExpiredSoftBounces(*core.db, now, &expired);
    }
    if (!scanned.ok()) return (*shared)(std::move(scanned));
    core.committer->Submit(std::make_unique<FeedbackExpiryRequest>(
        core, now, std::move(expired), [shared](absl::Status s) { (*shared)(std::move(s)); }));
  });
  if (!posted) (*shared)(absl::UnavailableError("spool is shutting down"));
}

SpoolOp<absl::StatusOr<FeedbackResult>> Spool::RecordCampaignFeedback(CampaignFeedback feedback) {
  using Op = SpoolOp<absl::StatusOr<FeedbackResult>>;
  if (feedback.soft && feedback.address.empty()) {
    return Op::Ready(absl::InvalidArgumentError("a soft bounce count needs an address"));
  }
  return Op([core = core_.get(), fb = Normalised(std::move(feedback))](Op::Done done) mutable {
    core->committer->Submit(std::make_unique<FeedbackRequest>(*core, std::move(fb),
                                                              /*attribute=*/true, std::move(done)));
  });
}

SpoolOp<absl::StatusOr<bool>> Spool::CountSoftBounce(std::string address, SoftBouncePolicy policy,
                                                     absl::Time now) {
  using Op = SpoolOp<absl::StatusOr<bool>>;
  if (address.empty()) return Op::Ready(absl::InvalidArgumentError("no address"));
  CampaignFeedback fb = Normalised({.address = std::move(address), .time = now, .soft = policy});
  return Op([core = core_.get(), fb = std::move(fb)](Op::Done done) mutable {
    auto answer = [done = std::move(done)](absl::StatusOr<FeedbackResult> r) mutable {
      if (!r.ok()) return done(r.status());
      done(r->soft_limit_reached);
    };
    core->committer->Submit(std::make_unique<FeedbackRequest>(*core, std::move(fb),
                                                              /*attribute=*/false,
                                                              std::move(answer)));
  });
}

SpoolOp<absl::Status> Spool::ExpireFeedback(absl::Time now) {
  return SpoolOp<absl::Status>([core = core_.get(), now](SpoolOp<absl::Status>::Done done) mutable {
    queue::ExpireFeedback(*core, now, std::move(done));
  });
}

}  // namespace salvo::queue
