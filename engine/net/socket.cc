#include "engine/net/socket.h"

#include <netinet/tcp.h>
#include <poll.h>
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

// An awaitable ring operation counted as in flight on the socket, so that
// Cancel() knows whether to cancel it or the next one; a cancellation that
// ends it is used up. Wraps the awaiter without a coroutine frame of its own.
template <typename Op>
struct Socket::Tracked {
  Socket* socket;
  Op op;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    ++socket->in_flight_;
    op.await_suspend(h);
  }
  IoResult await_resume() {
    --socket->in_flight_;
    IoResult r = op.await_resume();
    if (r.res == -ECANCELED) socket->cancel_pending_ = false;
    return r;
  }
};

template <typename Op>
Socket::Tracked<Op> Socket::Track(Op op) {
  return Tracked<Op>{this, std::move(op)};
}

void Socket::Cancel() {
  cancel_pending_ = true;
  if (in_flight_ > 0) Ring::Current()->CancelFd(fd_.get());
}

namespace {

absl::Status CancelledByCaller() { return absl::CancelledError("socket operation cancelled"); }

// One non-blocking recv straight into `dst` through a buffer on the thread's
// stack (not a coroutine frame), so `dst` grows only by what arrived.
// Returns the byte count or -errno.
ssize_t ReceiveNow(int fd, std::string& dst) {
  char chunk[16384];
  ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n < 0) return -errno;
  dst.append(chunk, static_cast<size_t>(n));
  return n;
}

}  // namespace

Task<absl::StatusOr<size_t>> Socket::ReadSome(std::string& dst, Deadline deadline) {
  if (TakeCancel()) co_return CancelledByCaller();
  Ring* ring = Ring::Current();
  IoResult r = co_await Track(RecvSelect(fd_.get(), deadline));
  if (r.flags & IORING_CQE_F_BUFFER) {
    uint16_t bid = r.flags >> IORING_CQE_BUFFER_SHIFT;
    if (r.res > 0) dst.append(ring->buffers().View(bid, r.res));
    ring->buffers().Recycle(bid);
  }
  if (r.res == -ENOBUFS) co_return co_await ReadWithoutProvidedBuffer(dst, deadline);
  if (r.res < 0) co_return ErrnoStatus(r.res, "recv");
  co_return static_cast<size_t>(r.res);
}

// Every provided buffer is taken (the kernel picks one before it looks for
// data, so this happens to idle connections too). Waiting with a buffer of
// our own would pin it for as long as the peer is silent; instead wait for
// readability, which holds no memory, then receive at once.
Task<absl::StatusOr<size_t>> Socket::ReadWithoutProvidedBuffer(std::string& dst,
                                                               Deadline deadline) {
  for (;;) {  // ends at the deadline: each poll carries it
    ssize_t n = ReceiveNow(fd_.get(), dst);
    if (n >= 0) co_return static_cast<size_t>(n);
    if (n != -EAGAIN && n != -EINTR) co_return ErrnoStatus(static_cast<int>(n), "recv");
    if (TakeCancel()) co_return CancelledByCaller();
    IoResult p = co_await Track(PollOnce(fd_.get(), POLLIN, deadline));
    if (p.res < 0) co_return ErrnoStatus(p.res, "recv");
  }
}

Task<absl::StatusOr<size_t>> Socket::WriteSome(std::string_view data, Deadline deadline) {
  if (TakeCancel()) co_return CancelledByCaller();
  IoResult r = co_await Track(Send(fd_.get(), data.data(), data.size(), deadline));
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
    // Checked before every sendmsg: a Cancel() that came while the previous
    // one was completing ends the write here.
    if (TakeCancel()) co_return CancelledByCaller();
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
    IoResult r = co_await Track(SendMsg(fd_.get(), &msg, deadline));
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
