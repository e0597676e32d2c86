#include "cmd/dkim_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "engine/dkim/dns_record.h"
#include "engine/tls/dkim_crypto.h"

namespace salvo {
namespace {

constexpr char kDkimUsage[] =
    "usage: salvo dkim keygen --domain DOMAIN --selector SELECTOR [--type rsa|ed25519]\n"
    "                         [--bits N] --out DIR\n"
    "  writes DIR/DOMAIN.SELECTOR.pem (mode 0600) and prints the DNS TXT record\n";

struct KeygenArgs {
  std::string domain;
  std::string selector;
  crypto::DkimKeyType type = crypto::DkimKeyType::kRsa;
  int bits = 2048;
  std::string out_dir;
};

int UsageError(std::FILE* err, const std::string& what) {
  std::fprintf(err, "salvo dkim: %s\n\n%s", what.c_str(), kDkimUsage);
  return 2;
}

// Letters, digits, '-', '_' and '.'; no empty label.
bool IsDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') return false;
  if (s.find("..") != std::string_view::npos) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Parses args[2..]; returns an error text or nothing.
std::optional<std::string> ParseKeygen(const std::vector<std::string_view>& args, KeygenArgs& k) {
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (i + 1 >= args.size()) return fmt::format("'{}' needs a value", a);
    std::string v(args[++i]);
    if (a == "--domain") {
      k.domain = v;
    } else if (a == "--selector") {
      k.selector = v;
    } else if (a == "--out") {
      k.out_dir = v;
    } else if (a == "--type") {
      if (v == "rsa") {
        k.type = crypto::DkimKeyType::kRsa;
      } else if (v == "ed25519") {
        k.type = crypto::DkimKeyType::kEd25519;
      } else {
        return fmt::format("--type must be rsa or ed25519, not '{}'", v);
      }
    } else if (a == "--bits") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1024 || n > 8192) return "--bits must be 1024..8192";
      k.bits = static_cast<int>(n);
    } else {
      return fmt::format("unexpected argument '{}'", a);
    }
  }
  if (!IsDnsName(k.domain)) return "--domain needs a domain name";
  if (!IsDnsName(k.selector)) return "--selector needs a selector (a DNS label)";
  if (k.out_dir.empty()) return "--out needs a directory";
  return std::nullopt;
}

// Writes `pem` to a new file `path` with mode 0600; never replaces a file.
std::optional<std::string> WritePrivateKey(const std::string& path, const std::string& pem) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fmt::format("cannot create {}: {}", path, std::strerror(errno));
  size_t done = 0;
  while (done < pem.size()) {
    ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string e = std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      return fmt::format("cannot write {}: {}", path, e);
    }
    done += static_cast<size_t>(n);
  }
  bool ok = ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return fmt::format("cannot finish {}: {}", path, std::strerror(errno));
  return std::nullopt;
}

int Keygen(const KeygenArgs& k, std::FILE* out, std::FILE* err) {
  if (::mkdir(k.out_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(err, "salvo dkim: cannot create %s: %s\n", k.out_dir.c_str(),
                 std::strerror(errno));
    return 1;
  }
  auto key = crypto::DkimKey::Generate(k.type, k.bits);
  absl::StatusOr<std::string> pem = key.ok() ? key->PrivateKeyPem() : key.status();
  absl::StatusOr<std::string> text = key.ok() ? dkim::DkimRecordText(*key) : key.status();
  if (!pem.ok() || !text.ok()) {
    std::fprintf(err, "salvo dkim: %s\n",
                 std::string((pem.ok() ? text.status() : pem.status()).message()).c_str());
    return 1;
  }
  std::string path = fmt::format("{}/{}.{}.pem", k.out_dir, k.domain, k.selector);
  if (auto e = WritePrivateKey(path, *pem)) {
    std::fprintf(err, "salvo dkim: %s\n", e->c_str());
    return 1;
  }
  std::string line = dkim::DkimZoneLine(dkim::DkimRecordName(k.selector, k.domain), *text);
  std::fprintf(out, "%s\n", line.c_str());
  std::fprintf(err,
               "salvo dkim: wrote %s (%s, %d bits, mode 0600); publish the TXT record above.\n"
               "config:\n[[dkim.key]]\ndomain = \"%s\"\nselector = \"%s\"\nkey_file = \"%s\"\n"
               "algorithm = \"%s\"\n",
               path.c_str(), std::string(key->algorithm()).c_str(), key->bits(), k.domain.c_str(),
               k.selector.c_str(), path.c_str(), std::string(key->algorithm()).c_str());
  return 0;
}

}  // namespace

int RunDkim(const std::vector<std::string_view>& args, std::FILE* out, std::FILE* err) {
  if (args.size() < 2 || args[1] != "keygen") return UsageError(err, "which dkim command?");
  KeygenArgs k;
  if (auto e = ParseKeygen(args, k)) return UsageError(err, *e);
  return Keygen(k, out, err);
}

}  // namespace salvo
