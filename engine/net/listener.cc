// Listener: a listening socket whose connections come from one multishot
// accept, armed lazily by the first Accept() that has to wait.
//
// Invariants of Listener::State (all on the ring's thread):
//  - at most one accept SQE is in flight (`accepting` until its last CQE,
//    the one without IORING_CQE_F_MORE);
//  - every accepted descriptor goes to the waiting Accept or to `ready`;
//    none is closed while the listener is open. When `ready` reaches
//    kMaxReady the multishot accept is cancelled (paused) and re-armed by the
//    Accept that finds `ready` empty; meanwhile the kernel backlog holds
//    further connections;
//  - each Accept with a deadline arms its own timer; timers of earlier
//    Accepts may still be in flight (a cancellation takes a round trip), so
//    they are counted, and a timer wakes the waiter only once the waiter's
//    own deadline has passed;
//  - after Close() the State belongs to nobody: it frees itself when no CQE
//    is outstanding (accept, timers, back-off), holding the ring until then
//    so that Ring::Run reaps those CQEs before it returns.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "absl/strings/str_cat.h"
#include "engine/base/errno_status.h"
#include "engine/loop/ops.h"
#include "engine/net/socket.h"
#include "spdlog/spdlog.h"

namespace salvo {

struct Listener::State {
  struct Op : Completion {
    State* s;
    void (State::*handler)(int, uint32_t);
    Op(State* state, void (State::*h)(int, uint32_t)) : s(state), handler(h) {}
    void OnCqe(int res, uint32_t flags) override { (s->*handler)(res, flags); }
  };

  static constexpr __kernel_timespec kBackoff{.tv_sec = 0, .tv_nsec = 100'000'000};

  UniqueFd fd;
  Ring* ring = nullptr;
  Op accept_op{this, &State::OnAccept};
  Op timer_op{this, &State::OnTimer};
  Op backoff_op{this, &State::OnBackoff};
  __kernel_timespec timer_ts{};  // read by the kernel when the SQE is submitted
  __kernel_timespec backoff_ts = kBackoff;
  bool accepting = false;    // the multishot accept's last CQE is due
  bool pausing = false;      // ... and it was cancelled: `ready` is full
  bool backing_off = false;  // an accept error's retry timer is due
  int timers = 0;            // Accept deadline timers in flight
  bool closed = false;
  bool holding_ring = false;
  std::deque<int> ready;
  std::coroutine_handle<> waiter;
  Deadline waiter_deadline = Never();
  absl::StatusOr<int>* result_slot = nullptr;  // in the waiting coroutine's frame

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    for (int f : ready) ::close(f);
  }

  bool Quiet() const { return !accepting && !backing_off && timers == 0 && !waiter; }

  void Arm() {
    io_uring_sqe* sqe = ring->GetSqe();
    io_uring_prep_multishot_accept(sqe, fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data(sqe, static_cast<Completion*>(&accept_op));
    accepting = true;
  }

  void ArmTimer(Deadline deadline) {
    timer_ts = ToKernelTimespec(deadline);
    io_uring_sqe* sqe = ring->GetSqe();
    io_uring_prep_timeout(sqe, &timer_ts, 0, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data(sqe, static_cast<Completion*>(&timer_op));
    ++timers;
  }

  // Cancels every deadline timer in flight. SQEs are issued in order, so a
  // timer armed after this call is not affected.
  void CancelTimers() {
    if (timers == 0) return;
    io_uring_sqe* sqe = ring->GetSqe();
    io_uring_prep_cancel(sqe, &timer_op, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, 0);
  }

  // Hands `r` to the waiter and returns its handle; the caller resumes it
  // last, after every touch of this State (which the waiter may free).
  std::coroutine_handle<> Wake(absl::StatusOr<int> r) {
    *result_slot = std::move(r);
    result_slot = nullptr;
    waiter_deadline = Never();
    CancelTimers();
    return std::exchange(waiter, {});
  }

  void OnAccept(int res, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) accepting = pausing = false;
    std::coroutine_handle<> wake;
    if (res >= 0) {
      if (waiter) {
        wake = Wake(res);
      } else if (closed) {
        ::close(res);  // nobody can Accept it any more
      } else {
        ready.push_back(res);
        if (ready.size() >= kMaxReady && accepting && !pausing) {
          ring->Cancel(&accept_op);  // CQEs already posted still queue above
          pausing = true;
        }
      }
    } else if (res != -ECANCELED && !closed) {
      // EMFILE, ENFILE, ENOBUFS...: the multishot has ended; retry shortly
      // rather than spin on an error that persists.
      spdlog::warn("accept on fd {}: {}; retrying in 100 ms", fd.get(), std::strerror(-res));
      backing_off = true;
      io_uring_sqe* sqe = ring->GetSqe();
      io_uring_prep_timeout(sqe, &backoff_ts, 0, 0);
      io_uring_sqe_set_data(sqe, static_cast<Completion*>(&backoff_op));
    }
    if (!accepting && !backing_off && !closed && waiter) Arm();
    Settle(wake);
  }

  void OnTimer(int res, uint32_t) {
    --timers;
    std::coroutine_handle<> wake;
    if (waiter && !IsNever(waiter_deadline)) {
      if (Clock::now() >= waiter_deadline) {
        wake = Wake(absl::DeadlineExceededError("accept deadline passed"));
      } else if (timers == 0) {
        ArmTimer(waiter_deadline);  // the waiter's own timer was cut short
      }
    }
    (void)res;  // -ETIME, or -ECANCELED: decided by the clock above either way
    Settle(wake);
  }

  void OnBackoff(int, uint32_t) {
    backing_off = false;
    if (!accepting && !closed && waiter) Arm();
    Settle({});
  }

  // Frees a closed, quiet State, then resumes `wake`.
  void Settle(std::coroutine_handle<> wake) {
    if (closed && Quiet()) {
      if (holding_ring) ring->Release();
      delete this;
    }
    if (wake) wake.resume();
  }
};

absl::StatusOr<Listener> Listener::Bind(const SocketAddress& address,
                                        const ListenerOptions& options) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus(errno, "socket");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (options.reuse_port) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (address.family() == AF_INET6)
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), address.sa(), address.len()) < 0) {
    return ErrnoStatus(errno, absl::StrCat("bind ", address.ToString()));
  }
  if (::listen(fd.get(), options.backlog) < 0) {
    return ErrnoStatus(errno, absl::StrCat("listen ", address.ToString()));
  }
  Listener l;
  l.state_ = new State();
  l.state_->fd = std::move(fd);
  l.address_ = SocketAddress();
  *l.address_.mutable_len() = sizeof(sockaddr_storage);
  getsockname(l.state_->fd.get(), l.address_.mutable_sa(), l.address_.mutable_len());
  return l;
}

absl::StatusOr<std::vector<Listener>> Listener::BindShards(const SocketAddress& address, int shards,
                                                           const ListenerOptions& options) {
  if (shards < 1) return absl::InvalidArgumentError("a listener needs at least one shard");
  if (address.port() != 0) {
    // A socket without SO_REUSEPORT cannot bind beside one that listens
    // (bind alone: a probe that listened could take a connection and drop it).
    UniqueFd probe(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe) return ErrnoStatus(errno, "socket");
    int one = 1;
    setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (address.family() == AF_INET6)
      setsockopt(probe.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(probe.get(), address.sa(), address.len()) < 0) {
      return ErrnoStatus(errno, absl::StrCat("bind ", address.ToString(),
                                             " (is another MTA or salvo listening there?)"));
    }
  }
  std::vector<Listener> out;
  SocketAddress at = address;
  for (int shard = 0; shard < shards; ++shard) {
    absl::StatusOr<Listener> bound = Bind(at, options);
    if (!bound.ok()) return bound.status();
    at = bound->address();
    out.push_back(std::move(bound).value());
  }
  return out;
}

Listener::Listener(Listener&& o) noexcept
    : state_(std::exchange(o.state_, nullptr)), address_(o.address_) {}

Listener& Listener::operator=(Listener&& o) noexcept {
  if (this != &o) {
    Close();
    state_ = std::exchange(o.state_, nullptr);
    address_ = o.address_;
  }
  return *this;
}

Listener::~Listener() { Close(); }

int Listener::fd() const { return state_ ? state_->fd.get() : -1; }

void Listener::Close() {
  State* s = std::exchange(state_, nullptr);
  if (s == nullptr) return;
  s->closed = true;
  for (int f : s->ready) ::close(f);
  s->ready.clear();
  std::coroutine_handle<> wake;
  if (s->waiter) {
    wake = s->Wake(absl::CancelledError("listener closed"));  // cancels the timers
  } else {
    s->CancelTimers();
  }
  if (s->accepting) s->ring->Cancel(&s->accept_op);
  if (s->backing_off) s->ring->Cancel(&s->backoff_op);
  if (!s->Quiet()) {
    s->ring->Hold();
    s->holding_ring = true;
  }
  s->Settle(wake);
}

Task<absl::StatusOr<Socket>> Listener::Accept(Deadline deadline) {
  State* s = state_;
  if (s == nullptr || s->closed) co_return absl::CancelledError("listener closed");
  if (!s->ready.empty()) {
    int f = s->ready.front();
    s->ready.pop_front();
    co_return Socket(UniqueFd(f));
  }
  if (s->waiter) co_return absl::FailedPreconditionError("another Accept is already waiting");
  s->ring = Ring::Current();
  if (!s->accepting && !s->backing_off) s->Arm();  // also resumes a paused accept
  s->waiter_deadline = deadline;
  if (!IsNever(deadline)) s->ArmTimer(deadline);
  struct WaitAwaiter {
    State* s;
    absl::StatusOr<int> got = -1;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      s->waiter = h;
      s->result_slot = &got;
    }
    absl::StatusOr<int> await_resume() { return std::move(got); }
  };
  // After the wake-up `s` may already be freed (Close()): touch it no more.
  // Named, not a braced temporary: g++ 12 may destroy a temporary awaiter
  // in a coroutine twice (a double unref of an error status here).
  WaitAwaiter wait{s};
  absl::StatusOr<int> got = co_await wait;
  if (!got.ok()) co_return got.status();
  co_return Socket(UniqueFd(*got));
}

}  // namespace salvo
