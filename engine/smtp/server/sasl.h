// SASL server mechanisms for SMTP AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN
// (draft-murchison-sasl-login) and CRAM-MD5 (RFC 2195), as I/O-free
// exchanges. The session does the base64 and the 334 lines; an exchange
// sees decoded bytes only:
//
//   SaslExchange x(SaslMechanism::kLogin, "");
//   SaslStep s = x.Start(initial_response);     // kChallenge "Username:"
//   s = x.Respond("alice");                     // kChallenge "Password:"
//   s = x.Respond("secret");                    // kDone: x.credentials()
//
// An exchange never verifies anything itself: kDone hands SaslCredentials to
// the CredentialStore (credentials.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace salvo::smtp {

enum class SaslMechanism { kPlain, kLogin, kCramMd5 };

// "PLAIN", "LOGIN", "CRAM-MD5" (upper case) -> mechanism.
std::optional<SaslMechanism> SaslMechanismFromName(std::string_view name);
std::string_view SaslMechanismName(SaslMechanism m);

struct SaslCredentials {
  SaslMechanism mechanism = SaslMechanism::kPlain;
  std::string username;  // the authentication identity
  // PLAIN's authorization identity; acting for another user is not
  // supported, so a non-empty one that differs from `username` fails.
  std::string authzid;
  std::string password;   // PLAIN / LOGIN
  std::string challenge;  // CRAM-MD5: the challenge sent
  std::string digest;     // CRAM-MD5: the client's hex HMAC-MD5
};

struct SaslStep {
  enum Kind { kChallenge, kDone, kMalformed } kind = kMalformed;
  std::string challenge;  // raw bytes to send base64-encoded (kChallenge)
  std::string error;      // why (kMalformed)
};

class SaslExchange {
 public:
  // `cram_challenge`: the CRAM-MD5 challenge ("<rand.time@host>"); unused
  // by the other mechanisms.
  SaslExchange(SaslMechanism mechanism, std::string cram_challenge);

  // `initial_response` is the decoded RFC 4954 initial response, if any.
  SaslStep Start(std::optional<std::string_view> initial_response);
  SaslStep Respond(std::string_view response);
  const SaslCredentials& credentials() const { return credentials_; }

 private:
  SaslStep Plain(std::string_view message);
  SaslStep Cram(std::string_view response);

  SaslCredentials credentials_;
  int step_ = 0;
};

}  // namespace salvo::smtp
