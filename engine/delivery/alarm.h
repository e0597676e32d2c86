// Alarm: a wait that ends at a deadline or when someone calls Wake(), for
// coroutines on one ring: an idle connection waiting for work, a session
// waiting for its rate slot, the feeder waiting for mail. Wake() cancels the
// pending timeout through the ring, so a waiter costs no polling.
//
//   bool woken = co_await alarm.Wait(After(10s));
//
// Invariants: one waiter at a time; the Alarm lives in the waiter's frame (or
// longer), so it outlives its CQE. A Wake() that races with the timeout is
// not lost: the waiter still sees woken == true. Wake() before Wait() is
// remembered for the next Wait(). Single-threaded (the ring's thread).
#pragma once

#include <coroutine>

#include "engine/base/deadline.h"
#include "engine/loop/ring.h"

namespace salvo::delivery {

class Alarm final : public Completion {
 public:
  Alarm() = default;
  Alarm(const Alarm&) = delete;
  Alarm& operator=(const Alarm&) = delete;

  struct Awaiter {
    Alarm* alarm;
    Deadline deadline;
    bool await_ready() const noexcept { return alarm->woken_ || deadline <= Clock::now(); }
    void await_suspend(std::coroutine_handle<> h) { alarm->Arm(h, deadline); }
    bool await_resume() const noexcept { return alarm->TakeWoken(); }
  };
  // True when woken, false when the deadline passed.
  Awaiter Wait(Deadline deadline) { return Awaiter{this, deadline}; }
  void Wake();
  bool waiting() const { return armed_; }

  void OnCqe(int res, uint32_t flags) override;

 private:
  void Arm(std::coroutine_handle<> h, Deadline deadline);
  bool TakeWoken() {
    bool w = woken_;
    woken_ = false;
    return w;
  }

  __kernel_timespec ts_{};
  std::coroutine_handle<> waiter_;
  bool armed_ = false;
  bool woken_ = false;
  bool cancel_sent_ = false;
};

}  // namespace salvo::delivery
