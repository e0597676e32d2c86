// Stream: a connected byte stream as the protocol sessions see it — a plain
// TCP Socket, or a TLS session layered over one (engine/tls). STARTTLS swaps
// the Stream under a session's LineReader/Writer without the session noticing.
//
// Errors: DeadlineExceeded (deadline passed), Cancelled (shard stopping),
// Unavailable (peer reset / broken pipe), others as their errno says.
// ReadSome returns 0 for an orderly end of stream.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"

namespace salvo {

class Stream {
 public:
  virtual ~Stream() = default;
  // Appends whatever arrives next (at least one byte, bounded by one receive
  // buffer) to `dst`; returns the number of bytes appended, 0 at end of stream.
  virtual Task<absl::StatusOr<size_t>> ReadSome(std::string& dst, Deadline deadline) = 0;
  // Writes every byte of every part, in order (gathered where possible).
  virtual Task<absl::Status> WriteAll(std::span<const std::string_view> parts,
                                      Deadline deadline) = 0;
  // Ends the write direction in an orderly way (TLS close_notify, TCP FIN).
  virtual Task<absl::Status> ShutdownWrite(Deadline deadline) = 0;
  // The socket underneath; for logs, cancellation and socket options.
  virtual int fd() const = 0;
};

// True when `s` reports the peer closing the connection mid-read.
bool IsEndOfStream(const absl::Status& s);
absl::Status EndOfStreamError();

}  // namespace salvo
