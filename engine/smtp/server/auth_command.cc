// AUTH (RFC 4954): PLAIN, LOGIN, CRAM-MD5 against the CredentialStore, with
// a growing delay after each failure, a per-session failure limit and a
// per-address one shared across sessions (AuthFailureLimiter).
#include <random>

#include "absl/strings/escaping.h"
#include "engine/base/strings.h"
#include "engine/loop/ops.h"
#include "engine/smtp/server/commands.h"
#include "engine/smtp/server/sasl.h"
#include "engine/smtp/server/server_session.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp::commands {
namespace {

bool MechanismOffered(const ServerOptions& o, SaslMechanism m) {
  return m != SaslMechanism::kCramMd5 ||
         (o.enable_cram_md5 && o.credentials->has_cram_md5_secrets());
}

// Strict RFC 4648 base64 ("=" alone is the empty initial response).
std::optional<std::string> DecodeBase64(std::string_view s) {
  if (s == "=") return std::string();
  if (s.size() % 4 != 0) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool pad = c == '=' && i >= s.size() - 2 && (i == s.size() - 1 || s[i + 1] == '=');
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || pad)) {
      return std::nullopt;
    }
  }
  std::string out;
  if (!absl::Base64Unescape(ToAbsl(s), &out)) return std::nullopt;
  return out;
}

std::string CramChallenge(const std::string& hostname) {
  std::random_device rd;
  uint64_t r = (uint64_t{rd()} << 32) | rd();
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return fmt::format("<{}.{}@{}>", r, now.count(), hostname);
}

// Runs the challenge/response exchange. nullopt: the client cancelled or
// sent garbage (the reply is queued); `*io` is set on a connection error.
Task<std::optional<SaslCredentials>> Exchange(ServerSession& s, SaslExchange& x,
                                              std::optional<std::string> initial,
                                              absl::Status* io) {
  SaslStep step = x.Start(initial ? std::optional<std::string_view>(*initial) : std::nullopt);
  while (step.kind == SaslStep::kChallenge) {
    s.Reply(MakeReply(334, "", absl::Base64Escape(step.challenge)), false);
    absl::StatusOr<std::string_view> line =
        co_await s.ReadLine(s.options().timeouts.command, s.options().limits.max_auth_line);
    if (!line.ok()) {
      if (absl::IsResourceExhausted(line.status())) {
        s.Reply(500, "5.5.6", "Authentication exchange line is too long");
        co_return std::nullopt;
      }
      *io = line.status();
      co_return std::nullopt;
    }
    if (*line == "*") {
      s.Reply(501, "5.0.0", "Authentication cancelled");
      co_return std::nullopt;
    }
    std::optional<std::string> decoded = DecodeBase64(*line);
    if (!decoded) {
      s.Reply(501, "5.5.2", "Cannot decode response");
      co_return std::nullopt;
    }
    step = x.Respond(*decoded);
  }
  if (step.kind == SaslStep::kMalformed) {
    s.Reply(501, "5.5.2", fmt::format("Malformed authentication response: {}", step.error));
    co_return std::nullopt;
  }
  co_return x.credentials();
}

Task<void> Failed(ServerSession& s, const std::string& user) {
  const ServerOptions& o = s.options();
  ++s.auth_failures;
  if (o.auth_failures) o.auth_failures->RecordFailure(s.client());
  spdlog::info("smtpd {}: AUTH failed for \"{}\" from {} ({} in this session)", s.session_id(),
               Printable(user, 64), s.client().HostString(), s.auth_failures);
  // A growing pause makes guessing slow without holding any thread.
  Duration delay =
      std::min(o.limits.auth_failure_delay * s.auth_failures, o.limits.max_auth_failure_delay);
  if (delay > Duration::zero()) co_await SleepFor(delay);
  if (s.auth_failures >= o.limits.max_auth_failures_per_session) {
    s.Reply(421, "4.7.0",
            fmt::format("{} Error: too many authentication failures; closing", o.hostname));
    s.closing = true;
    co_return;
  }
  s.Reply(535, "5.7.8", "Authentication credentials invalid");
}

}  // namespace

std::optional<SmtpReply> CheckAuth(const ServerSession& s, Command& c) {
  const ServerOptions& o = s.options();
  if (!o.credentials || o.credentials->empty()) {
    return MakeReply(503, "5.5.1", "Error: authentication not enabled");
  }
  if (!s.auth_offered()) {
    return MakeReply(538, "5.7.11", "Encryption required for requested authentication mechanism");
  }
  if (s.authenticated()) return MakeReply(503, "5.5.1", "Error: already authenticated");
  if (s.state != SessionState::kGreeted) {
    return MakeReply(503, "5.5.1", "Error: MAIL transaction in progress");
  }
  if (auto err = ParseAuth(c.line.args, &c.auth)) return err;
  auto mech = SaslMechanismFromName(c.auth.mechanism);
  if (!mech || !MechanismOffered(o, *mech)) {
    return MakeReply(504, "5.5.4", "Unrecognized authentication type");
  }
  if (c.auth.initial_response && !DecodeBase64(*c.auth.initial_response)) {
    return MakeReply(501, "5.5.2", "Cannot decode initial response");
  }
  return std::nullopt;
}

Task<absl::Status> ProceedAuth(ServerSession& s, Command& c) {
  const ServerOptions& o = s.options();
  if (o.auth_failures && o.auth_failures->Blocked(s.client())) {
    spdlog::warn("smtpd {}: AUTH from {} refused: too many recent failures", s.session_id(),
                 s.client().HostString());
    s.Reply(421, "4.7.0",
            fmt::format("{} Error: too many authentication failures; try again later", o.hostname));
    s.closing = true;
    co_return absl::OkStatus();
  }
  SaslMechanism mech = *SaslMechanismFromName(c.auth.mechanism);
  SaslExchange x(mech, mech == SaslMechanism::kCramMd5 ? CramChallenge(o.hostname) : "");
  std::optional<std::string> initial;
  if (c.auth.initial_response) initial = DecodeBase64(*c.auth.initial_response);
  absl::Status io;
  std::optional<SaslCredentials> creds = co_await Exchange(s, x, std::move(initial), &io);
  if (!io.ok()) co_return io;
  if (!creds) co_return absl::OkStatus();
  absl::Status flushed = co_await s.Flush();  // the verifier may take a while
  if (!flushed.ok()) co_return flushed;
  bool ok = co_await o.credentials->Verify(*creds);
  if (!ok) {
    co_await Failed(s, creds->username);
    co_return absl::OkStatus();
  }
  s.auth_user = creds->username;
  spdlog::info("smtpd {}: AUTH {} as \"{}\" from {}", s.session_id(), SaslMechanismName(mech),
               Printable(s.auth_user, 64), s.client().HostString());
  s.Reply(235, "2.7.0", "Authentication successful");
  co_return absl::OkStatus();
}

}  // namespace salvo::smtp::commands
