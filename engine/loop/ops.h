// Awaitable io_uring operations for coroutines on a Ring.
//
//   IoResult r = co_await RingOp(deadline, [&](io_uring_sqe* s) { io_uring_prep_...(s, ...); });
//
// One SQE is submitted (with a linked absolute timeout unless the deadline is
// Never) and the coroutine resumes on the ring's thread when its CQE arrives.
// res follows io_uring: >= 0 success, -errno failure; -ETIME means the
// deadline passed (the kernel reports the cancelled operation as -ECANCELED,
// translated here), -ECANCELED means it was cancelled (CancelFd, Cancel).
#pragma once

#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <coroutine>
#include <utility>

#include "engine/base/deadline.h"
#include "engine/loop/provided_buffers.h"
#include "engine/loop/ring.h"

namespace salvo {

struct IoResult {
  int res = 0;
  uint32_t flags = 0;
  bool ok() const { return res >= 0; }
};

template <typename Prep>
class [[nodiscard]] RingOpAwaiter final : public Completion {
 public:
  RingOpAwaiter(Deadline deadline, Prep prep) : deadline_(deadline), prep_(std::move(prep)) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    waiter_ = h;
    Ring* ring = Ring::Current();
    ring->Reserve(2);
    io_uring_sqe* sqe = ring->GetSqe();
    prep_(sqe);
    ring->Arm(sqe, this, deadline_);
  }
  IoResult await_resume() const noexcept { return result_; }

  void OnCqe(int res, uint32_t flags) override {
    if (res == -ECANCELED && !IsNever(deadline_) && Clock::now() >= deadline_) res = -ETIME;
    result_ = {res, flags};
    waiter_.resume();
  }

 private:
  Deadline deadline_;
  Prep prep_;
  std::coroutine_handle<> waiter_;
  IoResult result_;
};

template <typename Prep>
RingOpAwaiter<Prep> RingOp(Deadline deadline, Prep prep) {
  return RingOpAwaiter<Prep>(deadline, std::move(prep));
}

// Waits until `deadline` (or cancellation: res == -ECANCELED). res == -ETIME
// when the time has come.
class [[nodiscard]] SleepUntil final : public Completion {
 public:
  explicit SleepUntil(Deadline deadline) : ts_(ToKernelTimespec(deadline)) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    waiter_ = h;
    Ring* ring = Ring::Current();
    io_uring_sqe* sqe = ring->GetSqe();
    io_uring_prep_timeout(sqe, &ts_, 0, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data(sqe, static_cast<Completion*>(this));
  }
  IoResult await_resume() const noexcept { return result_; }
  void OnCqe(int res, uint32_t flags) override {
    result_ = {res, flags};
    waiter_.resume();
  }

 private:
  __kernel_timespec ts_;
  std::coroutine_handle<> waiter_;
  IoResult result_;
};

inline SleepUntil SleepFor(Duration d) { return SleepUntil(After(d)); }

// Receives into a buffer the kernel picks from the ring's provided buffers.
// On success res is the byte count and the buffer id is in flags; call
// Ring::buffers().Recycle(bid) once the bytes are consumed.
inline auto RecvSelect(int fd, Deadline deadline) {
  return RingOp(deadline, [fd](io_uring_sqe* sqe) {
    io_uring_prep_recv(sqe, fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = ProvidedBuffers::kGroupId;
  });
}

inline auto Recv(int fd, void* buf, size_t len, Deadline deadline) {
  return RingOp(deadline, [=](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf, len, 0); });
}

inline auto Send(int fd, const void* buf, size_t len, Deadline deadline) {
  return RingOp(deadline,
                [=](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL); });
}

inline auto SendMsg(int fd, const msghdr* msg, Deadline deadline) {
  return RingOp(deadline,
                [=](io_uring_sqe* sqe) { io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL); });
}

inline auto ConnectOp(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) {
  return RingOp(deadline, [=](io_uring_sqe* sqe) { io_uring_prep_connect(sqe, fd, addr, len); });
}

// Waits for `poll_mask` events on fd (POLLIN/POLLOUT); res is the revents.
inline auto PollOnce(int fd, unsigned poll_mask, Deadline deadline) {
  return RingOp(deadline, [=](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd, poll_mask); });
}

}  // namespace salvo
