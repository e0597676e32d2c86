// Spool::ViewMessage and Spool::CancelMessage (queue_view.h): one single
// message's recipients still in the queue, and their removal. Both walk the
// in-memory schedule on the reader thread, in slices of the spool lock; the
// cancel then finalises what it found through the campaigns' cancel job.
#include <memory>
#include <mutex>
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
  auto visit = [&](Schedule::Slot, ScheduleEntry& e, uint32_t) {
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
    return true;
  };
  while (WalkContent(core, id, next, visit)) {
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
    bool posted = core->reader->Post([core, id, answer] {
      {
        std::lock_guard<std::mutex> lock(core->mu);
        absl::StatusOr<uint32_t> index = FindMessage(*core, id);
        if (!index.ok()) return (*answer)(index.status());
        // TakeDue and a deferral's Apply cancel those in flight when they
        // come back.
        core->contents.at(*index).hold = Hold::kCancelled;
      }
      StartCancel(*core, id, [id, answer](absl::StatusOr<CancelTally> tally) {
        if (!tally.ok()) return (*answer)(tally.status());
        (*answer)(
            MessageCancel{.id = id, .cancelled = tally->cancelled, .in_flight = tally->in_flight});
      });
    });
    if (!posted) (*answer)(absl::UnavailableError("spool is shutting down"));
  });
}

}  // namespace salvo::queue
