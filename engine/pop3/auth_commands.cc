// AUTHORIZATION-state commands: USER/PASS and APOP (RFC 1939 §7), AUTH
// (RFC 5034: PLAIN, LOGIN, and CRAM-MD5 where APOP secrets exist), STLS
// (RFC 2595), CAPA (RFC 2449), and QUIT in either state.
//
// Every login path ends in Pop3Session::Login (lock + view) or LoginFailed
// (growing delay, per-session and per-address limits); passwords are
// verified by the CredentialStore off the ring.
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "engine/base/strings.h"
#include "engine/pop3/commands.h"
#include "engine/pop3/session.h"
#include "engine/smtp/server/sasl.h"
#include "fmt/format.h"

namespace salvo::pop3::commands {
namespace {

using smtp::SaslCredentials;
using smtp::SaslExchange;
using smtp::SaslMechanism;
using smtp::SaslStep;

// Strict RFC 4648 base64 ("=" alone is the empty initial response).
std::optional<std::string> DecodeBase64(std::string_view s) {
  if (s == "=") return std::string();
  if (s.size() % 4 != 0) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool pad = c == '=' && i >= s.size() - 2 && (i == s.size() - 1 || s[i + 1] == '=');
    if (!(absl::ascii_isalnum(c) || c == '+' || c == '/' || pad)) return std::nullopt;
  }
  std::string out;
  if (!absl::Base64Unescape(ToAbsl(s), &out)) return std::nullopt;
  return out;
}

bool CramOffered(const Pop3Session& s) { return s.options().apop && !s.options().apop->empty(); }

std::optional<SaslMechanism> OfferedMechanism(const Pop3Session& s, std::string_view name) {
  std::string upper = absl::AsciiStrToUpper(ToAbsl(name));
  std::optional<SaslMechanism> m = smtp::SaslMechanismFromName(upper);
  if (m == SaslMechanism::kCramMd5 && !CramOffered(s)) return std::nullopt;
  return m;
}

// Answers and returns false unless logins are possible on this connection.
bool LoginAllowed(Pop3Session& s) {
  if (s.auth_offered()) return true;
  const Pop3Options& o = s.options();
  if (!o.credentials || o.credentials->empty()) {
    s.Err("[AUTH] Authentication not available", false);
  } else {
    s.Err("[AUTH] Plaintext authentication disallowed; use STLS or the TLS port", false);
  }
  return false;
}

// Verifies `creds` off the ring, then logs in or counts the failure.
Task<absl::Status> VerifyAndLogin(Pop3Session& s, SaslCredentials creds,
                                  std::string_view mechanism) {
  absl::Status flushed = co_await s.Flush();  // the verifier may take a while
  if (!flushed.ok()) co_return flushed;
  std::string name = creds.username;
  bool ok = co_await s.options().credentials->Verify(std::move(creds));
  if (ok) {
    s.Login(name, mechanism);
  } else {
    co_await s.LoginFailed(name, mechanism);
  }
  co_return absl::OkStatus();
}

// The AUTH challenge/response exchange. nullopt: the client cancelled or
// sent garbage (the reply is queued); `*io` is set on a connection error.
Task<std::optional<SaslCredentials>> Exchange(Pop3Session& s, SaslExchange& x,
                                              std::optional<std::string> initial,
                                              absl::Status* io) {
  SaslStep step = x.Start(initial ? std::optional<std::string_view>(*initial) : std::nullopt);
  while (step.kind == SaslStep::kChallenge) {
    s.Line(fmt::format("+ {}", ToStd(absl::Base64Escape(step.challenge))));
    absl::StatusOr<std::string_view> line = co_await s.ReadLine(s.options().limits.max_sasl_line);
    if (!line.ok()) {
      if (absl::IsResourceExhausted(line.status())) {
        s.Err("Authentication response too long");
        co_return std::nullopt;
      }
      *io = line.status();
      co_return std::nullopt;
    }
    if (*line == "*") {
      s.Err("Authentication cancelled", false);
      co_return std::nullopt;
    }
    std::optional<std::string> decoded = DecodeBase64(*line);
    if (!decoded) {
      s.Err("Cannot decode response");
      co_return std::nullopt;
    }
    step = x.Respond(*decoded);
  }
  if (step.kind == SaslStep::kMalformed) {
    s.Err(fmt::format("Malformed authentication response: {}", step.error));
    co_return std::nullopt;
  }
  co_return x.credentials();
}

}  // namespace

Task<absl::Status> User(Pop3Session& s, const Command& c) {
  if (!LoginAllowed(s)) co_return absl::OkStatus();
  s.user = c.args[0];
  // The same answer whether the user exists or not.
  s.Ok("Send PASS");
  co_return absl::OkStatus();
}

Task<absl::Status> Pass(Pop3Session& s, const Command& c) {
  if (!LoginAllowed(s)) co_return absl::OkStatus();
  if (s.user.empty()) {
    s.Err("USER first");
    co_return absl::OkStatus();
  }
  std::string name = std::exchange(s.user, std::string());
  if (s.LoginBlocked()) co_return absl::OkStatus();
  SaslCredentials creds;
  creds.mechanism = SaslMechanism::kPlain;
  creds.username = std::move(name);
  creds.password = c.rest;
  absl::Status st = co_await VerifyAndLogin(s, std::move(creds), "USER");
  co_return st;
}

Task<absl::Status> Apop(Pop3Session& s, const Command& c) {
  if (!s.apop_offered()) {
    s.Err("APOP not available");
    co_return absl::OkStatus();
  }
  if (!LoginAllowed(s) || s.LoginBlocked()) co_return absl::OkStatus();
  const std::string& name = c.args[0];
  if (s.options().apop->Verify(name, s.apop_timestamp(), c.args[1])) {
    s.Login(name, "APOP");
  } else {
    co_await s.LoginFailed(name, "APOP");
  }
  co_return absl::OkStatus();
}

Task<absl::Status> Auth(Pop3Session& s, const Command& c) {
  if (!LoginAllowed(s)) co_return absl::OkStatus();
  if (c.args.empty()) {  // RFC 1734's listing form, which some clients still send
    s.Ok("Supported mechanisms follow");
    s.Line("PLAIN");
    s.Line("LOGIN");
    if (CramOffered(s)) s.Line("CRAM-MD5");
    s.Line(".");
    co_return absl::OkStatus();
  }
  std::optional<SaslMechanism> mech = OfferedMechanism(s, c.args[0]);
  if (!mech) {
    s.Err("Unrecognized authentication mechanism");
    co_return absl::OkStatus();
  }
  std::optional<std::string> initial;
  if (c.args.size() == 2) {
    initial = DecodeBase64(c.args[1]);
    if (!initial) {
      s.Err("Cannot decode initial response");
      co_return absl::OkStatus();
    }
  }
  if (s.LoginBlocked()) co_return absl::OkStatus();
  SaslExchange x(*mech, *mech == SaslMechanism::kCramMd5 ? ApopTimestamp(s.options().hostname)
                                                         : std::string());
  absl::Status io;
  std::optional<SaslCredentials> creds = co_await Exchange(s, x, std::move(initial), &io);
  if (!io.ok()) co_return io;
  if (!creds) co_return absl::OkStatus();
  std::string mechanism = fmt::format("AUTH {}", smtp::SaslMechanismName(*mech));
  absl::Status st = co_await VerifyAndLogin(s, std::move(*creds), mechanism);
  co_return st;
}

Task<absl::Status> Stls(Pop3Session& s, const Command&) {
  if (s.tls_active()) {
    s.Err("TLS already active");
    co_return absl::OkStatus();
  }
  if (!s.stls_offered()) {
    s.Err("STLS not available");
    co_return absl::OkStatus();
  }
  s.Ok("Begin TLS negotiation");
  co_await s.StartTls();
  co_return absl::OkStatus();
}

Task<absl::Status> Capa(Pop3Session& s, const Command&) {
  s.Ok("Capability list follows");
  s.Line("TOP");
  s.Line("UIDL");
  s.Line("RESP-CODES");
  s.Line("AUTH-RESP-CODE");
  s.Line("PIPELINING");
  if (s.state == SessionState::kAuthorization) {
    if (s.auth_offered()) {
      s.Line("USER");
      s.Line(CramOffered(s) ? "SASL PLAIN LOGIN CRAM-MD5" : "SASL PLAIN LOGIN");
    }
    if (s.stls_offered()) s.Line("STLS");
  }
  s.Line("IMPLEMENTATION Salvo");
  s.Line(".");
  co_return absl::OkStatus();
}

Task<absl::Status> Quit(Pop3Session& s, const Command&) {
  if (s.state == SessionState::kTransaction) {
    co_await s.Update();
    co_return absl::OkStatus();
  }
  s.Ok(fmt::format("{} POP3 server signing off", s.options().hostname));
  s.closing = true;
  co_return absl::OkStatus();
}

}  // namespace salvo::pop3::commands
