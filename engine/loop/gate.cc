#include "engine/loop/gate.h"

#include <exception>

namespace salvo {
namespace {

// A fire-and-forget coroutine: starts eagerly, frees its own frame at the end.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

}  // namespace

struct GateHold {
  static Detached Run(Gate* gate, Task<void> task) {
    co_await std::move(task);
    gate->Leave();
  }
};

bool Gate::Spawn(Task<void> task) {
  if (closed_) return false;
  ++active_;
  GateHold::Run(this, std::move(task));
  return true;
}

void Gate::Leave() {
  if (--active_ == 0 && !waiters_.empty()) {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto h : waiters) h.resume();
  }
}

}  // namespace salvo
