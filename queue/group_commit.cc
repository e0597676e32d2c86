#include "queue/group_commit.h"

#include <algorithm>
#include <utility>

#include "engine/base/thread_name.h"

namespace salvo::queue {

GroupCommitter::GroupCommitter(Options options, CommitFn commit, SyncFn sync)
    : options_(options), commit_(std::move(commit)), sync_(std::move(sync)) {
  thread_ = std::thread([this] {
    NameCurrentThread("spool-commit");
    Run();
  });
}

GroupCommitter::~GroupCommitter() { Stop(); }

void GroupCommitter::Submit(std::unique_ptr<WriteRequest> r) {
  absl::Status refused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      refused = absl::UnavailableError("spool is shutting down");
    } else if (r->needs_space() && pending_bytes_ > options_.max_pending_bytes) {
      refused = absl::UnavailableError("spool writer is saturated; try again later");
    } else {
      pending_bytes_ += r->size_hint();
      bool may_wait = r->sync_may_wait();
      if (!may_wait) ++queued_needing_sync_;
      queue_.push_back(std::move(r));
      // A lingering writer is woken only when its group must go now.
      if (!lingering_ || !may_wait || pending_bytes_ >= options_.max_group_bytes) {
        cv_.notify_one();
      }
      return;
    }
  }
  r->Complete(std::move(refused));
}

void GroupCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

uint64_t GroupCommitter::groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_;
}

uint64_t GroupCommitter::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

uint64_t GroupCommitter::unsynced_groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsynced_groups_;
}

bool GroupCommitter::MustSync(const Group& group) const {
  if (options_.max_sync_delay <= std::chrono::nanoseconds::zero() || !sync_) return true;
  if (unsynced_since_ && SteadyClock::now() >= *unsynced_since_ + options_.max_sync_delay) {
    return true;
  }
  return std::any_of(group.begin(), group.end(), [](const auto& r) { return !r->sync_may_wait(); });
}

void GroupCommitter::Linger(std::unique_lock<std::mutex>& lock) {
  auto must_go = [this] {
    return stopping_ || queued_needing_sync_ > 0 || pending_bytes_ >= options_.max_group_bytes;
  };
  if (options_.max_linger <= std::chrono::nanoseconds::zero() || must_go()) return;
  auto until = SteadyClock::now() + options_.max_linger;
  if (unsynced_since_) until = std::min(until, *unsynced_since_ + options_.max_sync_delay);
  lingering_ = true;
  cv_.wait_until(lock, until, must_go);
  lingering_ = false;
}

void GroupCommitter::Run() {
  Group group;
  auto ready = [this] { return stopping_ || !queue_.empty(); };
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (unsynced_since_) {
        // Something is written but not fsynced: fsync it when the delay
        // runs out with nothing to write, or when stopping.
        cv_.wait_until(lock, *unsynced_since_ + options_.max_sync_delay, ready);
        if (queue_.empty()) {
          lock.unlock();
          sync_();
          unsynced_since_.reset();
          continue;
        }
      } else {
        cv_.wait(lock, ready);
        if (queue_.empty()) return;  // stopping, and everything is written
      }
      Linger(lock);
      size_t bytes = 0;
      while (!queue_.empty() && (group.empty() || bytes < options_.max_group_bytes)) {
        bytes += queue_.front()->size_hint();
        if (!queue_.front()->sync_may_wait()) --queued_needing_sync_;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      pending_bytes_ -= bytes;
      ++groups_;
      requests_ += group.size();
    }
    bool sync = MustSync(group);
    commit_(group, sync);
    if (sync) {
      unsynced_since_.reset();
    } else {
      if (!unsynced_since_) unsynced_since_ = SteadyClock::now();
      std::lock_guard<std::mutex> lock(mu_);
      ++unsynced_groups_;
    }
    group.clear();
  }
}

}  // namespace salvo::queue
