// Config: the typed, validated settings the daemon runs on. Produced only by
// ParseConfig()/LoadConfigFile() (config_loader.h) from a TOML file, or from
// the embedded default (default_config.h); every field is therefore already
// checked (ranges, addresses, cross-references) and code that reads a Config
// never re-validates it. A Config is an immutable value once built: a reload
// builds a new one and swaps it in whole.
//
// Member initialisers are the built-in defaults used when a key is absent;
// the embedded default file spells the same values out for operators.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/deadline.h"
#include "engine/config/domain_pattern.h"
#include "engine/config/units.h"
#include "engine/net/socket_address.h"

namespace salvo {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

struct ServerConfig {
  std::string hostname;                  // default: gethostname()
  std::string data_dir = "./var/salvo";  // relative to the working directory
  int shards = 0;                        // 0: one per core
  LogLevel log_level = LogLevel::kInfo;
};

struct TlsConfig {
  std::string cert_file;    // default: <data_dir>/tls/cert.pem
  std::string key_file;     // default: <data_dir>/tls/key.pem
  bool self_signed = true;  // generate a self-signed pair when missing
};

// kBounce: the bounce MX — inbound SMTP that accepts mail only for the
// [bounce] domains and FBL addresses (never a relay; no AUTH).
enum class ListenerKind {
  kSmtp,
  kSubmission,
  kSmtps,
  kHttp,
  kPop3,
  kPop3s,
  kImap,
  kImaps,
  kBounce
};
enum class ListenerTls { kNone, kStartTls, kImplicit };

struct ListenerLimits {
  int max_connections = 1000;
  uint64_t max_line_length = 1000;                     // bytes, CRLF included
  uint64_t max_message_size = 50ull << 20;             // message, request body or APPEND literal
  Duration command_timeout = std::chrono::minutes(5);  // idle time allowed between commands
};

// What a [[listener]] of `kind` gets for the keys it leaves out.
ListenerTls DefaultListenerTls(ListenerKind kind);
ListenerLimits DefaultListenerLimits(ListenerKind kind);

struct ListenerConfig {
  std::string name;  // unique; defaults to the kind
  ListenerKind kind = ListenerKind::kSmtp;
  SocketAddress address;
  ListenerTls tls = ListenerTls::kNone;
  ListenerLimits limits;
};

struct QueueConfig {
  uint64_t max_group_size = uint64_t{8} << 20;      // bytes of records per group commit
  uint64_t max_pending_size = uint64_t{256} << 20;  // waiting beyond this: writes refused
  uint64_t min_free_space = uint64_t{128} << 20;    // accepts refused below this much disk
  uint64_t memtable_size = uint64_t{128} << 20;     // RocksDB memtables, all together
  uint64_t block_cache_size = uint64_t{64} << 20;   // RocksDB block cache
  Duration feedback_retention = std::chrono::hours(30 * 24);  // bounce → campaign records
  std::vector<Duration> retry_schedule = {
      std::chrono::minutes(5), std::chrono::minutes(10), std::chrono::minutes(30),
      std::chrono::hours(1),   std::chrono::hours(2),    std::chrono::hours(4)};  // last repeats
  double retry_jitter = 0.1;                      // each wait is scaled by 1 ± jitter
  Duration max_age = std::chrono::hours(5 * 24);  // then the recipient fails with a DSN
  bool sync_wal = true;                           // fsync before acknowledging
  Duration outcome_sync_delay = std::chrono::milliseconds(20);  // outcomes: fsync within this
};

struct DnsConfig {
  std::vector<SocketAddress> resolvers;  // empty: /etc/resolv.conf
  Duration timeout = std::chrono::seconds(5);
  int tries = 3;
  int cache_size = 100000;  // entries
  int mx_port = 25;         // SMTP port of MX hosts (tests point it elsewhere)
};

enum class TlsPolicy { kOff, kOpportunistic, kRequired };

// How Salvo delivers to one destination: its traffic shape, timeouts (RFC
// 5321 §4.5.3.2 defaults) and TLS policy.
struct DeliveryPolicy {
  int max_connections = 32;
  int max_messages_per_connection = 100;
  int max_recipients_per_transaction = 100;
  std::optional<Rate> message_rate;     // nullopt: unlimited
  std::optional<Rate> connection_rate;  // nullopt: unlimited
  Duration connect_timeout = std::chrono::seconds(30);
  Duration greeting_timeout = std::chrono::minutes(5);
  Duration command_timeout = std::chrono::minutes(5);     // EHLO, STARTTLS, MAIL, RCPT, RSET, QUIT
  Duration data_timeout = std::chrono::minutes(2);        // reply to DATA
  Duration data_block_timeout = std::chrono::minutes(3);  // each write of the body
  Duration data_done_timeout = std::chrono::minutes(10);  // reply to the final "."
  Duration idle_timeout = std::chrono::seconds(10);       // an idle connection kept for reuse
  TlsPolicy tls = TlsPolicy::kOpportunistic;
  std::string source_pool;  // empty: the kernel picks the source address
  // Without CHUNKING, a message's end of data goes in one write with the
  // next message's MAIL, RCPT and DATA (RFC 2920 §3.1).
  bool pipeline_messages = true;

  friend bool operator==(const DeliveryPolicy&, const DeliveryPolicy&) = default;
};

enum class MatchOn { kDomain, kMxHost };

// One [[delivery.destination]] rule; its policy is the [delivery] defaults
// with this rule's keys applied on top.
struct DestinationRule {
  DomainPattern pattern;
  MatchOn match = MatchOn::kDomain;
  DeliveryPolicy policy;
};

// Delivery status notifications the engine sends for single messages
// (campaigns get events instead). See docs/dsn.md.
struct DsnConfig {
  bool enabled = true;                    // dsn_enabled
  Duration delay_warning{0};              // NOTIFY=DELAY: once, at the first deferral this old
  std::string reporting_mta;              // "" = [server] hostname
  uint64_t max_returned_bytes = 1 << 20;  // RET=FULL up to this size, else headers only
  friend bool operator==(const DsnConfig&, const DsnConfig&) = default;
};

struct DeliveryConfig {
  // Accept and queue, deliver nothing (maintenance windows, staging, and
  // measuring accepts alone). Read at start; a reload does not change it.
  bool hold = false;
  DeliveryPolicy defaults;
  std::vector<DestinationRule> destinations;  // file order; first match wins
  DsnConfig dsn;

  // The policy for a recipient domain whose MX host is `mx_host` (may be
  // empty before DNS has answered): the first rule that matches, else the
  // defaults.
  const DeliveryPolicy& PolicyFor(std::string_view domain, std::string_view mx_host) const;
};

struct SourceAddress {
  SocketAddress address;  // port 0
  std::string ehlo;       // EHLO name used from this address
  int weight = 1;
};

struct SourcePool {
  std::string name;
  std::vector<SourceAddress> sources;
};

// Sends a domain's mail to a fixed next hop instead of its MX hosts.
struct Route {
  DomainPattern domain;  // "example.com" or "*.example.com"
  std::string host;      // IP address or host name
  int port = 25;
};

// Inbound SMTP policy shared by the smtp/submission/smtps listeners.
struct SmtpServerConfig {
  // Clients that may relay without AUTH (CIDRs). Loopback by default.
  std::vector<std::string> relay_networks = {"127.0.0.0/8", "::1/128"};
  bool allow_plaintext_auth = false;    // AUTH before TLS, loopback clients only
  bool cram_md5 = false;                // needs users' cram_md5_secret (recoverable)
  bool bare_newline_normalize = false;  // false: a bare LF in DATA is refused (554 5.6.0)
  bool accept_suppressed = false;       // false: RCPT of a suppressed address gets 550 5.7.1
  int max_recipients = 1000;            // per transaction
  int max_errors = 20;                  // 5xx replies before 421 and close
  int max_connections_per_client = 50;  // per client IP, per listener
  int max_auth_failures = 10;           // per client IP within auth_failure_window
  Duration auth_failure_window = std::chrono::minutes(15);
};

// A user allowed to AUTH on the submission listeners.
struct UserConfig {
  std::string name;
  std::string password_hash;    // "pbkdf2-sha256$...", from `salvo hash-password`
  std::string cram_md5_secret;  // optional, plaintext-equivalent (see operations.md)
};

struct ApiConfig {
  std::vector<std::string> keys;  // "sha256:<64 hex>" digests of bearer tokens
  // The externally reachable base URL of the HTTP API ("https://mta.example.com"),
  // used for List-Unsubscribe links; empty: campaigns carry no HTTPS unsubscribe.
  std::string public_url;
};

// [dkim] and [[dkim.key]]: DKIM signing at delivery time (engine/dkim).
enum class DkimAlgorithm { kAny, kRsaSha256, kEd25519Sha256 };
enum class DkimMissingKey { kSendUnsigned, kDefer };
enum class CampaignCheck { kOff, kWarn, kError };

struct DkimKeyConfig {
  std::string domain;    // d=, lower-case
  std::string selector;  // s=
  std::string key_file;  // PEM private key
  DkimAlgorithm algorithm = DkimAlgorithm::kAny;
  friend bool operator==(const DkimKeyConfig&, const DkimKeyConfig&) = default;
};

struct DkimConfig {
  std::vector<DkimKeyConfig> keys;  // two for one domain: dual signing
  bool header_relaxed = true;       // canonicalization = "relaxed/relaxed"
  bool body_relaxed = true;
  std::vector<std::string> signed_headers;  // empty: the signer's default list
  std::vector<std::string> oversigned_headers = {"From"};
  bool sign_subdomains = true;
  int signing_threads = 2;
  // While the signing pool has at least this much queued work, a shard
  // going to sleep waits up to this long for more completions (zero: never);
  // Ring::SetWakeBatching. Fixed at start.
  Duration backlog_wait = std::chrono::milliseconds(2);
  Duration expire_after = Duration::zero();                    // x=; zero: none
  DkimMissingKey missing_key = DkimMissingKey::kSendUnsigned;  // also: signing failed
  // At campaign submission: a From domain without a key, a marketing campaign
  // without an unsubscribe link.
  CampaignCheck campaign_checks = CampaignCheck::kWarn;
  friend bool operator==(const DkimConfig&, const DkimConfig&) = default;
};

struct BounceConfig {
  std::vector<std::string> domains;        // domains whose inbound mail is bounces
  std::vector<std::string> fbl_addresses;  // feedback-loop addresses (ARF complaints)
  std::string verp_secret_file;            // default: <data_dir>/verp.key
  std::string rules_file;                  // operator classification rules; "" = built-in only
  // Soft bounces suppress an address only after this many within the window.
  int soft_bounce_limit = 5;
  Duration soft_bounce_window = std::chrono::hours(7 * 24);
  uint64_t max_parse_size = 10ull << 20;  // larger bounces are stored unparsed
};

// POP3 and IMAP access to the bounce mailbox ([mailbox]); the users are
// the [[user]] accounts.
struct MailboxAccessConfig {
  bool allow_plaintext_auth = false;  // login before TLS, loopback clients only
  std::string pop3_folder = "INBOX";  // the folder POP3 serves as the maildrop
  bool pop3_keep_messages = false;    // DELE marks \Deleted+\Seen instead of expunging
  int max_connections_per_client = 20;
  int max_auth_failures = 10;  // per client IP within [smtp] auth_failure_window
};

struct Config {
  ServerConfig server;
  TlsConfig tls;
  std::vector<ListenerConfig> listeners;
  QueueConfig queue;
  DnsConfig dns;
  DeliveryConfig delivery;
  std::vector<SourcePool> source_pools;
  std::vector<Route> routes;
  SmtpServerConfig smtp;
  std::vector<UserConfig> users;
  ApiConfig api;
  BounceConfig bounce;
  DkimConfig dkim;
  MailboxAccessConfig mailbox;

  const SourcePool* FindSourcePool(std::string_view name) const;
  // The first [[route]] whose domain pattern matches, or nullptr.
  const Route* FindRoute(std::string_view domain) const;
};

std::string_view ToString(ListenerKind kind);
std::string_view ToString(ListenerTls tls);
std::string_view ToString(TlsPolicy policy);
std::string_view ToString(LogLevel level);

}  // namespace salvo
