// APOP (RFC 1939 §7): the client proves it knows a shared secret by sending
// MD5(timestamp || secret) in hex, where the timestamp is the msg-id the
// server put in its greeting.
//
// APOP needs a plaintext-equivalent secret, which a password hash cannot
// provide — the same trade-off as CRAM-MD5 (engine/smtp/server/credentials.h):
// the secret is the account's `cram_md5_secret`, stored recoverably in the
// config. Accounts without one cannot use APOP, and when no account has one
// the server offers no APOP at all. MD5 is weak: an eavesdropper can run a
// dictionary attack on a captured digest, which is why the session accepts
// APOP only where it accepts passwords (TLS, or a loopback client when
// plaintext auth is allowed).
//
// Thread-safe: immutable after construction. MD5 is cheap, so Verify runs
// on the ring; it costs the same for unknown users, and compares in
// constant time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/smtp/server/credentials.h"

namespace salvo::pop3 {

// Lower-case hex of MD5(timestamp || secret).
std::string ApopDigest(std::string_view timestamp, std::string_view secret);

// A fresh greeting timestamp "<pid.random.seconds@hostname>" (RFC 1939 §7:
// a msg-id unique to this greeting).
std::string ApopTimestamp(std::string_view hostname);

class ApopSecrets {
 public:
  // Keeps the accounts that have a cram_md5_secret.
  explicit ApopSecrets(const std::vector<smtp::UserAccount>& users);

  bool empty() const { return secrets_.empty(); }
  // True when `digest` (hex, either case) is MD5(timestamp || secret of user).
  bool Verify(std::string_view user, std::string_view timestamp, std::string_view digest) const;

 private:
  absl::flat_hash_map<std::string, std::string> secrets_;  // user -> secret
};

}  // namespace salvo::pop3
