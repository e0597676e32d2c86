// Socket: a connected TCP socket driven through the shard's ring. Receives
// use the ring's provided buffers; writes are gathered into one sendmsg.
// Listener: a listening socket (SO_REUSEPORT, so each shard binds its own)
// with a multishot accept. Connect(): outbound, with an optional source
// address (for source-IP pools).
#pragma once

#include <coroutine>
#include <deque>
#include <optional>

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

  SocketAddress PeerAddress() const;
  SocketAddress LocalAddress() const;
  void Close() { fd_.Reset(); }

 private:
  UniqueFd fd_;
};

struct ListenerOptions {
  int backlog = 4096;
  bool reuse_port = true;
};

class Listener {
 public:
  static absl::StatusOr<Listener> Bind(const SocketAddress& address,
                                       const ListenerOptions& options = {});
  Listener() = default;
  Listener(Listener&& o) noexcept;
  Listener& operator=(Listener&& o) noexcept;
  ~Listener();

  // The next accepted connection. Cancelled once Close() was called.
  Task<absl::StatusOr<Socket>> Accept(Deadline deadline);
  // Stops accepting: a pending Accept() returns Cancelled. Must run on the
  // ring's thread.
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
