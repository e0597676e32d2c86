#include "engine/delivery/alarm.h"

#include <liburing.h>

#include <algorithm>

namespace salvo::delivery {

using namespace std::chrono_literals;

void Alarm::Arm(std::coroutine_handle<> h, Deadline deadline) {
  waiter_ = h;
  armed_ = true;
  cancel_sent_ = false;
  // A far deadline is capped; the waiter then sees a timeout and waits again.
  ts_ = ToKernelTimespec(std::min(deadline, After(24h)));
  Ring* ring = Ring::Current();
  io_uring_sqe* sqe = ring->GetSqe();
  io_uring_prep_timeout(sqe, &ts_, 0, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data(sqe, static_cast<Completion*>(this));
}

void Alarm::Wake() {
  woken_ = true;
  if (armed_ && !cancel_sent_) {
    cancel_sent_ = true;
    Ring::Current()->Cancel(this);
  }
}

void Alarm::OnCqe(int, uint32_t) {
  armed_ = false;
  std::coroutine_handle<> h = std::exchange(waiter_, {});
  h.resume();
}

}  // namespace salvo::delivery
