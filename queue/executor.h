// Executor: one thread that runs posted jobs in order. The spool's reads run
// here so that a ring thread never waits on RocksDB.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/functional/any_invocable.h"

namespace salvo::queue {

class Executor {
 public:
  Executor();
  ~Executor();  // runs every job already posted, then joins
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Thread-safe. Returns false (and drops `job`) once stopping.
  bool Post(absl::AnyInvocable<void()> job);
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  std::thread thread_;
};

}  // namespace salvo::queue
