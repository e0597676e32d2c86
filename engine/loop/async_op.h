// AsyncOp<R>: one operation run off the rings (the spool, the bounce
// mailbox, ...), not yet started, that the caller consumes
// in the way its thread allows (R is absl::Status or absl::StatusOr<T>):
//
//   co_await op         on a ring thread: starts it and resumes the coroutine on
//                       the same ring (through Ring::Post) once it is done;
//   std::move(op).Wait()   on any other thread (tools, benches, tests): blocks;
//   std::move(op).Then(f)  anywhere: `f` runs on the worker thread when done; it
//                       must be short and must not block.
//
// g++ 12 gotcha: do not pass a braced temporary as an argument inside the
// co_await expression (`co_await spool.RecordOutcome(due, {.kind = ...})`):
// g++ 12 mis-handles such temporaries in coroutine frames (a double free
// under ASan). Name the argument first, then co_await.
//
// Nothing happens until the op is consumed; an op dropped unconsumed does
// nothing. While a coroutine awaits, the op lives in its frame: the frame (and
// its ring) must outlive the operation, as for every other await in Salvo.
#pragma once

#include <condition_variable>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "engine/loop/ring.h"

namespace salvo {

template <typename R>
class [[nodiscard]] AsyncOp {
 public:
  using Done = absl::AnyInvocable<void(R)>;
  using Start = absl::AnyInvocable<void(Done)>;

  explicit AsyncOp(Start start) : start_(std::move(start)) {}
  // An op that is already finished (e.g. rejected before reaching the spool).
  static AsyncOp Ready(R result) {
    AsyncOp op(Start{});
    op.result_.emplace(std::move(result));
    return op;
  }

  AsyncOp(AsyncOp&&) = default;
  AsyncOp& operator=(AsyncOp&&) = default;

  bool await_ready() const noexcept { return result_.has_value(); }
  void await_suspend(std::coroutine_handle<> h) {
    Ring* ring = Ring::Current();
    if (ring == nullptr) {
      std::fputs("salvo: an AsyncOp was awaited off a ring thread; use Wait()\n", stderr);
      std::abort();
    }
    std::move(start_)([this, ring, h](R r) {
      result_.emplace(std::move(r));
      ring->Post([h] { h.resume(); });
    });
  }
  R await_resume() { return std::move(*result_); }

  R Wait() && {
    if (result_) return std::move(*result_);
    std::mutex mu;
    std::condition_variable cv;
    std::optional<R> out;
    std::move(start_)([&](R r) {
      std::lock_guard<std::mutex> lock(mu);
      out.emplace(std::move(r));
      cv.notify_one();  // under the lock: the waiter cannot return before this ends
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return out.has_value(); });
    return std::move(*out);
  }

  void Then(Done done) && {
    if (result_) {
      done(std::move(*result_));
      return;
    }
    std::move(start_)(std::move(done));
  }

 private:
  Start start_;
  std::optional<R> result_;
};

}  // namespace salvo
