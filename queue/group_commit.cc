#include "queue/group_commit.h"

#include <utility>

#include "engine/base/thread_name.h"

namespace salvo::queue {

GroupCommitter::GroupCommitter(Options options, CommitFn commit)
    : options_(options), commit_(std::move(commit)) {
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
      queue_.push_back(std::move(r));
      cv_.notify_one();
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

void GroupCommitter::Run() {
  Group group;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      size_t bytes = 0;
      while (!queue_.empty() && (group.empty() || bytes < options_.max_group_bytes)) {
        bytes += queue_.front()->size_hint();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      pending_bytes_ -= bytes;
      ++groups_;
      requests_ += group.size();
    }
    commit_(group);
    group.clear();
  }
}

}  // namespace salvo::queue
