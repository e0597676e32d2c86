// EHLO HELO RSET NOOP VRFY EXPN HELP QUIT.
#include "engine/smtp/server/commands.h"
#include "engine/smtp/server/server_session.h"
#include "fmt/format.h"

namespace salvo::smtp::commands {
namespace {

SmtpReply EhloReply(const ServerSession& s) {
  const ServerOptions& o = s.options();
  SmtpReply r;
  r.code = 250;
  r.lines.push_back(
      fmt::format("{} Hello {} [{}]", o.hostname, Printable(s.helo, 64), s.client().HostString()));
  r.lines.push_back("PIPELINING");
  r.lines.push_back(fmt::format("SIZE {}", o.limits.max_message_size));
  r.lines.push_back("8BITMIME");
  r.lines.push_back("SMTPUTF8");
  r.lines.push_back("ENHANCEDSTATUSCODES");
  r.lines.push_back("CHUNKING");
  r.lines.push_back("DSN");
  if (o.tls_mode == ServerTlsMode::kStartTls && o.tls && !s.tls_active()) {
    r.lines.push_back("STARTTLS");
  }
  if (s.auth_offered()) {
    bool cram = o.enable_cram_md5 && o.credentials->has_cram_md5_secrets();
    r.lines.push_back(cram ? "AUTH PLAIN LOGIN CRAM-MD5" : "AUTH PLAIN LOGIN");
  }
  return r;
}

Task<absl::Status> Greeted(ServerSession& s, Command& c, bool esmtp) {
  s.ResetTransaction();
  s.helo = std::move(c.helo);
  s.esmtp = esmtp;
  s.state = SessionState::kGreeted;
  if (esmtp) {
    s.Reply(EhloReply(s));
  } else {
    s.Reply(250, "", s.options().hostname);
  }
  co_return absl::OkStatus();
}

}  // namespace

std::optional<SmtpReply> CheckHelo(const ServerSession&, Command& c) {
  return ParseHelo(c.line.args, &c.helo);
}

Task<absl::Status> ProceedEhlo(ServerSession& s, Command& c) { return Greeted(s, c, true); }
Task<absl::Status> ProceedHelo(ServerSession& s, Command& c) { return Greeted(s, c, false); }

Task<absl::Status> ProceedRset(ServerSession& s, Command&) {
  s.ResetTransaction();
  s.Reply(250, "2.0.0", "Ok");
  co_return absl::OkStatus();
}

Task<absl::Status> ProceedNoop(ServerSession& s, Command&) {
  s.Reply(250, "2.0.0", "Ok");
  co_return absl::OkStatus();
}

// RFC 5321 §3.5.3: 252 when the server will not verify but will accept.
Task<absl::Status> ProceedVrfy(ServerSession& s, Command&) {
  s.Reply(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
  co_return absl::OkStatus();
}

Task<absl::Status> ProceedExpn(ServerSession& s, Command&) {
  s.Reply(502, "5.5.1", "Error: EXPN is not supported");
  co_return absl::OkStatus();
}

Task<absl::Status> ProceedHelp(ServerSession& s, Command&) {
  s.Reply(214, "2.0.0",
          "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS AUTH");
  co_return absl::OkStatus();
}

Task<absl::Status> ProceedQuit(ServerSession& s, Command&) {
  s.Reply(221, "2.0.0", "Bye");
  s.closing = true;
  co_return absl::OkStatus();
}

}  // namespace salvo::smtp::commands
