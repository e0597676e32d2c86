// MultishotRecvStream: a prototype Stream whose receives come from one
// multishot recv (IORING_RECV_MULTISHOT, provided buffers) armed once per
// connection, instead of one recv SQE per read as Socket::ReadSome does. The
// echo bench uses it to measure what "multishot recv where it pays" would
// save per round trip. Writes go straight to the Socket.
//
// Limits of the prototype: reads take no deadline (the multishot op cannot
// carry a linked timeout); bytes that arrive while nobody reads are copied
// into pending_, and past kMaxPending the multishot is cancelled until the
// reader catches up (backpressure), so a flooding peer cannot grow memory.
// Close() must be awaited before destruction: the armed op points here.
#pragma once

#include <coroutine>
#include <string>

#include "engine/loop/ring.h"
#include "engine/net/socket.h"
#include "engine/net/stream.h"

namespace salvo::bench {

class MultishotRecvStream final : public Stream, private Completion {
 public:
  static constexpr size_t kMaxPending = 64 << 10;

  explicit MultishotRecvStream(Socket* socket) : socket_(socket) {}
  ~MultishotRecvStream() override;
  MultishotRecvStream(const MultishotRecvStream&) = delete;
  MultishotRecvStream& operator=(const MultishotRecvStream&) = delete;

  // `deadline` is ignored: see the header comment.
  Task<absl::StatusOr<size_t>> ReadSome(std::string& dst, Deadline deadline) override;
  Task<absl::Status> WriteAll(std::span<const std::string_view> parts, Deadline deadline) override {
    return socket_->WriteAll(parts, deadline);
  }
  Task<absl::Status> ShutdownWrite(Deadline deadline) override {
    return socket_->ShutdownWrite(deadline);
  }
  int fd() const override { return socket_->fd(); }

  // Cancels the multishot recv and waits for its last CQE.
  Task<void> Close();

 private:
  struct WaitAwaiter {
    MultishotRecvStream* s;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s->waiter_ = h; }
    void await_resume() const noexcept {}
  };

  void Arm();
  void OnCqe(int res, uint32_t flags) override;
  absl::StatusOr<size_t> TakePending(std::string& dst);

  Socket* socket_;
  Ring* ring_ = nullptr;
  bool armed_ = false;
  bool cancelling_ = false;
  bool eof_ = false;
  int error_ = 0;  // negative errno of a failed receive
  std::string pending_;
  std::coroutine_handle<> waiter_;
};

}  // namespace salvo::bench
