// MAIL and RCPT: the envelope, the relay rule and the suppression check.
#include "engine/smtp/server/commands.h"
#include "engine/smtp/server/server_session.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp::commands {

std::optional<SmtpReply> CheckMail(const ServerSession& s, Command& c) {
  if (s.state != SessionState::kGreeted)
    return MakeReply(503, "5.5.1", "Error: nested MAIL command");
  return ParseMail(c.line.args, s.options().limits.max_message_size, &c.mail);
}

Task<absl::Status> ProceedMail(ServerSession& s, Command& c) {
  s.BeginTransaction(std::move(c.mail));
  s.Reply(250, "2.1.0", "Ok");
  co_return absl::OkStatus();
}

std::optional<SmtpReply> CheckRcpt(const ServerSession& s, Command& c) {
  if (s.state == SessionState::kBdat) {
    return MakeReply(503, "5.5.1", "Error: RCPT not allowed during BDAT transfer");
  }
  if (s.state != SessionState::kMail && s.state != SessionState::kRcpt) {
    return MakeReply(503, "5.5.1", "Error: need MAIL command");
  }
  if (auto err = ParseRcpt(c.line.args, s.txn.mail.smtputf8, &c.rcpt)) return err;
  const ServerOptions& o = s.options();
  if (s.txn.recipients.size() >= o.limits.max_recipients) {
    return MakeReply(452, "4.5.3", "Error: too many recipients");
  }
  if (!o.relay.AcceptsRecipient(s.client(), s.authenticated(), c.rcpt.domain,
                                c.rcpt.forward_path)) {
    return MakeReply(550, "5.7.1",
                     fmt::format("<{}>: Relay access denied", Printable(c.rcpt.forward_path)));
  }
  return std::nullopt;
}

Task<absl::Status> ProceedRcpt(ServerSession& s, Command& c) {
  InboundRecipient r;
  r.address = std::move(c.rcpt.forward_path);
  r.notify = std::move(c.rcpt.notify);
  r.orcpt = std::move(c.rcpt.orcpt);
  const ServerOptions& o = s.options();
  if (o.suppression) {
    absl::StatusOr<std::optional<std::string>> hit = co_await o.suppression->Check(r.address);
    if (!hit.ok()) {
      spdlog::warn("smtpd {}: suppression check for <{}> failed: {}", s.session_id(),
                   Printable(r.address), hit.status().ToString());
      s.Reply(451, "4.3.0", fmt::format("<{}>: Temporary lookup failure", Printable(r.address)));
      co_return absl::OkStatus();
    }
    if (hit->has_value()) {
      if (o.suppression_action == SuppressionAction::kReject) {
        // A policy answer about one recipient, not a client error: not
        // counted towards max_errors (a campaign may hold many).
        s.Reply(MakeReply(550, "5.7.1",
                          fmt::format("<{}>: Recipient address is suppressed ({})",
                                      Printable(r.address), Printable(**hit, 120))),
                false);
        co_return absl::OkStatus();
      }
      r.suppressed = true;
      r.suppression_reason = std::move(**hit);
    }
  }
  s.txn.recipients.push_back(std::move(r));
  s.state = SessionState::kRcpt;
  s.Reply(250, "2.1.5", "Ok");
  co_return absl::OkStatus();
}

}  // namespace salvo::smtp::commands
