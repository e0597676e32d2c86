#include "engine/smtp/server/sasl.h"

namespace salvo::smtp {
namespace {

SaslStep Challenge(std::string text) { return {SaslStep::kChallenge, std::move(text), {}}; }
SaslStep Done() { return {SaslStep::kDone, {}, {}}; }
SaslStep Malformed(std::string why) { return {SaslStep::kMalformed, {}, std::move(why)}; }

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

std::optional<SaslMechanism> SaslMechanismFromName(std::string_view name) {
  if (name == "PLAIN") return SaslMechanism::kPlain;
  if (name == "LOGIN") return SaslMechanism::kLogin;
  if (name == "CRAM-MD5") return SaslMechanism::kCramMd5;
  return std::nullopt;
}

std::string_view SaslMechanismName(SaslMechanism m) {
  switch (m) {
    case SaslMechanism::kPlain:
      return "PLAIN";
    case SaslMechanism::kLogin:
      return "LOGIN";
    case SaslMechanism::kCramMd5:
      return "CRAM-MD5";
  }
  return "?";
}

SaslExchange::SaslExchange(SaslMechanism mechanism, std::string cram_challenge) {
  credentials_.mechanism = mechanism;
  credentials_.challenge = std::move(cram_challenge);
}

SaslStep SaslExchange::Start(std::optional<std::string_view> initial_response) {
  switch (credentials_.mechanism) {
    case SaslMechanism::kPlain:
      if (!initial_response) return Challenge("");
      return Plain(*initial_response);
    case SaslMechanism::kLogin:
      if (!initial_response) return Challenge("Username:");
      step_ = 1;
      return Respond(*initial_response);
    case SaslMechanism::kCramMd5:
      // RFC 2195 has no initial response.
      if (initial_response) return Malformed("CRAM-MD5 takes no initial response");
      return Challenge(credentials_.challenge);
  }
  return Malformed("unknown mechanism");
}

SaslStep SaslExchange::Respond(std::string_view response) {
  switch (credentials_.mechanism) {
    case SaslMechanism::kPlain:
      return Plain(response);
    case SaslMechanism::kCramMd5:
      return Cram(response);
    case SaslMechanism::kLogin:
      if (HasNul(response)) return Malformed("NUL in LOGIN response");
      if (step_ <= 1) {
        credentials_.username = std::string(response);
        step_ = 2;
        return Challenge("Password:");
      }
      credentials_.password = std::string(response);
      return Done();
  }
  return Malformed("unknown mechanism");
}

// RFC 4616: [authzid] NUL authcid NUL passwd.
SaslStep SaslExchange::Plain(std::string_view m) {
  size_t a = m.find('\0');
  size_t b = a == std::string_view::npos ? a : m.find('\0', a + 1);
  if (b == std::string_view::npos || m.find('\0', b + 1) != std::string_view::npos) {
    return Malformed("PLAIN response must be authzid NUL authcid NUL password");
  }
  std::string_view authzid = m.substr(0, a);
  std::string_view authcid = m.substr(a + 1, b - a - 1);
  if (authcid.empty()) return Malformed("empty user name");
  credentials_.authzid = std::string(authzid);
  credentials_.username = std::string(authcid);
  credentials_.password = std::string(m.substr(b + 1));
  return Done();
}

// RFC 2195: "user SP hex-digest", the digest being 32 lower-case hex digits.
SaslStep SaslExchange::Cram(std::string_view r) {
  size_t sp = r.rfind(' ');
  if (sp == std::string_view::npos || sp == 0 || r.size() - sp - 1 != 32 || HasNul(r)) {
    return Malformed("CRAM-MD5 response must be user SP 32 hex digits");
  }
  credentials_.username = std::string(r.substr(0, sp));
  credentials_.digest = std::string(r.substr(sp + 1));
  for (char& c : credentials_.digest) {
    if (c >= 'A' && c <= 'F') c = c - 'A' + 'a';
  }
  return Done();
}

}  // namespace salvo::smtp
