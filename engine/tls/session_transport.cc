#include "engine/tls/session_transport.h"

#include <atomic>
#include <chrono>
#include <cstdint>

#include "engine/tls/starttls.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo {

std::string NewSessionId() {
  static std::atomic<uint64_t> counter{0};
  uint64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  return fmt::format("{:011X}{:05X}", now & 0xFFFFFFFFFFFull, n & 0xFFFFF);
}

CancelOnRingStop::CancelOnRingStop(Ring& ring, Socket& socket, bool& stopping)
    : callback_(ring, [&socket, &stopping] {
        stopping = true;
        socket.Cancel();
      }) {}

Task<absl::Status> FlushReplies(Writer& writer, Duration timeout, bool& broken) {
  if (writer.pending() == 0 || broken) co_return absl::OkStatus();
  absl::Status st = co_await writer.Flush(After(timeout));
  if (!st.ok()) broken = true;
  co_return st;
}

ReadFailure ClassifyReadFailure(const absl::Status& status, bool stopping,
                                const SessionLogName& log) {
  if (absl::IsResourceExhausted(status)) return ReadFailure::kLineTooLong;
  if (absl::IsDeadlineExceeded(status)) return ReadFailure::kTimeout;
  if (absl::IsCancelled(status) || stopping) return ReadFailure::kShutdown;
  if (!IsEndOfStream(status)) {
    spdlog::debug("{} {}: {}: {}", log.daemon, log.session_id, log.client->ToString(),
                  status.ToString());
  }
  return ReadFailure::kBroken;
}

Task<absl::StatusOr<std::unique_ptr<TlsStream>>> AcceptImplicitTls(
    TlsContext& context, Socket* socket, LineReader& reader, Writer& writer, Deadline deadline,
    const SessionLogName& log) {
  absl::StatusOr<std::unique_ptr<TlsStream>> tls =
      co_await TlsStream::Handshake(context, socket, TlsRole::kServer, "", deadline);
  if (!tls.ok()) {
    spdlog::info("{} {}: TLS handshake with {} failed: {}", log.daemon, log.session_id,
                 log.client->ToString(), tls.status().ToString());
    co_return std::move(tls);
  }
  reader.set_stream(tls->get());
  writer.set_stream(tls->get());
  co_return std::move(tls);
}

Task<absl::StatusOr<std::unique_ptr<TlsStream>>> UpgradeToTls(TlsContext& context, Socket* socket,
                                                              LineReader& reader, Writer& writer,
                                                              Deadline deadline,
                                                              std::string_view verb,
                                                              const SessionLogName& log) {
  if (reader.buffered() > 0) {
    // Plaintext sent after the command would be read as if it came over TLS
    // (CVE-2011-0411): drop it, as Postfix does.
    spdlog::warn("{} {}: {} dropped {} byte(s) pipelined after {}", log.daemon, log.session_id,
                 log.client->ToString(), reader.buffered(), verb);
    reader.Clear();
  }
  absl::StatusOr<std::unique_ptr<TlsStream>> tls =
      co_await StartTls(context, socket, reader, writer, TlsRole::kServer, "", deadline);
  if (!tls.ok()) {
    spdlog::info("{} {}: {} with {} failed: {}", log.daemon, log.session_id, verb,
                 log.client->ToString(), tls.status().ToString());
  }
  co_return std::move(tls);
}

Task<void> LingeringClose(Stream& stream, Deadline linger, const bool& stopping) {
  absl::Status shut = co_await stream.ShutdownWrite(linger);
  if (!shut.ok()) co_return;
  size_t dropped = 0;
  std::string sink;
  while (dropped < kMaxLingerBytes && !stopping) {
    sink.clear();
    absl::StatusOr<size_t> n = co_await stream.ReadSome(sink, linger);
    if (!n.ok() || *n == 0) break;
    dropped += *n;
  }
}

}  // namespace salvo
