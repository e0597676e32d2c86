// Credentials of the users allowed to AUTH on the submission listeners, and
// their verification.
//
// Passwords are stored as PBKDF2-HMAC-SHA256 hashes (OpenSSL 3 EVP_KDF) in
// the text form
//     pbkdf2-sha256$<iterations>$<base64 salt>$<base64 derived key>
// (16-byte random salt, 32-byte key; at least 1,000 iterations, 600,000 by
// default as OWASP recommends for PBKDF2-SHA256). HashPassword() makes one;
// the daemon's command line can offer it to operators.
//
// CRAM-MD5 trade-off: the server must compute HMAC-MD5(secret, challenge),
// so it needs a plaintext-equivalent secret, which a hash cannot provide. A
// user gets CRAM-MD5 only if its account carries `cram_md5_secret`
// (stored recoverably, in the clear in the config), and the listener offers
// CRAM-MD5 only when it is switched on (ServerOptions::enable_cram_md5, off
// by default). Prefer PLAIN/LOGIN over TLS with hashed passwords.
//
// Verification runs PBKDF2 on the store's own worker threads, never on a
// ring thread (a 600,000-iteration hash takes a noticeable fraction of a
// second), and resumes the caller on its ring. An unknown user costs the
// same hash as a known one, so timing does not reveal which names exist.
// Comparisons are constant-time.
//
// Thread-safety: immutable after Create(); Verify() may be called from any
// ring. The store must outlive every session using it.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "engine/base/worker_pool.h"
#include "engine/loop/task.h"
#include "engine/smtp/server/sasl.h"

namespace salvo::smtp {

inline constexpr int kDefaultPbkdf2Iterations = 600000;
inline constexpr int kMinPbkdf2Iterations = 1000;

struct UserAccount {
  std::string name;
  std::string password_hash;    // "pbkdf2-sha256$..." (see above)
  std::string cram_md5_secret;  // plaintext-equivalent; empty: no CRAM-MD5 for this user
};

absl::StatusOr<std::string> HashPassword(std::string_view password,
                                         int iterations = kDefaultPbkdf2Iterations);
// InvalidArgument for a malformed hash; otherwise whether `password` matches.
absl::StatusOr<bool> VerifyPassword(std::string_view encoded, std::string_view password);
absl::Status ValidatePasswordHash(std::string_view encoded);
// RFC 2195: lower-case hex of HMAC-MD5(secret, challenge).
std::string CramMd5Digest(std::string_view secret, std::string_view challenge);

class CredentialStore {
 public:
  // Checks every account (unique names, well-formed hashes).
  static absl::StatusOr<std::shared_ptr<CredentialStore>> Create(std::vector<UserAccount> users,
                                                                 int worker_threads = 1);
  ~CredentialStore();
  CredentialStore(const CredentialStore&) = delete;
  CredentialStore& operator=(const CredentialStore&) = delete;

  bool empty() const { return users_.empty(); }
  bool has_cram_md5_secrets() const { return has_cram_; }

  // True if `credentials` prove the user's identity. Must be awaited on a
  // ring thread.
  Task<bool> Verify(SaslCredentials credentials);

 private:
  CredentialStore() = default;
  bool VerifyNow(const SaslCredentials& c) const;  // on a worker thread
  void Submit(absl::AnyInvocable<void()> job);

  absl::flat_hash_map<std::string, UserAccount> users_;
  std::string dummy_hash_;  // hashed for unknown users
  bool has_cram_ = false;

  std::unique_ptr<WorkerPool> workers_;  // runs PBKDF2 off the rings
};

}  // namespace salvo::smtp
