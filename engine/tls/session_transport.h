// The connection steps the protocol server sessions (smtpd, pop3d, imapd)
// take alike: naming the session, cancelling its I/O on ring stop, implicit
// TLS at connect, flushing replies, sorting a failed read, the in-place
// STARTTLS / STLS upgrade, and the lingering close. Each session keeps its
// protocol texts, its state and what it forgets after TLS; these helpers
// only move bytes, sort errors and write the session's log lines.
//
// Invariants:
//  - After a successful upgrade the session's LineReader and Writer read
//    and write through the returned TlsStream, which the session must keep
//    alive as long as they are used; on failure they still point at the
//    plaintext socket and the connection is to be closed.
//  - Plaintext pipelined after STARTTLS / STLS is dropped, never read as if
//    it had come over TLS (CVE-2011-0411).
//  - The lingering close reads at most kMaxLingerBytes, and never past the
//    linger deadline.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/socket_address.h"
#include "engine/net/stream.h"
#include "engine/net/writer.h"
#include "engine/tls/tls_context.h"
#include "engine/tls/tls_stream.h"

namespace salvo {

// What a lingering close reads and drops at the most.
inline constexpr size_t kMaxLingerBytes = 1 << 20;

// Who writes a log line: "<daemon> <session_id>: ... <client> ...".
struct SessionLogName {
  std::string_view daemon;  // "smtpd", "pop3d", "imapd"
  std::string_view session_id;
  const SocketAddress* client = nullptr;
};

// A session id for logs (and SMTP's Received: id): 11 hex digits of the
// wall clock in microseconds, then 5 of a process-wide counter.
std::string NewSessionId();

// While alive: when the ring stops, sets `stopping` and cancels the
// socket's operation. Socket::Cancel is sticky: it also ends the next
// operation when the session is between two, and only that one, so the
// session's goodbye still goes out.
class CancelOnRingStop {
 public:
  CancelOnRingStop(Ring& ring, Socket& socket, bool& stopping);

 private:
  Ring::StopCallback callback_;
};

// Sends what `writer` holds within `timeout`, unless the connection is
// `broken` already; a failed write marks it broken (write nothing more).
Task<absl::Status> FlushReplies(Writer& writer, Duration timeout, bool& broken);

// How a server session answers a failed command read.
enum class ReadFailure {
  kLineTooLong,  // ResourceExhausted: answered, and the session reads on
  kTimeout,      // DeadlineExceeded: said so, then closed
  kShutdown,     // Cancelled, or the ring is stopping: said so, then closed
  kBroken,       // end of stream, a reset, a TLS failure: nobody to answer
};

// Sorts `status`; a kBroken one other than a plain end of stream is logged
// at debug level.
ReadFailure ClassifyReadFailure(const absl::Status& status, bool stopping,
                                const SessionLogName& log);

// Implicit TLS (SMTPS, POP3S, IMAPS): the server handshake over `socket`,
// then `reader` and `writer` go through the returned stream. A failure is
// logged ("TLS handshake with <client> failed") and returned.
Task<absl::StatusOr<std::unique_ptr<TlsStream>>> AcceptImplicitTls(
    TlsContext& context, Socket* socket, LineReader& reader, Writer& writer, Deadline deadline,
    const SessionLogName& log);

// STARTTLS / STLS once its positive reply is queued in `writer`: drops (and
// logs) what the client pipelined after `verb`, sends the reply, runs the
// server handshake and points `reader` and `writer` at the returned stream.
// A failure is logged ("<verb> with <client> failed") and returned; the
// peer is then mid-handshake, so nothing readable can be sent to it.
Task<absl::StatusOr<std::unique_ptr<TlsStream>>> UpgradeToTls(TlsContext& context, Socket* socket,
                                                              LineReader& reader, Writer& writer,
                                                              Deadline deadline,
                                                              std::string_view verb,
                                                              const SessionLogName& log);

// Ends our direction of `stream` (the replies are flushed already), then
// reads and drops what the client still sends — until it closes, `linger`
// passes, kMaxLingerBytes are read or `stopping` turns true — so the
// replies are not lost to a reset.
Task<void> LingeringClose(Stream& stream, Deadline linger, const bool& stopping);

}  // namespace salvo
