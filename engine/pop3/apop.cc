#include "engine/pop3/apop.h"

#include <unistd.h>

#include <chrono>

#include "absl/strings/ascii.h"
#include "engine/base/strings.h"
#include "engine/tls/crypto.h"
#include "fmt/format.h"

namespace salvo::pop3 {

std::string ApopDigest(std::string_view timestamp, std::string_view secret) {
  std::string input;
  input.reserve(timestamp.size() + secret.size());
  input.append(timestamp).append(secret);
  crypto::Md5Digest md = crypto::Md5(input);
  return crypto::Hex(std::string_view(reinterpret_cast<const char*>(md.data()), md.size()));
}

std::string ApopTimestamp(std::string_view hostname) {
  absl::StatusOr<std::string> random = crypto::RandomBytes(8);
  std::string nonce = random.ok() ? crypto::Hex(*random) : "0";
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return fmt::format("<{}.{}.{}@{}>", ::getpid(), nonce, now.count(), hostname);
}

ApopSecrets::ApopSecrets(const std::vector<smtp::UserAccount>& users) {
  for (const smtp::UserAccount& u : users) {
    if (!u.cram_md5_secret.empty()) secrets_.emplace(u.name, u.cram_md5_secret);
  }
}

bool ApopSecrets::Verify(std::string_view user, std::string_view timestamp,
                         std::string_view digest) const {
  auto it = secrets_.find(ToAbsl(user));
  bool known = it != secrets_.end();
  // Unknown users cost the same digest, against a secret nobody has.
  std::string expected = ApopDigest(timestamp, known ? std::string_view(it->second) : "\x01");
  std::string given = absl::AsciiStrToLower(ToAbsl(digest));
  bool match = crypto::ConstantTimeEqual(expected, given);
  return known && !expected.empty() && match;
}

}  // namespace salvo::pop3
