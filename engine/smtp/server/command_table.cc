#include "engine/smtp/server/command_table.h"

#include "engine/smtp/server/commands.h"
#include "engine/smtp/server/server_reply.h"
#include "engine/smtp/server/server_session.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp {
namespace {

using namespace commands;

constexpr CommandSpec kTable[] = {
    {Verb::kEhlo, "EHLO", kNeedsArgs, "Syntax: EHLO <hostname>", CheckHelo, ProceedEhlo},
    {Verb::kHelo, "HELO", kNeedsArgs, "Syntax: HELO <hostname>", CheckHelo, ProceedHelo},
    {Verb::kMail, "MAIL", kNeedsArgs | kNeedsTls | kNeedsHelo | kNeedsAuth,
     "Syntax: MAIL FROM:<address>", CheckMail, ProceedMail},
    {Verb::kRcpt, "RCPT", kNeedsArgs | kNeedsTls | kNeedsHelo | kNeedsAuth,
     "Syntax: RCPT TO:<address>", CheckRcpt, ProceedRcpt},
    {Verb::kData, "DATA", kNoArgs | kNeedsTls | kNeedsHelo | kNeedsAuth, "Syntax: DATA", CheckData,
     ProceedData},
    {Verb::kBdat, "BDAT", kNeedsArgs | kNeedsTls | kNeedsHelo | kNeedsAuth | kHasPayload,
     "Syntax: BDAT <size> [LAST]", CheckBdat, ProceedBdat},
    {Verb::kRset, "RSET", kNoArgs, "Syntax: RSET", nullptr, ProceedRset},
    {Verb::kNoop, "NOOP", 0, "", nullptr, ProceedNoop},
    {Verb::kVrfy, "VRFY", kNeedsArgs | kNeedsTls, "Syntax: VRFY <address>", nullptr, ProceedVrfy},
    {Verb::kExpn, "EXPN", kNeedsArgs | kNeedsTls, "Syntax: EXPN <list>", nullptr, ProceedExpn},
    {Verb::kHelp, "HELP", 0, "", nullptr, ProceedHelp},
    {Verb::kQuit, "QUIT", kNoArgs, "Syntax: QUIT", nullptr, ProceedQuit},
    {Verb::kStartTls, "STARTTLS", kNoArgs, "Syntax: STARTTLS", CheckStartTls, ProceedStartTls},
    {Verb::kAuth, "AUTH", kNeedsArgs | kNeedsTls | kNeedsHelo,
     "Syntax: AUTH <mechanism> [initial-response]", CheckAuth, ProceedAuth},
};

// The rules the flags stand for, in order.
std::optional<SmtpReply> CheckFlags(const ServerSession& s, const CommandSpec& spec,
                                    const Command& c) {
  const ServerOptions& o = s.options();
  if ((spec.flags & kNoArgs) && !c.line.args.empty()) {
    return MakeReply(501, "5.5.4", fmt::format("{} (no parameters allowed)", spec.usage));
  }
  if ((spec.flags & kNeedsArgs) && c.line.args.empty()) return MakeReply(501, "5.5.4", spec.usage);
  if ((spec.flags & kNeedsTls) && o.require_tls && !s.tls_active()) {
    return MakeReply(530, "5.7.0", "Must issue a STARTTLS command first");
  }
  if ((spec.flags & kNeedsHelo) && s.state == SessionState::kConnected) {
    return MakeReply(503, "5.5.1", "Error: send HELO/EHLO first");
  }
  if ((spec.flags & kNeedsAuth) && o.require_auth && !s.authenticated()) {
    return MakeReply(530, "5.7.0", "Authentication required");
  }
  return std::nullopt;
}

}  // namespace

const CommandSpec* FindCommand(Verb verb) {
  for (const CommandSpec& spec : kTable) {
    if (spec.verb == verb) return &spec;
  }
  return nullptr;
}

Task<absl::Status> Dispatch(ServerSession& s, std::string_view line) {
  if (HasForbiddenBytes(line)) {
    s.Reply(500, "5.5.2", "Error: invalid characters in command");
    co_return absl::OkStatus();
  }
  Command c;
  c.line = SplitCommand(line);
  if (c.line.verb == Verb::kHttp) {
    // A web client or a proxy probe: nothing good can follow (Postfix's
    // smtpd_forbidden_commands).
    spdlog::info("smtpd {}: {} sent \"{}\"; closing", s.session_id(), s.client().ToString(),
                 Printable(line, 80));
    s.Reply(221, "2.7.0", "Error: this is an SMTP server; closing");
    s.closing = true;
    co_return absl::OkStatus();
  }
  const CommandSpec* spec = FindCommand(c.line.verb);
  if (spec == nullptr) {
    s.Reply(500, "5.5.2", "Error: command not recognized");
    co_return absl::OkStatus();
  }
  if (spec->flags & kHasPayload) {
    // The chunk size must be known to stay in step with the client; without
    // it the stream cannot be resynchronised.
    if (auto err = ParseBdat(c.line.args, &c.bdat)) {
      s.Reply(*err);
      s.closing = true;
      co_return absl::OkStatus();
    }
  }
  std::optional<SmtpReply> refusal = CheckFlags(s, *spec, c);
  if (!refusal && spec->check != nullptr) refusal = spec->check(s, c);
  if (refusal) {
    if (spec->flags & kHasPayload) {
      absl::Status st = co_await s.ReadChunk(c.bdat.size, nullptr);
      if (!st.ok()) co_return st;
    }
    s.Reply(std::move(*refusal));
    co_return absl::OkStatus();
  }
  co_return co_await spec->proceed(s, c);
}

}  // namespace salvo::smtp
