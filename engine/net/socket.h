// Socket: a connected TCP socket driven through the shard's ring. Receives
// use the ring's provided buffers (when every one is taken, a receive waits
// with a poll and reads from the stack, so a waiting read never holds memory
// of its own); writes are gathered into one sendmsg.
// Listener: a listening socket (SO_REUSEPORT, so each shard binds its own)
// with a multishot accept, implemented in listener.cc. Connect(): outbound,
// with an optional source address (for source-IP pools).
//
// Everything here runs on the ring's thread.
#pragma once

#include <coroutine>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/base/unique_fd.h"
#include "engine/loop/ring.h"
#include "engine/net/socket_address.h"
#include "engine/net/stream.h"

namespace salvo {

class Socket final : public Stream {
 public:
  Socket() = default;
  explicit Socket(UniqueFd fd) : fd_(std::move(fd)) {}
  Socket(Socket&&) = default;
  Socket& operator=(Socket&&) = default;

  Task<absl::StatusOr<size_t>> ReadSome(std::string& dst, Deadline deadline) override;
  Task<absl::Status> WriteAll(std::span<const std::string_view> parts, Deadline deadline) override;
  Task<absl::Status> ShutdownWrite(Deadline deadline) override;
  int fd() const override { return fd_.get(); }
  bool valid() const { return fd_.valid(); }

  // Raw single write; returns bytes written (may be short).
  Task<absl::StatusOr<size_t>> WriteSome(std::string_view data, Deadline deadline);

  // Ends the operation(s) in flight on this socket with Cancelled or, when
  // none is in flight (the session is between two operations, e.g. resumed
  // in the same batch of completions as the stop request), the next one to
  // start, at once and without touching the kernel. One-shot: the operation
  // after that runs normally, so a session told to stop can still send its
  // goodbye (SMTP's 421) with a short deadline; a caller that must not carry
  // on keeps its own "stopping" flag. If the operation in flight completes
  // before the cancellation reaches it, the next one is cancelled instead.
  // Prefer this to Ring::CancelFd(fd()), which reaches only what is in
  // flight at that instant.
  void Cancel();
  bool cancel_pending() const { return cancel_pending_; }

  SocketAddress PeerAddress() const;
  SocketAddress LocalAddress() const;
  void Close() { fd_.Reset(); }

 private:
  template <typename Op>
  struct Tracked;
  template <typename Op>
  Tracked<Op> Track(Op op);
  bool TakeCancel() { return std::exchange(cancel_pending_, false); }
  Task<absl::StatusOr<size_t>> ReadWithoutProvidedBuffer(std::string& dst, Deadline deadline);

  UniqueFd fd_;
  int in_flight_ = 0;  // ring operations on fd_ not yet completed
  bool cancel_pending_ = false;
};

struct ListenerOptions {
  int backlog = 4096;
  bool reuse_port = true;
};

class Listener {
 public:
  // Connections accepted ahead of Accept() calls before the accept pauses.
  static constexpr size_t kMaxReady = 4096;

  static absl::StatusOr<Listener> Bind(const SocketAddress& address,
                                       const ListenerOptions& options = {});
  // One listening socket per shard on `address`, sharing it by SO_REUSEPORT
  // (port 0: all on the port the first one got). Fails as a plain bind would
  // (FailedPrecondition, EADDRINUSE) when anything already listens there,
  // even another process's SO_REUSEPORT socket: two daemons started on the
  // same ports must not silently split the connections between their queues.
  static absl::StatusOr<std::vector<Listener>> BindShards(const SocketAddress& address, int shards,
                                                          const ListenerOptions& options = {});
  Listener() = default;
  Listener(Listener&& o) noexcept;
  Listener& operator=(Listener&& o) noexcept;
  ~Listener();

  // The next accepted connection; DeadlineExceeded when `deadline` passes
  // first; Cancelled once Close() was called. One Accept at a time.
  // Accept errors of the kernel (EMFILE, ENFILE, ENOBUFS...) are not
  // returned: they are logged and the accept is retried 100 ms later.
  // Connections the kernel completes while nobody waits queue in the
  // listener (up to kMaxReady; beyond that the accept pauses and the rest
  // wait in the kernel's backlog): no accepted connection is ever dropped.
  Task<absl::StatusOr<Socket>> Accept(Deadline deadline);
  // Stops accepting: a pending Accept() returns Cancelled, queued connections
  // are closed. Must run on the ring's thread; while the cancelled
  // operations' last CQEs are outstanding the listener holds the ring
  // (Ring::Hold), so Ring::Run reaps them before returning.
  void Close();
  const SocketAddress& address() const { return address_; }
  int fd() const;

 private:
  struct State;
  State* state_ = nullptr;  // frees itself once its last CQE has arrived
  SocketAddress address_;
};

// Connects to `remote`, binding `source` first when given.
Task<absl::StatusOr<Socket>> Connect(SocketAddress remote, std::optional<SocketAddress> source,
                                     Deadline deadline);

}  // namespace salvo
