// Spool::ViewMessage and Spool::CancelMessage (queue_view.h): one single
// message's recipients still in the queue, and their removal. The view walks
// the in-memory schedule on the reader thread, in slices of the spool lock;
// the cancel writes its durable mark, then finalises the recipients through
// the cancel job campaigns use.
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "queue/spool.h"
#include "queue/spool_core.h"

namespace salvo::queue {
namespace {

absl::Status NoQueuedMessage(MessageId id) {
  return absl::NotFoundError(
      absl::StrCat("no message ", id.ToString(),
                   " is in the queue (its recipients are all final, or it never existed)"));
}

// The content index of the single message `id` (mu held).
absl::StatusOr<uint32_t> FindMessage(const Spool::Core& core, MessageId id) {
  int64_t index = core.contents.Find(id);
  if (index < 0) return NoQueuedMessage(id);
  if (core.contents.at(static_cast<uint32_t>(index)).campaign != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(id.ToString(), " is a campaign: use its campaign routes"));
  }
  return static_cast<uint32_t>(index);
}

// Marks a single message cancelled: its content meta says so (a restart
// finishes the cancel, ResumeInterruptedCancels) and, once durable, its Hold
// (TakeDue and a deferral's Apply then cancel what comes back).
class MarkCancelledRequest final : public WriteRequest {
 public:
  MarkCancelledRequest(Spool::Core& core, MessageId id, StatusDone done)
      : core_(core), id_(id), done_(std::move(done)) {}

  size_t size_hint() const override { return 64; }

  absl::Status Prepare(BatchWriter& b) override {
    absl::StatusOr<uint32_t> index = FindMessage(core_, id_);
    if (!index.ok()) return index.status();
    const ContentSlot& c = core_.contents.at(*index);
    // Its last recipient's outcome, earlier in this group, deletes it.
    if (c.deleting) return NoQueuedMessage(id_);
    if (c.hold == Hold::kCancelled) return absl::OkStatus();  // cancelled before
    ContentMeta meta{.kind = ContentKind::kMessage,
                     .sealed = c.sealed,
                     .max_age_s = c.max_age_s,
                     .cancelled = true};
    b.Put(Cf::kContentMeta, ContentKey(id_), EncodeContentMeta(meta));
    index_ = *index;
    return absl::OkStatus();
  }
  // Later requests of the group may delete the content, but only in their
  // own Apply, after this one.
  void Apply() override {
    if (index_) core_.contents.at(*index_).hold = Hold::kCancelled;
  }
  void Undo() override {}
  void Complete(absl::Status status) override { done_(std::move(status)); }

 private:
  Spool::Core& core_;
  MessageId id_;
  StatusDone done_;
  std::optional<uint32_t> index_;  // set when this request marks it
};

absl::StatusOr<MessageView> View(Spool::Core& core, MessageId id) {
  MessageView view;
  view.id = id;
  view.accepted = absl::FromUnixMillis(id.unix_ms());
  {
    std::lock_guard<std::mutex> lock(core.mu);
    absl::StatusOr<uint32_t> index = FindMessage(core, id);
    if (!index.ok()) return index.status();
    view.cancelled = core.contents.at(*index).hold == Hold::kCancelled;
  }
  Schedule::Slot next = 0;
  // The walk ends once it has seen as many entries as the message has
  // recipients not final: a message's few entries need not cost a walk of
  // the whole schedule.
  uint32_t live = UINT32_MAX;
  auto visit = [&](Schedule::Slot, ScheduleEntry& e, uint32_t index) {
    live = core.contents.at(index).live;
    PendingRecipient p{.id = e.id(), .attempts = e.attempts};
    if (e.state == EntryState::kQueued || e.state == EntryState::kPaused) {
      ++view.queued;
      view.deferred += e.attempts > 0;
      p.next_attempt = absl::FromUnixSeconds(e.due);
    } else {
      ++view.in_flight;
      p.in_flight = true;
    }
    ++view.recipients;
    if (view.pending.size() < MessageView::kMaxPendingListed) {
      p.domain = std::string(core.domains.name(e.domain));
      view.pending.push_back(std::move(p));
    }
    return view.recipients < live;
  };
  while (view.recipients < live && WalkContent(core, id, next, visit)) {
  }
  // Its last recipients became final during the walk.
  if (view.recipients == 0) return NoQueuedMessage(id);
  return view;
}

}  // namespace

SpoolOp<absl::StatusOr<MessageView>> Spool::ViewMessage(MessageId id) {
  using R = absl::StatusOr<MessageView>;
  return OnReader<R>(core_.get(),
                     [core = core_.get(), id](RocksDb&) -> R { return View(*core, id); });
}

SpoolOp<absl::StatusOr<MessageCancel>> Spool::CancelMessage(MessageId id) {
  using Op = SpoolOp<absl::StatusOr<MessageCancel>>;
  return Op([core = core_.get(), id](Op::Done done) {
    auto answer = std::make_shared<Op::Done>(std::move(done));
    core->committer->Submit(
        std::make_unique<MarkCancelledRequest>(*core, id, [core, id, answer](absl::Status s) {
          if (!s.ok()) return (*answer)(std::move(s));
          StartCancel(*core, id, [id, answer](absl::StatusOr<CancelTally> tally) {
            if (!tally.ok()) return (*answer)(tally.status());
            (*answer)(MessageCancel{
                .id = id, .cancelled = tally->cancelled, .in_flight = tally->in_flight});
          });
        }));
  });
}

}  // namespace salvo::queue
