// WorkerPool: threads that run posted jobs, first in first out — for work
// that must not run on a ring thread (RocksDB reads, PBKDF2, DKIM signing).
// A job that must answer a coroutine posts its completion back to the
// coroutine's ring (Ring::Post).
//
// Invariants: Stop() (and the destructor) refuse new jobs, run every job
// already posted, then join; so whatever a queued job refers to must outlive
// the pool's destruction.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"

namespace salvo {

class WorkerPool {
 public:
  // Threads are named `name` (see thread_name.h).
  explicit WorkerPool(int threads = 1, std::string_view name = "salvo-pool");
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Thread-safe. Returns false (and drops `job`) once stopping.
  bool Post(absl::AnyInvocable<void()> job);
  // Runs what is queued, then joins. Idempotent; not from a pool thread.
  void Stop();
  size_t size() const { return threads_.size(); }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace salvo
