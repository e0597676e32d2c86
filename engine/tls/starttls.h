// In-place STARTTLS (SMTP RFC 3207, POP3 STLS, IMAP STARTTLS): the session
// keeps its Socket, runs the TLS handshake over it, and points its
// LineReader and Writer at the resulting TlsStream.
//
// Invariant: no plaintext byte received before the handshake is ever read as
// if it had come through TLS. Bytes a peer pipelined after the STARTTLS
// command (or a man in the middle appended after the server's 220 reply) sit
// in the LineReader's buffer; the upgrade is refused while any are there.
// This is the STARTTLS command-injection bug class (CVE-2011-0411).
//
// Usage (server side, SMTP):
//   line = co_await reader.ReadLine(...)             // "STARTTLS"
//   if (!CheckNoPipelinedInput(reader).ok()) { reply 501 / close }
//   writer.Append("220 2.0.0 Ready to start TLS\r\n");
//   ASSIGN tls = co_await StartTls(ctx, &socket, reader, writer,
//                                  TlsRole::kServer, "", deadline);
//   // keep `tls` alive as long as reader/writer are used
//
// On failure the reader and writer still point at the plaintext transport,
// and the connection is to be closed (the handshake may have consumed bytes).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"
#include "engine/net/line_reader.h"
#include "engine/net/writer.h"
#include "engine/tls/tls_context.h"
#include "engine/tls/tls_stream.h"

namespace salvo {

// FailedPrecondition naming the byte count when `reader` holds input received
// after the STARTTLS command / the 220 reply.
absl::Status CheckNoPipelinedInput(const LineReader& reader);

// Checks the boundary, sends what `writer` holds (the server's 220 reply) in
// plaintext, runs the handshake over `transport` (not owned), then switches
// `reader` and `writer` to the returned stream.
Task<absl::StatusOr<std::unique_ptr<TlsStream>>> StartTls(TlsContext& context, Stream* transport,
                                                          LineReader& reader, Writer& writer,
                                                          TlsRole role, std::string sni,
                                                          Deadline deadline);

}  // namespace salvo
