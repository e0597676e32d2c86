// Deadline: an absolute point on the monotonic clock. Every I/O await in
// Salvo takes one; io_uring gets it as an absolute CLOCK_MONOTONIC timeout.
#pragma once

#include <linux/time_types.h>

#include <chrono>

namespace salvo {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux
using Deadline = Clock::time_point;
using Duration = Clock::duration;

inline Deadline After(Duration d) { return Clock::now() + d; }
inline Deadline Never() { return Deadline::max(); }
inline bool IsNever(Deadline d) { return d == Deadline::max(); }

inline __kernel_timespec ToKernelTimespec(Deadline d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
  if (ns < 0) ns = 0;
  return __kernel_timespec{.tv_sec = ns / 1'000'000'000, .tv_nsec = ns % 1'000'000'000};
}

}  // namespace salvo
