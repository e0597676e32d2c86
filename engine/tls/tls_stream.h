// TlsStream: a TLS session layered over another Stream (normally the
// session's Socket), driven by the connection's coroutine. OpenSSL never
// touches the socket: it reads ciphertext from one memory BIO and writes
// ciphertext into another, and this class moves bytes between those BIOs and
// the transport with the transport's own awaits — so every wait honours the
// caller's Deadline and cancellation exactly like plain TCP.
//
//   SSL_read/SSL_write/SSL_do_handshake
//     WANT_READ  -> send what is pending in the write BIO, then
//                   transport->ReadSome() into the read BIO, retry
//     WANT_WRITE -> send what is pending, retry
//
// Ownership: the TlsStream does NOT own its transport; the caller keeps the
// transport (e.g. the session's Socket) alive for the TlsStream's lifetime.
// That is what lets STARTTLS upgrade in place (see starttls.h): the session
// keeps its Socket and points its LineReader/Writer at the TlsStream.
//
// Invariants:
//  - Memory is bounded: the read BIO holds at most one partial TLS record
//    plus one transport read (OpenSSL is only fed when it asks for more);
//    plaintext is encrypted at most kWriteBatch bytes at a time and the
//    resulting ciphertext is sent before more is encrypted; WriteAll copies
//    small parts into one staging record (<= 16 KiB), never the whole message.
//  - Small parts of a gathered WriteAll are coalesced into full records
//    (up to 16 KiB of plaintext each) instead of one record per part.
//  - One reader and one writer may be active at once (e.g. a pipelining
//    client reading replies while it writes). Ciphertext goes out in order:
//    whoever flushes drains the write BIO completely, and a second flusher
//    leaves the bytes to the one already sending.
//  - After a fatal TLS error the stream stays failed: every later call
//    returns that error. close_notify is never sent after a failure.
//
// Errors (in addition to the transport's, see stream.h):
//  - Unavailable: the peer broke the TLS protocol (garbage, bad MAC, alert,
//    or closed the TCP connection during the handshake);
//  - PermissionDenied: TlsVerify::kRequired and the peer's certificate did
//    not verify (untrusted chain, wrong name, expired); names the reason;
//  - FailedPrecondition: misuse (e.g. a server context used as a client).
// ReadSome returns 0 at the peer's close_notify, and also when the TCP
// connection ends without one (closed_without_close_notify() tells which; for
// SMTP a missing close_notify after QUIT is common and harmless).
//
// kTLS is not used: the memory BIOs keep OpenSSL off the socket, which is
// what lets io_uring drive every byte.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"
#include "engine/net/stream.h"
#include "engine/tls/tls_context.h"

struct ssl_st;  // SSL
struct bio_st;  // BIO

namespace salvo {

struct Completion;

enum class TlsRole { kClient, kServer };

class TlsStream final : public Stream {
 public:
  using Role = TlsRole;
  // Plaintext per TLS record (the protocol maximum).
  static constexpr size_t kMaxRecord = 16384;
  // Plaintext encrypted before the resulting ciphertext is sent.
  static constexpr size_t kWriteBatch = 4 * kMaxRecord;

  // Runs the TLS handshake over `transport` (not owned; must outlive the
  // result). `sni`: for a client, the host name sent as SNI and, unless
  // verification is off, checked against the certificate (an IP literal is
  // checked as an address and sent without SNI); ignored for a server.
  static Task<absl::StatusOr<std::unique_ptr<TlsStream>>> Handshake(TlsContext& context,
                                                                    Stream* transport, TlsRole role,
                                                                    std::string sni,
                                                                    Deadline deadline);

  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Task<absl::StatusOr<size_t>> ReadSome(std::string& dst, Deadline deadline) override;
  Task<absl::Status> WriteAll(std::span<const std::string_view> parts, Deadline deadline) override;
  // Sends close_notify, then ends the transport's write direction.
  Task<absl::Status> ShutdownWrite(Deadline deadline) override;
  int fd() const override;

  // What was negotiated, for logs and Received: headers.
  std::string_view protocol() const;  // "TLSv1.3"
  std::string_view cipher() const;    // "TLS_AES_256_GCM_SHA384"
  int cipher_bits() const;
  // Client: the SNI sent. Server: the SNI the client asked for ("" if none).
  const std::string& server_name() const { return server_name_; }
  // The peer presented a certificate that chains to the trust store and
  // names the host (always false with TlsVerify::kOff or for a server).
  bool peer_verified() const { return peer_verified_; }
  // Why it did not verify ("" when verified or not checked).
  const std::string& verify_error() const { return verify_error_; }
  // Subject of the peer's certificate, one line ("" if none was sent).
  const std::string& peer_subject() const { return peer_subject_; }
  // "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" plus
  // " verified" / " unverified" for a client.
  std::string Summary() const;
  bool closed_without_close_notify() const { return truncated_; }

  // TLS 1.3 KeyUpdate: new traffic keys for what we send next, and with
  // `ask_peer` for what the peer sends (for long-lived connections). The
  // message goes out with the next write. FailedPrecondition before TLS 1.3.
  absl::Status UpdateKeys(bool ask_peer);

 private:
  TlsStream(ssl_st* ssl, bio_st* rbio, bio_st* wbio, Stream* transport, TlsRole role);

  Task<absl::Status> RunHandshake(Deadline deadline);
  void RecordPeer(TlsVerify verify);
  // Sends everything in the write BIO (see the ordering invariant above);
  // returns at once if another flush is under way (it sends these bytes).
  Task<absl::Status> Flush(Deadline deadline);
  // Flush for the writer: first waits (within `deadline`) for a flush the
  // reader started, so the write BIO never holds more than one batch.
  Task<absl::Status> FlushAsWriter(Deadline deadline);
  // One transport read into the read BIO; false at end of stream.
  Task<absl::StatusOr<bool>> Fill(Deadline deadline);
  // Encrypts `plain` (<= kWriteBatch) into the write BIO.
  absl::Status Encrypt(std::string_view plain);
  Task<absl::Status> WriteParts(std::span<const std::string_view> parts, Deadline deadline);
  absl::Status Fail(absl::Status status);
  absl::Status ErrorFromSsl(int ret, std::string_view what);

  ssl_st* ssl_;
  bio_st* rbio_;  // ciphertext from the peer; owned by ssl_
  bio_st* wbio_;  // ciphertext to the peer; owned by ssl_
  Stream* transport_;
  TlsRole role_;
  std::string in_;       // one transport read on its way into rbio_
  std::string out_;      // ciphertext being sent by the active flusher
  std::string staging_;  // small parts coalesced into one record
  bool flushing_ = false;
  Completion* flush_waiter_ = nullptr;  // the writer's wait for a flush to end
  bool eof_ = false;
  bool truncated_ = false;
  bool shutdown_sent_ = false;
  absl::Status failed_;  // sticky fatal error
  bool peer_verified_ = false;
  std::string server_name_;
  std::string verify_error_;
  std::string peer_subject_;
};

}  // namespace salvo
