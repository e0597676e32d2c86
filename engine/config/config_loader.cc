#include "engine/config/config_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <tuple>

#include "engine/base/errno_status.h"
#include "engine/base/strings.h"
#include "engine/base/unique_fd.h"
#include "engine/config/config_sections.h"
#include "engine/config/domain_pattern.h"
#include "engine/config/toml_reader.h"
#include "engine/smtp/server/credentials.h"
#include "engine/smtp/server/relay_policy.h"

namespace salvo {
namespace {

using config_internal::ErrorList;
using config_internal::PositionOf;
using config_internal::TableReader;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::string MachineHostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

absl::StatusOr<std::string> DomainName(std::string_view text) {
  if (absl::Status s = CheckDomainName(text); !s.ok()) return s;
  std::string out(text);
  if (out.back() == '.') out.pop_back();
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "fbl@bounce.example.com": local@domain, lower-cased.
absl::StatusOr<std::string> MailAddress(std::string_view text) {
  size_t at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64 ||
      std::any_of(text.begin(), text.begin() + at, [](char c) {
        return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == 127;
      })) {
    return absl::InvalidArgumentError("not an address of the form local@domain");
  }
  absl::StatusOr<std::string> domain = DomainName(text.substr(at + 1));
  if (!domain.ok()) return domain.status();
  std::string out(text.substr(0, at + 1));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out + *domain;
}

void ReadServer(TableReader& root, ServerConfig* out) {
  std::optional<TableReader> t = root.Table("server");
  if (t) {
    t->Parsed("hostname", DomainName, &out->hostname);
    if (t->String("data_dir", &out->data_dir) && out->data_dir.empty()) {
      t->Error("data_dir", "must not be empty");
    }
    t->Int("shards", 0, 1024, &out->shards);
    t->Enum("log_level",
            {{"trace", LogLevel::kTrace},
             {"debug", LogLevel::kDebug},
             {"info", LogLevel::kInfo},
             {"warn", LogLevel::kWarn},
             {"error", LogLevel::kError},
             {"critical", LogLevel::kCritical},
             {"off", LogLevel::kOff}},
            &out->log_level);
    t->Finish();
  }
  if (out->hostname.empty()) out->hostname = MachineHostname();
}

void ReadPath(TableReader& t, std::string_view key, std::string* out) {
  if (t.String(key, out) && out->empty()) t.Error(key, "must not be empty");
}

void ReadTls(TableReader& root, const std::string& data_dir, TlsConfig* out) {
  if (std::optional<TableReader> t = root.Table("tls")) {
    ReadPath(*t, "cert_file", &out->cert_file);
    ReadPath(*t, "key_file", &out->key_file);
    t->Bool("self_signed", &out->self_signed);
    t->Finish();
  }
  if (out->cert_file.empty()) out->cert_file = data_dir + "/tls/cert.pem";
  if (out->key_file.empty()) out->key_file = data_dir + "/tls/key.pem";
}

absl::StatusOr<Duration> RetryDelay(std::string_view text) {
  auto d = ParseDuration(text);
  if (d.ok() && (*d < seconds(1) || *d > hours(7 * 24))) {
    return absl::OutOfRangeError(fmt::format("retry delay {} is out of range [1s, 7d]", text));
  }
  return d;
}

void ReadQueue(TableReader& root, QueueConfig* out) {
  std::optional<TableReader> t = root.Table("queue");
  if (!t) return;
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  t->Size("max_group_size", 64 * 1024, 1024 * kMiB, &out->max_group_size);
  t->Size("max_pending_size", kMiB, 16384 * kMiB, &out->max_pending_size);
  t->Size("min_free_space", 0, 1024 * 1024 * kMiB, &out->min_free_space);
  t->Size("memtable_size", 8 * kMiB, 16384 * kMiB, &out->memtable_size);
  t->Size("block_cache_size", 0, 65536 * kMiB, &out->block_cache_size);
  t->Duration("feedback_retention", seconds(0), hours(365 * 24), &out->feedback_retention);
  if (t->List("retry_schedule", RetryDelay, &out->retry_schedule) && out->retry_schedule.empty()) {
    t->Error("retry_schedule", "needs at least one delay");
  }
  t->Float("retry_jitter", 0, 1, &out->retry_jitter);
  t->Duration("max_age", minutes(1), hours(365 * 24), &out->max_age);
  t->Bool("sync_wal", &out->sync_wal);
  t->Duration("outcome_sync_delay", seconds(0), seconds(1), &out->outcome_sync_delay);
  t->Finish();
}

absl::StatusOr<SocketAddress> ResolverAddress(std::string_view text) {
  auto a = SocketAddress::Parse(text, 53);
  if (a.ok() && a->port() == 0) {
    return absl::InvalidArgumentError(fmt::format("resolver \"{}\" has port 0", text));
  }
  return a;
}

void ReadDns(TableReader& root, DnsConfig* out) {
  std::optional<TableReader> t = root.Table("dns");
  if (!t) return;
  t->List("resolvers", ResolverAddress, &out->resolvers);
  t->Duration("timeout", milliseconds(100), seconds(60), &out->timeout);
  t->Int("tries", 1, 10, &out->tries);
  t->Int("cache_size", 0, 10000000, &out->cache_size);
  t->Int("mx_port", 1, 65535, &out->mx_port);
  t->Finish();
}

absl::StatusOr<std::string> ApiKeyDigest(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool good = out.starts_with(kPrefix) && out.size() == kPrefix.size() + 64 &&
              std::all_of(out.begin() + kPrefix.size(), out.end(),
                          [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (!good) {
    return absl::InvalidArgumentError(
        "an API key must be \"sha256:\" followed by the 64 hex digits of the token's SHA-256 "
        "(printf %s TOKEN | sha256sum)");
  }
  return out;
}

void ReadApi(TableReader& root, ApiConfig* out) {
  std::optional<TableReader> t = root.Table("api");
  if (!t) return;
  t->List("keys", ApiKeyDigest, &out->keys);
  t->Parsed("public_url", config_internal::PublicUrl, &out->public_url);
  t->Finish();
}

absl::StatusOr<std::string> RelayNetwork(std::string_view text) {
  auto range = smtp::NetworkRange::Parse(text);
  if (!range.ok()) return range.status();
  return std::string(text);
}

void ReadSmtp(TableReader& root, SmtpServerConfig* out) {
  std::optional<TableReader> t = root.Table("smtp");
  if (!t) return;
  t->List("relay_networks", RelayNetwork, &out->relay_networks);
  t->Bool("allow_plaintext_auth", &out->allow_plaintext_auth);
  t->Bool("cram_md5", &out->cram_md5);
  t->Enum("bare_newline", {{"reject", false}, {"normalize", true}}, &out->bare_newline_normalize);
  t->Enum("suppressed", {{"reject", false}, {"accept", true}}, &out->accept_suppressed);
  t->Int("max_recipients", 1, 100000, &out->max_recipients);
  t->Int("max_errors", 1, 1000, &out->max_errors);
  t->Int("max_connections_per_client", 1, 100000, &out->max_connections_per_client);
  t->Int("max_auth_failures", 1, 1000, &out->max_auth_failures);
  t->Duration("auth_failure_window", seconds(1), hours(24), &out->auth_failure_window);
  t->Finish();
}

absl::StatusOr<std::string> PasswordHash(std::string_view text) {
  if (absl::Status s = smtp::ValidatePasswordHash(text); !s.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("{} (make one with `salvo hash-password`)", ToStd(s.message())));
  }
  return std::string(text);
}

void ReadUsers(TableReader& root, std::vector<UserConfig>* out) {
  for (TableReader& t : root.ArrayOfTables("user")) {
    UserConfig user;
    if (!t.Has("name")) t.Error(t.where(), t.PathOf("name"), "missing required key");
    if (!t.Has("password_hash")) {
      t.Error(t.where(), t.PathOf("password_hash"), "missing required key");
    }
    t.String("name", &user.name);
    t.Parsed("password_hash", PasswordHash, &user.password_hash);
    t.String("cram_md5_secret", &user.cram_md5_secret);
    bool duplicate =
        !user.name.empty() && std::any_of(out->begin(), out->end(),
                                          [&](const UserConfig& u) { return u.name == user.name; });
    if (duplicate) t.Error("name", fmt::format("user \"{}\" is defined twice", user.name));
    t.Finish();
    out->push_back(std::move(user));
  }
}

void ReadBounce(TableReader& root, const std::string& data_dir, BounceConfig* out) {
  if (std::optional<TableReader> t = root.Table("bounce")) {
    t->List("domains", DomainName, &out->domains);
    t->List("fbl_addresses", MailAddress, &out->fbl_addresses);
    ReadPath(*t, "verp_secret_file", &out->verp_secret_file);
    ReadPath(*t, "rules_file", &out->rules_file);
    t->Int("soft_bounce_limit", 1, 1000, &out->soft_bounce_limit);
    t->Duration("soft_bounce_window", minutes(1), hours(365 * 24), &out->soft_bounce_window);
    t->Size("max_parse_size", 64ull << 10, 1ull << 30, &out->max_parse_size);
    t->Finish();
  }
  if (out->verp_secret_file.empty()) out->verp_secret_file = data_dir + "/verp.key";
}

void ReadMailboxAccess(TableReader& root, MailboxAccessConfig* out) {
  std::optional<TableReader> t = root.Table("mailbox");
  if (!t) return;
  t->Bool("allow_plaintext_auth", &out->allow_plaintext_auth);
  if (t->String("pop3_folder", &out->pop3_folder) && out->pop3_folder.empty()) {
    t->Error("pop3_folder", "must not be empty");
  }
  t->Bool("pop3_keep_messages", &out->pop3_keep_messages);
  t->Int("max_connections_per_client", 1, 100000, &out->max_connections_per_client);
  t->Int("max_auth_failures", 1, 1000, &out->max_auth_failures);
  t->Finish();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, fmt::format("cannot open {}", path));
  UniqueFd file(fd);
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, fmt::format("cannot read {}", path));
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (16u << 20)) {
      return absl::InvalidArgumentError(fmt::format("{} is larger than 16 MiB", path));
    }
  }
}

void ReadConfig(const toml::table& table, ErrorList* errors, Config* config) {
  TableReader root(table, "", errors);
  ReadServer(root, &config->server);
  ReadTls(root, config->server.data_dir, &config->tls);
  config_internal::ReadListeners(root, &config->listeners);
  ReadQueue(root, &config->queue);
  ReadDns(root, &config->dns);
  config_internal::ReadSourcePools(root, config->server.hostname, &config->source_pools);
  config_internal::ReadDelivery(root, config->source_pools, &config->delivery);
  config_internal::ReadRoutes(root, &config->routes);
  ReadSmtp(root, &config->smtp);
  ReadUsers(root, &config->users);
  ReadApi(root, &config->api);
  ReadBounce(root, config->server.data_dir, &config->bounce);
  ReadMailboxAccess(root, &config->mailbox);
  config_internal::ReadDkim(root, &config->dkim);
  root.Finish();
}

}  // namespace

std::string ConfigParseResult::ErrorReport(std::string_view source_name) const {
  std::string out;
  for (const ConfigError& e : errors) {
    out += e.ToString(source_name);
    out += '\n';
  }
  return out;
}

ConfigParseResult ParseConfig(std::string_view toml_text, std::string_view source_name) {
  ConfigParseResult result;
  toml::table table;
  try {
    table = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    result.errors.push_back(ConfigError{static_cast<int>(e.source().begin.line),
                                        static_cast<int>(e.source().begin.column), "",
                                        std::string(e.description())});
    return result;
  }
  ErrorList errors;
  ReadConfig(table, &errors, &result.config);
  result.errors = std::move(errors.errors());
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  return result;
}

ConfigParseResult LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    ConfigParseResult result;
    result.errors.push_back(ConfigError{0, 0, "", std::string(ToStd(text.status().message()))});
    return result;
  }
  return ParseConfig(*text, path);
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  ConfigParseResult result = LoadConfigFile(path);
  if (!result.ok()) return absl::InvalidArgumentError(result.ErrorReport(path));
  return std::move(result.config);
}

}  // namespace salvo
