#include "engine/dkim/signing_pool.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "engine/base/thread_name.h"
#include "engine/loop/ring.h"

namespace salvo::dkim {

// One signing thread: runs jobs FIFO and batches the resumptions it owes to
// each ring (see the header comment).
class DkimSigningPool::Worker {
 public:
  explicit Worker(DkimSigningPool& pool) : pool_(pool) {}

  void Run() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(pool_.mu_);
        if (pool_.jobs_.empty() || held_ >= kMaxHeldCompletions) {
          lock.unlock();
          PostHeld();  // never sleep (nor keep sessions waiting) on held completions
          lock.lock();
        }
        ++pool_.idle_workers_;
        pool_.jobs_cv_.wait(lock, [this] { return pool_.stopping_ || !pool_.jobs_.empty(); });
        --pool_.idle_workers_;
        if (pool_.jobs_.empty()) return;  // stopping, and every queued job has run
        job = std::move(pool_.jobs_.front());
        pool_.jobs_.pop_front();
        pool_.queued_jobs_.store(pool_.jobs_.size(), std::memory_order_relaxed);
      }
      // Completions posted while a batch is open (this job's, and a body
      // hash's AsyncOp) reach their rings together when it closes.
      if (!batch_) batch_.emplace();
      auto started = std::chrono::steady_clock::now();
      job.work();
      pool_.RecordJobTime(std::chrono::steady_clock::now() - started);
      if (job.ring != nullptr) {
        job.ring->Post([h = job.resume] { h.resume(); });
        ++held_;
      }
    }
  }

 private:
  void PostHeld() {
    batch_.reset();
    held_ = 0;
  }

  DkimSigningPool& pool_;
  std::optional<Ring::PostBatch> batch_;
  size_t held_ = 0;
};

DkimSigningPool::DkimSigningPool(std::shared_ptr<const DkimSigner> signer, int threads)
    : signer_(std::move(signer)) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this] {
      NameCurrentThread("dkim-sign");
      Worker(*this).Run();
    });
  }
}

// Every queued job runs (and posts its completion) before the workers join.
DkimSigningPool::~DkimSigningPool() { Stop(); }

void DkimSigningPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  jobs_cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

DkimSigningPool::SignOp DkimSigningPool::Sign(std::string_view message,
                                              std::shared_ptr<const DkimBodyHash> body_hash) {
  return SignOp(this, signer(), message, std::move(body_hash));
}

DkimSigningPool::HashOp DkimSigningPool::HashBody(std::string_view body) {
  return HashOp([this, signer = signer(), body](HashOp::Done done) mutable {
    Enqueue({.work = [signer = std::move(signer), body, done = std::move(done)]() mutable {
      done(signer->HashBody(body));
    }});
  });
}

void DkimSigningPool::SetSigner(std::shared_ptr<const DkimSigner> signer) {
  std::lock_guard<std::mutex> lock(mu_);
  signer_ = std::move(signer);
}

std::shared_ptr<const DkimSigner> DkimSigningPool::signer() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signer_;
}

std::chrono::nanoseconds DkimSigningPool::queued_work() const {
  auto jobs = static_cast<int64_t>(queued_jobs_.load(std::memory_order_relaxed));
  auto workers = static_cast<int64_t>(std::max<size_t>(1, threads_.size()));
  return std::chrono::nanoseconds(jobs * average_job_ns_.load(std::memory_order_relaxed) / workers);
}

// Only workers write the average; a lost update between two of them costs
// one sample.
void DkimSigningPool::RecordJobTime(std::chrono::nanoseconds took) {
  int64_t average = average_job_ns_.load(std::memory_order_relaxed);
  int64_t sample = took.count();
  average = average == 0 ? sample : average + (sample - average) / 16;
  average_job_ns_.store(average, std::memory_order_relaxed);
}

void DkimSigningPool::Enqueue(Job job) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
    queued_jobs_.store(jobs_.size(), std::memory_order_relaxed);
    // A busy worker takes the job when it finishes its current one; waking
    // one costs the ring thread a futex call only when some worker sleeps.
    wake = idle_workers_ > 0;
  }
  if (wake) jobs_cv_.notify_one();
}

DkimSigningPool::SignOp::Result DkimSigningPool::SignOp::Run() const {
  return body_hash_ ? signer_->Sign(message_, *body_hash_) : signer_->Sign(message_);
}

void DkimSigningPool::SignOp::await_suspend(std::coroutine_handle<> h) {
  Ring* ring = Ring::Current();
  if (ring == nullptr) {
    std::fputs("salvo: a DKIM SignOp was awaited off a ring thread; use Wait()\n", stderr);
    std::abort();
  }
  pool_->Enqueue({.work = [this] { result_.emplace(Run()); }, .ring = ring, .resume = h});
}

DkimSigningPool::SignOp::Result DkimSigningPool::SignOp::Wait() && {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  pool_->Enqueue({.work = [&] {
    result_.emplace(Run());
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();  // under the lock: the waiter cannot return before this ends
  }});
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return std::move(*result_);
}

}  // namespace salvo::dkim
