#include "engine/tls/starttls.h"

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"

namespace salvo {

absl::Status CheckNoPipelinedInput(const LineReader& reader) {
  if (reader.buffered() == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("STARTTLS refused: ", reader.buffered(),
                   " byte(s) of plaintext arrived after the command, before the TLS handshake "
                   "(command injection, CVE-2011-0411)"));
}

Task<absl::StatusOr<std::unique_ptr<TlsStream>>> StartTls(TlsContext& context, Stream* transport,
                                                          LineReader& reader, Writer& writer,
                                                          TlsRole role, std::string sni,
                                                          Deadline deadline) {
  CO_RETURN_IF_ERROR(CheckNoPipelinedInput(reader));
  CO_RETURN_IF_ERROR(co_await writer.Flush(deadline));
  CO_ASSIGN_OR_RETURN(
      std::unique_ptr<TlsStream> tls,
      co_await TlsStream::Handshake(context, transport, role, std::move(sni), deadline));
  reader.set_stream(tls.get());
  writer.set_stream(tls.get());
  co_return std::move(tls);
}

}  // namespace salvo
