#include "engine/dkim/signing_pool.h"

#include <cstdio>
#include <cstdlib>

#include "engine/loop/ring.h"

namespace salvo::dkim {

DkimSigningPool::DkimSigningPool(std::shared_ptr<const DkimSigner> signer, int threads)
    : signer_(std::move(signer)), workers_(threads, "dkim-sign") {}

// Every queued job runs (and posts its completion) before the workers join.
DkimSigningPool::~DkimSigningPool() { workers_.Stop(); }

DkimSigningPool::SignOp DkimSigningPool::Sign(std::string_view message,
                                              std::shared_ptr<const DkimBodyHash> body_hash) {
  return SignOp(this, signer(), message, std::move(body_hash));
}

DkimSigningPool::HashOp DkimSigningPool::HashBody(std::string_view body) {
  return HashOp([this, signer = signer(), body](HashOp::Done done) mutable {
    Enqueue([signer = std::move(signer), body, done = std::move(done)]() mutable {
      done(signer->HashBody(body));
    });
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

void DkimSigningPool::Enqueue(absl::AnyInvocable<void()> job) { workers_.Post(std::move(job)); }

DkimSigningPool::SignOp::Result DkimSigningPool::SignOp::Run() const {
  return body_hash_ ? signer_->Sign(message_, *body_hash_) : signer_->Sign(message_);
}

void DkimSigningPool::SignOp::await_suspend(std::coroutine_handle<> h) {
  Ring* ring = Ring::Current();
  if (ring == nullptr) {
    std::fputs("salvo: a DKIM SignOp was awaited off a ring thread; use Wait()\n", stderr);
    std::abort();
  }
  pool_->Enqueue([this, ring, h] {
    result_.emplace(Run());
    ring->Post([h] { h.resume(); });
  });
}

DkimSigningPool::SignOp::Result DkimSigningPool::SignOp::Wait() && {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  pool_->Enqueue([&] {
    result_.emplace(Run());
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();  // under the lock: the waiter cannot return before this ends
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return std::move(*result_);
}

}  // namespace salvo::dkim
