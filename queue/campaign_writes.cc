// Campaign control: the durable pause / resume / cancel flags, the walk that
// puts a resumed campaign's parked recipients back in the heap, the cancel job
// that finalises a cancelled campaign's recipients in bounded batches, and the
// small write request of bulk records.
//
// A campaign's flags change in Prepare() (so that every later put of its
// state record in the same group carries them) and its content's Hold in
// Apply(), once durable: TakeDue obeys only what is written.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "queue/spool_core.h"

namespace salvo::queue {
namespace {

constexpr size_t kCancelBatch = 4096;  // recipients per cancel write

class ControlRequest final : public WriteRequest {
 public:
  ControlRequest(Spool::Core& core, CampaignId id, CampaignControl control, StatusDone done)
      : core_(core), id_(id), control_(control), done_(std::move(done)) {}

  size_t size_hint() const override { return 128; }

  absl::Status Prepare(BatchWriter& b) override {
    CampaignState* st = core_.campaigns.Find(id_);
    if (st == nullptr) return absl::NotFoundError(fmt::format("no campaign {}", id_.ToString()));
    CampaignStatus status = st->Info().status;
    if (status == CampaignStatus::kCancelled && control_ != CampaignControl::kCancel) {
      return absl::FailedPreconditionError("the campaign is cancelled");
    }
    if (status == CampaignStatus::kCompleted && control_ != CampaignControl::kResume) {
      return absl::FailedPreconditionError("the campaign is completed");
    }
    old_ = *st;
    switch (control_) {
      case CampaignControl::kPause:
        st->paused = true;
        break;
      case CampaignControl::kResume:
        st->paused = false;
        break;
      case CampaignControl::kCancel:
        st->cancelled = true;
        st->closed = true;
        SealContent(b);
        break;
    }
    if (st->paused == old_.paused && st->cancelled == old_.cancelled) return absl::OkStatus();
    campaign_ = st;
    b.Put(Cf::kCampaigns, CampaignKey(id_), EncodeCampaignState(*st));
    return absl::OkStatus();
  }

  void Apply() override {
    if (campaign_ == nullptr) return;
    int64_t i = core_.contents.Find(id_);
    if (i < 0) return;
    ContentSlot& c = core_.contents.at(static_cast<uint32_t>(i));
    if (deleted_) {
      core_.contents.Remove(static_cast<uint32_t>(i));
      return;
    }
    c.hold = campaign_->cancelled ? Hold::kCancelled
             : campaign_->paused  ? Hold::kPaused
                                  : Hold::kNone;
  }

  void Undo() override {
    if (campaign_ == nullptr) return;
    campaign_->paused = old_.paused;
    campaign_->cancelled = old_.cancelled;
    campaign_->closed = old_.closed;
    int64_t i = core_.contents.Find(id_);
    if (i < 0 || !sealed_now_) return;
    ContentSlot& c = core_.contents.at(static_cast<uint32_t>(i));
    c.sealed = false;
    c.deleting = false;
  }

  void Complete(absl::Status status) override { done_(std::move(status)); }

 private:
  // A cancelled campaign takes no more recipients; an empty one goes now.
  void SealContent(BatchWriter& b) {
    int64_t i = core_.contents.Find(id_);
    if (i < 0) return;
    ContentSlot& c = core_.contents.at(static_cast<uint32_t>(i));
    if (c.sealed) return;
    c.sealed = true;
    sealed_now_ = true;
    deleted_ = DeleteContentIfDone(c, b);
    if (!deleted_) {
      ContentMeta meta{.kind = ContentKind::kCampaign, .sealed = true, .max_age_s = c.max_age_s};
      b.Put(Cf::kContentMeta, ContentKey(id_), EncodeContentMeta(meta));
    }
  }

  Spool::Core& core_;
  CampaignId id_;
  CampaignControl control_;
  StatusDone done_;
  CampaignState old_;
  CampaignState* campaign_ = nullptr;  // set when this request changed it
  bool sealed_now_ = false;
  bool deleted_ = false;
};

// Puts the parked recipients of a resumed campaign back at their due times.
void RestoreParked(Spool::Core& core, CampaignId id) {
  Schedule::Slot next = 0;
  size_t restored = 0;
  while (WalkContent(core, id, next, [&](Schedule::Slot slot, ScheduleEntry& e, uint32_t) {
    if (e.state == EntryState::kPaused) {
      core.schedule.Place(slot, EntryState::kQueued, e.due);
      ++restored;
    }
    return true;
  })) {
  }
  spdlog::info("spool: campaign {} resumed, {} recipients due again", id.ToString(), restored);
}

// Finalises a cancelled content's recipients, kCancelBatch per write, each
// batch submitted when the previous one is durable.
class CancelJob : public std::enable_shared_from_this<CancelJob> {
 public:
  CancelJob(Spool::Core& core, ContentId id, CancelDone done)
      : core_(core), id_(id), done_(std::move(done)) {}

  void Step() {
    std::vector<ExpiryItem> items;
    bool more = true;
    while (items.empty() && more) {
      more = WalkContent(core_, id_, next_,
                         [&](Schedule::Slot slot, ScheduleEntry& e, uint32_t index) {
                           if (e.state != EntryState::kQueued && e.state != EntryState::kPaused) {
                             ++tally_.in_flight;
                             return true;
                           }
                           core_.schedule.Unplace(slot, EntryState::kExpiring);
                           items.push_back({slot, e.id(), id_, index, e.attempts});
                           return items.size() < kCancelBatch;
                         });
    }
    if (items.empty()) {
      spdlog::info("spool: {} cancelled: {} recipients finalised, {} in flight", id_.ToString(),
                   tally_.cancelled, tally_.in_flight);
      return done_(tally_);
    }
    size_t batch = items.size();
    core_.committer->Submit(NewCancelRequest(core_, std::move(items),
                                             [self = shared_from_this(), batch](absl::Status s) {
                                               if (!s.ok()) return self->done_(std::move(s));
                                               self->tally_.cancelled += batch;
                                               self->Step();
                                             }));
  }

 private:
  Spool::Core& core_;
  ContentId id_;
  CancelDone done_;
  Schedule::Slot next_ = 0;
  CancelTally tally_;
};

class RecordsRequest final : public WriteRequest {
 public:
  RecordsRequest(Cf cf, std::vector<std::pair<std::string, std::string>> kv, StatusDone done)
      : cf_(cf), kv_(std::move(kv)), done_(std::move(done)) {}
  bool needs_space() const override { return true; }
  size_t size_hint() const override {
    size_t n = 0;
    for (const auto& [k, v] : kv_) n += k.size() + v.size() + 16;
    return n;
  }
  absl::Status Prepare(BatchWriter& b) override {
    for (const auto& [k, v] : kv_) b.Put(cf_, k, v);
    return absl::OkStatus();
  }
  void Apply() override {}
  void Undo() override {}
  void Complete(absl::Status status) override { done_(std::move(status)); }

 private:
  Cf cf_;
  std::vector<std::pair<std::string, std::string>> kv_;
  StatusDone done_;
};

}  // namespace

void StartCancel(Spool::Core& core, ContentId id, CancelDone done) {
  std::make_shared<CancelJob>(core, id, std::move(done))->Step();
}

void ControlCampaign(Spool::Core& core, CampaignId id, CampaignControl control, CampaignDone done) {
  auto shared = std::make_shared<CampaignDone>(std::move(done));
  auto answer = [&core, id, shared](absl::Status s) {
    if (!s.ok()) return (*shared)(std::move(s));
    std::lock_guard<std::mutex> lock(core.mu);
    const CampaignState* st = core.campaigns.Find(id);
    if (st == nullptr) return (*shared)(absl::NotFoundError("campaign gone"));
    (*shared)(st->Info());
  };
  core.committer->Submit(std::make_unique<ControlRequest>(
      core, id, control, [&core, id, control, answer](absl::Status s) mutable {
        if (!s.ok()) return answer(std::move(s));
        if (control == CampaignControl::kResume) RestoreParked(core, id);
        if (control != CampaignControl::kCancel) return answer(absl::OkStatus());
        StartCancel(core, id, [answer = std::move(answer)](absl::StatusOr<CancelTally> t) mutable {
          answer(t.status());
        });
      }));
}

void SubmitCancels(Spool::Core& core, std::vector<ExpiryItem> items) {
  for (size_t begin = 0; begin < items.size(); begin += kCancelBatch) {
    size_t end = std::min(items.size(), begin + kCancelBatch);
    std::vector<ExpiryItem> chunk(items.begin() + begin, items.begin() + end);
    core.committer->Submit(NewCancelRequest(core, std::move(chunk), nullptr));
  }
}

void ResumeInterruptedCancels(Spool::Core& core) {
  std::vector<CampaignId> ids;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    core.contents.ForEach([&](uint32_t, const ContentSlot& c) {
      if (c.hold == Hold::kCancelled && c.live > 0) ids.push_back(c.id);
    });
  }
  for (CampaignId id : ids) {
    StartCancel(core, id, [id](absl::StatusOr<CancelTally> t) {
      if (!t.ok()) spdlog::warn("spool: cancelling {}: {}", id.ToString(), t.status().ToString());
    });
  }
}

std::unique_ptr<WriteRequest> NewRecordsRequest(Cf cf,
                                                std::vector<std::pair<std::string, std::string>> kv,
                                                StatusDone done) {
  return std::make_unique<RecordsRequest>(cf, std::move(kv), std::move(done));
}

}  // namespace salvo::queue
