// Gate: counts the background tasks of one shard so that shutdown can wait for
// every one of them. Spawn() is the only way to start a detached task; once the
// gate is closed, Spawn() refuses new work and Close() resumes its caller when
// the last running task has finished. Single-threaded: one gate per shard.
#pragma once

#include <coroutine>
#include <cstddef>
#include <vector>

#include "engine/loop/task.h"

namespace salvo {

class Gate {
 public:
  Gate() = default;
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  bool closed() const { return closed_; }
  size_t active() const { return active_; }

  // Starts `task` now, detached; returns false (and drops the task) if the
  // gate is closed.
  bool Spawn(Task<void> task);

  // Closes the gate and waits until no spawned task is running.
  struct CloseAwaiter {
    Gate* gate;
    bool await_ready() const noexcept { return gate->active_ == 0; }
    void await_suspend(std::coroutine_handle<> h) { gate->waiters_.push_back(h); }
    void await_resume() const noexcept {}
  };
  CloseAwaiter Close() {
    closed_ = true;
    return CloseAwaiter{this};
  }

 private:
  friend struct GateHold;
  void Leave();

  bool closed_ = false;
  size_t active_ = 0;
  std::vector<std::coroutine_handle<>> waiters_;
};

}  // namespace salvo
