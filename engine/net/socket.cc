#include "engine/net/socket.h"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/base/errno_status.h"
#include "engine/loop/ops.h"
#include "engine/loop/provided_buffers.h"
#include "spdlog/spdlog.h"

namespace salvo {

bool IsEndOfStream(const absl::Status& s) {
  return absl::IsOutOfRange(s) && s.message() == "connection closed by peer";
}
absl::Status EndOfStreamError() { return absl::OutOfRangeError("connection closed by peer"); }

Task<absl::StatusOr<size_t>> Socket::ReadSome(std::string& dst, Deadline deadline) {
  Ring* ring = Ring::Current();
  IoResult r = co_await RecvSelect(fd_.get(), deadline);
  if (r.res == -ENOBUFS) {
    // Every provided buffer is in use: read into our own memory this once.
    constexpr size_t kChunk = 4096;
    size_t old = dst.size();
    dst.resize(old + kChunk);
    r = co_await Recv(fd_.get(), dst.data() + old, kChunk, deadline);
    dst.resize(old + (r.res > 0 ? r.res : 0));
    if (r.res < 0) co_return ErrnoStatus(r.res, "recv");
    co_return static_cast<size_t>(r.res);
  }
  if (r.flags & IORING_CQE_F_BUFFER) {
    uint16_t bid = r.flags >> IORING_CQE_BUFFER_SHIFT;
    if (r.res > 0) dst.append(ring->buffers().View(bid, r.res));
    ring->buffers().Recycle(bid);
  }
  if (r.res < 0) co_return ErrnoStatus(r.res, "recv");
  co_return static_cast<size_t>(r.res);
}

Task<absl::StatusOr<size_t>> Socket::WriteSome(std::string_view data, Deadline deadline) {
  IoResult r = co_await Send(fd_.get(), data.data(), data.size(), deadline);
  if (r.res < 0) co_return ErrnoStatus(r.res, "send");
  co_return static_cast<size_t>(r.res);
}

Task<absl::Status> Socket::WriteAll(std::span<const std::string_view> parts, Deadline deadline) {
  absl::InlinedVector<iovec, 8> iov;
  iov.reserve(parts.size());
  for (std::string_view p : parts) {
    if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
  }
  size_t first = 0;
  while (first < iov.size()) {
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
    IoResult r = co_await SendMsg(fd_.get(), &msg, deadline);
    if (r.res < 0) co_return ErrnoStatus(r.res, "send");
    size_t n = static_cast<size_t>(r.res);
    while (first < iov.size() && n >= iov[first].iov_len) n -= iov[first++].iov_len;
    if (n > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + n;
      iov[first].iov_len -= n;
    }
  }
  co_return absl::OkStatus();
}

Task<absl::Status> Socket::ShutdownWrite(Deadline) {
  if (::shutdown(fd_.get(), SHUT_WR) < 0 && errno != ENOTCONN) {
    co_return ErrnoStatus(errno, "shutdown");
  }
  co_return absl::OkStatus();
}

SocketAddress Socket::PeerAddress() const {
  SocketAddress a;
  *a.mutable_len() = sizeof(sockaddr_storage);
  if (getpeername(fd_.get(), a.mutable_sa(), a.mutable_len()) < 0) return SocketAddress();
  return a;
}

SocketAddress Socket::LocalAddress() const {
  SocketAddress a;
  *a.mutable_len() = sizeof(sockaddr_storage);
  if (getsockname(fd_.get(), a.mutable_sa(), a.mutable_len()) < 0) return SocketAddress();
  return a;
}

// ---- Listener ------------------------------------------------------------

// The multishot accept and its optional wait timer. Owned by the Listener
// until Close(); after that it deletes itself when no CQE is outstanding.
struct Listener::State {
  struct AcceptOp : Completion {
    State* s;
    void OnCqe(int res, uint32_t flags) override { s->OnAccept(res, flags); }
  };
  struct TimerOp : Completion {
    State* s;
    __kernel_timespec ts{};
    void OnCqe(int res, uint32_t) override { s->OnTimer(res); }
  };

  UniqueFd fd;
  Ring* ring = nullptr;
  AcceptOp accept_op;
  TimerOp timer_op;
  bool accept_armed = false;
  bool timer_armed = false;
  bool closed = false;
  std::deque<int> ready;
  std::coroutine_handle<> waiter;
  absl::StatusOr<int>* result_slot = nullptr;  // in the waiting coroutine's frame

  static constexpr size_t kMaxReady = 4096;

  State() {
    accept_op.s = this;
    timer_op.s = this;
  }
  ~State() {
    for (int f : ready) ::close(f);
  }

  void Arm() {
    io_uring_sqe* sqe = ring->GetSqe();
    io_uring_prep_multishot_accept(sqe, fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data(sqe, static_cast<Completion*>(&accept_op));
    accept_armed = true;
  }

  // Hands `r` to the waiter and returns its handle; the caller resumes it
  // last, after every touch of this State (which the waiter may free).
  std::coroutine_handle<> Wake(absl::StatusOr<int> r) {
    *result_slot = std::move(r);
    result_slot = nullptr;
    if (timer_armed) ring->Cancel(&timer_op);
    return std::exchange(waiter, {});
  }

  void OnAccept(int res, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) accept_armed = false;
    std::coroutine_handle<> wake;
    if (res >= 0) {
      if (waiter) {
        wake = Wake(res);
      } else if (ready.size() < kMaxReady && !closed) {
        ready.push_back(res);
      } else {
        ::close(res);
      }
    } else if (res != -ECANCELED) {
      // EMFILE, ENFILE, ENOBUFS...: the listener stays up and re-arms.
      spdlog::warn("accept on fd {}: {}", fd.get(), std::strerror(-res));
    }
    if (!accept_armed && !closed && waiter) Arm();
    if (closed && waiter) wake = Wake(absl::CancelledError("listener closed"));
    MaybeFree();
    if (wake) wake.resume();
  }

  void OnTimer(int res) {
    timer_armed = false;
    std::coroutine_handle<> wake;
    if (res == -ETIME && waiter) wake = Wake(absl::DeadlineExceededError("accept deadline passed"));
    MaybeFree();
    if (wake) wake.resume();
  }

  void MaybeFree() {
    if (closed && !accept_armed && !timer_armed && !waiter) delete this;
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
  if (s->accept_armed) s->ring->CancelFd(s->fd.get());
  std::coroutine_handle<> wake;
  if (s->waiter) wake = s->Wake(absl::CancelledError("listener closed"));
  s->MaybeFree();
  if (wake) wake.resume();
}

Task<absl::StatusOr<Socket>> Listener::Accept(Deadline deadline) {
  State* s = state_;
  if (s == nullptr || s->closed) co_return absl::CancelledError("listener closed");
  if (!s->ready.empty()) {
    int f = s->ready.front();
    s->ready.pop_front();
    co_return Socket(UniqueFd(f));
  }
  s->ring = Ring::Current();
  if (!s->accept_armed) s->Arm();
  if (!IsNever(deadline)) {
    s->timer_op.ts = ToKernelTimespec(deadline);
    io_uring_sqe* sqe = s->ring->GetSqe();
    io_uring_prep_timeout(sqe, &s->timer_op.ts, 0, IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data(sqe, static_cast<Completion*>(&s->timer_op));
    s->timer_armed = true;
  }
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
  absl::StatusOr<int> got = co_await WaitAwaiter{s};
  if (!got.ok()) co_return got.status();
  co_return Socket(UniqueFd(*got));
}

// ---- Connect -------------------------------------------------------------

Task<absl::StatusOr<Socket>> Connect(SocketAddress remote, std::optional<SocketAddress> source,
                                     Deadline deadline) {
  UniqueFd fd(::socket(remote.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) co_return ErrnoStatus(errno, "socket");
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source.has_value()) {
    // Let connect() pick the port, so many connections can share the address.
    setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd.get(), source->sa(), source->len()) < 0) {
      co_return ErrnoStatus(errno, absl::StrCat("bind source ", source->ToString()));
    }
  }
  IoResult r = co_await ConnectOp(fd.get(), remote.sa(), remote.len(), deadline);
  if (r.res < 0) co_return ErrnoStatus(r.res, absl::StrCat("connect ", remote.ToString()));
  co_return Socket(std::move(fd));
}

}  // namespace salvo
