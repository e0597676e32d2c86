// DkimSigningPool: worker threads that run DkimSigner::Sign so that the
// private-key operation (~0.25 ms for rsa2048, more than a ring should stall
// for one message) never runs on a ring thread; the signer's keys are used
// only on these threads.
//
//   std::string sig = co_await pool.Sign(message);   // on a ring: resumes on
//                                                    // the same ring (Post)
//   pool.Sign(message).Wait();                       // elsewhere: blocks
//
// Completions are batched: a worker that has signed for a ring holds the
// resumption while more jobs are queued, up to kMaxHeldCompletions, then
// hands them over in one Ring::PostBatch (one wake-up of each ring for
// several messages instead of one each). It never holds any while it has no
// job to run, so a held session waits at most kMaxHeldCompletions signatures.
// On a 2-core machine each ring wake-up costs tens of microseconds of CPU,
// a tenth of an rsa2048 signature (docs/benchmarks/dkim.md, session 5).
//
// Invariants: `message` (and the body hash, shared) must stay alive and
// unchanged until the op completes — it lives in the awaiting frame, as for
// every other await in Salvo. Jobs run FIFO. An op signs with the signer
// current when Sign() was called: SetSigner() (config reload) affects later
// ops only. The destructor finishes every queued job (posting each
// completion to its ring) before joining, so rings with awaiting coroutines
// must outlive the pool's destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "engine/dkim/dkim_signer.h"
#include "engine/loop/async_op.h"

namespace salvo::dkim {

class DkimSigningPool {
 public:
  class [[nodiscard]] SignOp;

  // Resumptions one worker holds for its rings before posting them.
  static constexpr size_t kMaxHeldCompletions = 4;

  // `threads` >= 1 workers signing with `signer`.
  DkimSigningPool(std::shared_ptr<const DkimSigner> signer, int threads);
  ~DkimSigningPool();
  DkimSigningPool(const DkimSigningPool&) = delete;
  DkimSigningPool& operator=(const DkimSigningPool&) = delete;

  // DkimSigner::Sign(message), or Sign(message, *body_hash) when given.
  SignOp Sign(std::string_view message, std::shared_ptr<const DkimBodyHash> body_hash = nullptr);
  // DkimSigner::HashBody(body) on a worker (`body` must outlive the op).
  using HashOp = AsyncOp<absl::StatusOr<DkimBodyHash>>;
  HashOp HashBody(std::string_view body);

  // The signer for ops started from now on (e.g. after a config reload).
  void SetSigner(std::shared_ptr<const DkimSigner> signer);
  std::shared_ptr<const DkimSigner> signer() const;
  size_t threads() const { return threads_.size(); }

  // About how long the workers need for the jobs queued now (not those
  // running): queued jobs x a running average of a job's time / workers.
  // Lock-free, for a ring deciding how to sleep (Ring::SetWakeBatching).
  std::chrono::nanoseconds queued_work() const;

 private:
  // `work` runs on a worker; then `resume` runs on `ring` (when set), posted
  // together with other completions for that ring.
  struct Job {
    absl::AnyInvocable<void()> work;
    Ring* ring = nullptr;
    std::coroutine_handle<> resume;
  };
  class Worker;

  void Enqueue(Job job);
  void RecordJobTime(std::chrono::nanoseconds took);
  void Stop();

  mutable std::mutex mu_;
  std::shared_ptr<const DkimSigner> signer_;  // guarded by mu_
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;  // guarded by mu_
  // jobs_.size(), and the workers' average job time (an exponentially
  // weighted average over about the last 16 jobs), for queued_work().
  std::atomic<size_t> queued_jobs_{0};
  std::atomic<int64_t> average_job_ns_{0};
  bool stopping_ = false;  // guarded by mu_
  int idle_workers_ = 0;   // guarded by mu_: waiting on jobs_cv_
  std::vector<std::thread> threads_;
};

class [[nodiscard]] DkimSigningPool::SignOp {
 public:
  using Result = absl::StatusOr<std::string>;

  SignOp(DkimSigningPool* pool, std::shared_ptr<const DkimSigner> signer, std::string_view message,
         std::shared_ptr<const DkimBodyHash> body_hash)
      : pool_(pool),
        signer_(std::move(signer)),
        message_(message),
        body_hash_(std::move(body_hash)) {}
  SignOp(SignOp&&) = default;

  bool await_ready() const noexcept { return false; }
  // Aborts when awaited off a ring thread (use Wait()).
  void await_suspend(std::coroutine_handle<> h);
  Result await_resume() { return std::move(*result_); }

  // Blocks the calling (non-ring) thread until signed.
  Result Wait() &&;

 private:
  Result Run() const;

  DkimSigningPool* pool_;
  std::shared_ptr<const DkimSigner> signer_;
  std::string_view message_;
  std::shared_ptr<const DkimBodyHash> body_hash_;
  std::optional<Result> result_;
};

}  // namespace salvo::dkim
