// Commands of any state and of the not-authenticated state (RFC 3501
// §6.1, §6.2): CAPABILITY, NOOP/CHECK, LOGOUT, ID (RFC 2971), ENABLE,
// STARTTLS, LOGIN, AUTHENTICATE PLAIN (with SASL-IR, RFC 4959).
//
// Login failures: a growing delay, a per-session limit (then BYE), and the
// per-address AuthFailureLimiter shared by every session of the listener.
// None of these commands touches the MailStore.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "engine/base/strings.h"
#include "engine/imap/command_table.h"
#include "engine/imap/imap_session.h"
#include "engine/loop/ops.h"
#include "engine/smtp/server/sasl.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::imap::commands {
namespace {

std::optional<std::string> DecodeBase64(std::string_view s) {
  if (s == "=") return std::string();
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out;
  if (!absl::Base64Unescape(ToAbsl(s), &out)) return std::nullopt;
  return out;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

// Verifies; answers the tag; on success the session is authenticated.
Task<absl::Status> Verify(ImapSession& s, const std::string& tag, smtp::SaslCredentials creds) {
  const ImapOptions& o = s.options();
  if (o.auth_failures && o.auth_failures->Blocked(s.client())) {
    s.Tagged(tag, "NO", "[UNAVAILABLE] Too many authentication failures; try again later");
    s.Untagged("BYE Too many authentication failures");
    s.closing = true;
    co_return absl::OkStatus();
  }
  absl::Status flushed = co_await s.Flush();  // the hash takes a while
  if (!flushed.ok()) co_return flushed;
  std::string user = creds.username;
  bool ok = co_await o.credentials->Verify(std::move(creds));
  if (ok) {
    s.user = user;
    s.state = SessionState::kAuthenticated;
    spdlog::info("imapd {}: login as \"{}\" from {}", s.session_id(), Printable(user),
                 s.client().HostString());
    s.Tagged(tag, "OK", fmt::format("[CAPABILITY {}] Logged in", s.Capabilities()));
    co_return absl::OkStatus();
  }
  ++s.auth_failures;
  if (o.auth_failures) o.auth_failures->RecordFailure(s.client());
  spdlog::info("imapd {}: login failed for \"{}\" from {} ({} in this session)", s.session_id(),
               Printable(user), s.client().HostString(), s.auth_failures);
  Duration delay =
      std::min(o.limits.auth_failure_delay * s.auth_failures, o.limits.max_auth_failure_delay);
  if (delay > Duration::zero()) co_await SleepFor(delay);
  s.Tagged(tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
  if (s.auth_failures >= o.limits.max_auth_failures_per_session) {
    s.Untagged("BYE Too many authentication failures");
    s.closing = true;
  }
  co_return absl::OkStatus();
}

}  // namespace

Task<absl::Status> Capability(ImapSession& s, ImapCommand& c) {
  s.Untagged("CAPABILITY " + s.Capabilities());
  s.Tagged(c.tag, "OK", "CAPABILITY completed");
  co_return absl::OkStatus();
}

Task<absl::Status> Noop(ImapSession& s, ImapCommand& c) {
  s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  co_return absl::OkStatus();
}

Task<absl::Status> Logout(ImapSession& s, ImapCommand& c) {
  s.Untagged("BYE Logging out");
  s.state = SessionState::kLogout;
  s.Tagged(c.tag, "OK", "LOGOUT completed");
  s.closing = true;
  co_return absl::OkStatus();
}

Task<absl::Status> Id(ImapSession& s, ImapCommand& c) {
  s.Untagged("ID (\"name\" \"Salvo\")");
  s.Tagged(c.tag, "OK", "ID completed");
  co_return absl::OkStatus();
}

Task<absl::Status> Enable(ImapSession& s, ImapCommand& c) {
  s.Untagged("ENABLED");  // nothing this server knows needs enabling
  s.Tagged(c.tag, "OK", "ENABLE completed");
  co_return absl::OkStatus();
}

Task<absl::Status> StartTls(ImapSession& s, ImapCommand& c) {
  if (!s.starttls_offered()) {
    s.Tagged(c.tag, "BAD", s.tls_active() ? "TLS already active" : "STARTTLS not available");
    co_return absl::OkStatus();
  }
  s.Tagged(c.tag, "OK", "Begin TLS negotiation now");
  co_await s.StartTls();
  co_return absl::OkStatus();
}

Task<absl::Status> Login(ImapSession& s, ImapCommand& c) {
  if (c.args.size() != 2 || !c.args[0].IsAString() || !c.args[1].IsAString()) {
    s.Tagged(c.tag, "BAD", "LOGIN needs a user name and a password");
    co_return absl::OkStatus();
  }
  if (!s.login_allowed()) {
    s.Tagged(c.tag, "NO", "[PRIVACYREQUIRED] LOGIN is disabled without TLS");
    co_return absl::OkStatus();
  }
  smtp::SaslCredentials creds;
  creds.mechanism = smtp::SaslMechanism::kPlain;
  creds.username = c.args[0].text;
  creds.password = c.args[1].text;
  absl::Status st = co_await Verify(s, c.tag, std::move(creds));
  co_return st;
}

Task<absl::Status> Authenticate(ImapSession& s, ImapCommand& c) {
  if (c.args.empty() || c.args.size() > 2 || c.args[0].kind != ImapArg::kAtom) {
    s.Tagged(c.tag, "BAD", "AUTHENTICATE needs a mechanism");
    co_return absl::OkStatus();
  }
  if (!c.args[0].IsAtom("PLAIN")) {
    s.Tagged(c.tag, "NO", "Unsupported authentication mechanism");
    co_return absl::OkStatus();
  }
  if (!s.login_allowed()) {
    s.Tagged(c.tag, "NO", "[PRIVACYREQUIRED] Authentication is disabled without TLS");
    co_return absl::OkStatus();
  }
  std::string response;
  if (c.args.size() == 2) {
    response = c.args[1].text;  // SASL-IR
  } else {
    s.Raw("+ \r\n");
    absl::StatusOr<std::string_view> line = co_await s.ReadLine(After(s.options().timeouts.idle));
    if (!line.ok()) {
      if (absl::IsResourceExhausted(line.status())) {
        s.Tagged(c.tag, "BAD", "Authentication line too long");
        co_return absl::OkStatus();
      }
      co_return line.status();
    }
    response = std::string(*line);
  }
  if (response == "*") {
    s.Tagged(c.tag, "BAD", "Authentication cancelled");
    co_return absl::OkStatus();
  }
  std::optional<std::string> decoded = DecodeBase64(response);
  if (!decoded) {
    s.Tagged(c.tag, "BAD", "Cannot decode the response");
    co_return absl::OkStatus();
  }
  smtp::SaslExchange x(smtp::SaslMechanism::kPlain, "");
  smtp::SaslStep step = x.Start(std::string_view(*decoded));
  if (step.kind != smtp::SaslStep::kDone) {
    s.Tagged(c.tag, "BAD", "Malformed PLAIN response");
    co_return absl::OkStatus();
  }
  absl::Status st = co_await Verify(s, c.tag, x.credentials());
  co_return st;
}

}  // namespace salvo::imap::commands
