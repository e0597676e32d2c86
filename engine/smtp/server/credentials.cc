#include "engine/smtp/server/credentials.h"

#include <coroutine>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"
#include "engine/loop/ring.h"
#include "engine/tls/crypto.h"
#include "fmt/format.h"

namespace salvo::smtp {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;

struct ParsedHash {
  uint64_t iterations = 0;
  std::string salt;
  std::string key;
};

absl::StatusOr<ParsedHash> ParseHash(std::string_view encoded) {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(encoded), '$');
  ParsedHash h;
  if (parts.size() != 4 || ToStd(parts[0]) != kScheme) {
    return absl::InvalidArgumentError(
        "password hash must look like pbkdf2-sha256$<iterations>$<salt>$<key>");
  }
  if (!absl::SimpleAtoi(parts[1], &h.iterations) || h.iterations < kMinPbkdf2Iterations ||
      h.iterations > 100'000'000) {
    return absl::InvalidArgumentError(
        fmt::format("password hash iterations must be {} to 100000000", kMinPbkdf2Iterations));
  }
  if (!absl::Base64Unescape(parts[2], &h.salt) || h.salt.size() < 8 ||
      !absl::Base64Unescape(parts[3], &h.key) || h.key.size() < 16) {
    return absl::InvalidArgumentError("password hash salt or key is not valid base64");
  }
  return h;
}

absl::StatusOr<std::string> Pbkdf2(std::string_view password, std::string_view salt,
                                   uint64_t iterations, size_t length) {
  return crypto::Pbkdf2Sha256(password, salt, iterations, length);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return crypto::ConstantTimeEqual(a, b);
}

}  // namespace

absl::StatusOr<std::string> HashPassword(std::string_view password, int iterations) {
  if (iterations < kMinPbkdf2Iterations) {
    return absl::InvalidArgumentError(
        fmt::format("at least {} PBKDF2 iterations", kMinPbkdf2Iterations));
  }
  absl::StatusOr<std::string> salt_or = crypto::RandomBytes(kSaltBytes);
  if (!salt_or.ok()) return salt_or.status();
  const std::string& salt = *salt_or;
  auto key = Pbkdf2(password, salt, iterations, kKeyBytes);
  if (!key.ok()) return key.status();
  return fmt::format("{}${}${}${}", kScheme, iterations, ToStd(absl::Base64Escape(salt)),
                     ToStd(absl::Base64Escape(*key)));
}

absl::Status ValidatePasswordHash(std::string_view encoded) { return ParseHash(encoded).status(); }

absl::StatusOr<bool> VerifyPassword(std::string_view encoded, std::string_view password) {
  auto h = ParseHash(encoded);
  if (!h.ok()) return h.status();
  auto key = Pbkdf2(password, h->salt, h->iterations, h->key.size());
  if (!key.ok()) return key.status();
  return ConstantTimeEqual(*key, h->key);
}

std::string CramMd5Digest(std::string_view secret, std::string_view challenge) {
  return crypto::Hex(crypto::HmacMd5(secret, challenge));
}

absl::StatusOr<std::shared_ptr<CredentialStore>> CredentialStore::Create(
    std::vector<UserAccount> users, int worker_threads) {
  std::shared_ptr<CredentialStore> store(new CredentialStore());
  uint64_t max_iterations = kMinPbkdf2Iterations;
  for (UserAccount& u : users) {
    if (u.name.empty()) return absl::InvalidArgumentError("a user without a name");
    auto h = ParseHash(u.password_hash);
    if (!h.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("user \"{}\": {}", u.name, ToStd(h.status().message())));
    }
    max_iterations = std::max(max_iterations, h->iterations);
    store->has_cram_ = store->has_cram_ || !u.cram_md5_secret.empty();
    std::string name = u.name;
    if (!store->users_.emplace(name, std::move(u)).second) {
      return absl::InvalidArgumentError(fmt::format("user \"{}\" is listed twice", name));
    }
  }
  auto dummy = HashPassword("no such user", static_cast<int>(max_iterations));
  if (!dummy.ok()) return dummy.status();
  store->dummy_hash_ = std::move(*dummy);
  store->workers_ = std::make_unique<WorkerPool>(worker_threads, "auth-hash");
  return store;
}

// Queued verifications run before the workers join: their callers' rings
// are still running (the store outlives every session).
CredentialStore::~CredentialStore() { workers_.reset(); }

void CredentialStore::Submit(absl::AnyInvocable<void()> job) { workers_->Post(std::move(job)); }

bool CredentialStore::VerifyNow(const SaslCredentials& c) const {
  auto it = users_.find(c.username);
  bool known = it != users_.end();
  if (c.mechanism == SaslMechanism::kCramMd5) {
    if (!known || it->second.cram_md5_secret.empty()) return false;
    return ConstantTimeEqual(CramMd5Digest(it->second.cram_md5_secret, c.challenge), c.digest);
  }
  auto ok = VerifyPassword(known ? it->second.password_hash : dummy_hash_, c.password);
  bool authzid_ok = c.authzid.empty() || c.authzid == c.username;
  return known && authzid_ok && ok.ok() && *ok;
}

Task<bool> CredentialStore::Verify(SaslCredentials credentials) {
  struct Awaiter {
    CredentialStore* store;
    const SaslCredentials* credentials;
    bool result = false;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      Ring* ring = Ring::Current();
      store->Submit([this, ring, h] {
        result = store->VerifyNow(*credentials);
        ring->Post([h] { h.resume(); });
      });
    }
    bool await_resume() const noexcept { return result; }
  };
  // Named awaiter and result: g++ 12 miscompiles `co_return co_await T{...}`.
  Awaiter verify{this, &credentials};
  bool ok = co_await verify;
  co_return ok;
}

}  // namespace salvo::smtp
