// STARTTLS (RFC 3207).
#include "engine/smtp/server/commands.h"
#include "engine/smtp/server/server_session.h"

namespace salvo::smtp::commands {

std::optional<SmtpReply> CheckStartTls(const ServerSession& s, Command&) {
  const ServerOptions& o = s.options();
  if (o.tls_mode != ServerTlsMode::kStartTls || !o.tls) {
    return MakeReply(502, "5.5.1", "Error: command not implemented");
  }
  if (s.tls_active()) return MakeReply(503, "5.5.1", "Error: TLS already active");
  return std::nullopt;
}

Task<absl::Status> ProceedStartTls(ServerSession& s, Command&) {
  s.Reply(220, "2.0.0", "Ready to start TLS");
  co_await s.StartTls();
  co_return absl::OkStatus();
}

}  // namespace salvo::smtp::commands
