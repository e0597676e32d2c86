// The loader on whole files: a config using every section, several errors in
// one file, unknown keys with suggestions, syntax errors, files on disk, and
// the lookups the daemon makes on a loaded Config.
#include "engine/config/config_loader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace salvo {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kFullConfig[] = R"toml(
[server]
hostname = "MTA.Example.COM"
data_dir = "/srv/salvo"
shards = 4
log_level = "debug"

[tls]
cert_file = "/etc/salvo/cert.pem"
key_file = "/etc/salvo/key.pem"
self_signed = false

[[listener]]
name = "mx"
kind = "smtp"
address = "[::1]:2525"
max_message_size = "25MB"
max_line_length = 4096
command_timeout = "2m"

[[listener]]
kind = "pop3s"
address = "127.0.0.1:2995"

[[listener]]
name = "https"
kind = "http"
address = "127.0.0.1:8443"
tls = "implicit"

[queue]
max_group_size = "1MiB"
max_pending_size = "64MiB"
min_free_space = "1GiB"
memtable_size = "32MiB"
block_cache_size = 0
feedback_retention = "7d"
retry_schedule = ["1m", "1h30m"]
retry_jitter = 0
max_age = "2d"
sync_wal = false

[dns]
resolvers = ["127.0.0.1:5353", "[::1]:53", "192.0.2.53"]
timeout = "250ms"
tries = 2
cache_size = 0
mx_port = 2526

[delivery]
hold = true
max_connections = 10
message_rate = "100/s"
tls = "opportunistic"
source_pool = "default"

[[delivery.destination]]
pattern = "*.google.com"
match = "mx"
max_connections = 20
message_rate = "600/min"
tls = "required"
source_pool = "bulk"

[[delivery.destination]]
pattern = "example.org"
message_rate = "unlimited"
connection_rate = "5/s"
idle_timeout = "0"
pipeline_messages = false

[[source_pool]]
name = "default"
[[source_pool.source]]
address = "192.0.2.1"

[[source_pool]]
name = "bulk"
[[source_pool.source]]
address = "192.0.2.10"
ehlo = "mta1.example.com"
weight = 3
[[source_pool.source]]
address = "2001:db8::10"
ehlo = "mta2.example.com"

[[route]]
domain = "example.test"
next_hop = "127.0.0.1:2526"

[[route]]
domain = "*.internal.example"
next_hop = "relay.example.net"

[api]
keys = ["sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"]

[bounce]
domains = ["bounces.example.com"]
verp_secret_file = "/etc/salvo/verp.key"
)toml";

Config ParseFull() {
  ConfigParseResult result = ParseConfig(kFullConfig, "full");
  EXPECT_TRUE(result.ok()) << result.ErrorReport("full");
  return result.config;
}

TEST(FullConfig, ServerTlsAndListeners) {
  Config c = ParseFull();
  EXPECT_EQ(c.server.hostname, "mta.example.com");
  EXPECT_EQ(c.server.shards, 4);
  EXPECT_EQ(c.server.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.tls.cert_file, "/etc/salvo/cert.pem");
  EXPECT_FALSE(c.tls.self_signed);
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].name, "mx");
  EXPECT_EQ(c.listeners[0].address.ToString(), "[::1]:2525");
  EXPECT_EQ(c.listeners[0].tls, ListenerTls::kStartTls);
  EXPECT_EQ(c.listeners[0].limits.max_message_size, 25'000'000u);
  EXPECT_EQ(c.listeners[0].limits.max_line_length, 4096u);
  EXPECT_EQ(c.listeners[0].limits.command_timeout, minutes(2));
  EXPECT_EQ(c.listeners[0].limits.max_connections, 1000);
  EXPECT_EQ(c.listeners[1].name, "pop3s");  // defaults to the kind
  EXPECT_EQ(c.listeners[1].tls, ListenerTls::kImplicit);
  EXPECT_EQ(c.listeners[1].limits.command_timeout, minutes(10));
  EXPECT_EQ(c.listeners[2].tls, ListenerTls::kImplicit);
}

TEST(FullConfig, QueueAndDns) {
  Config c = ParseFull();
  EXPECT_EQ(c.queue.max_group_size, uint64_t{1} << 20);
  EXPECT_EQ(c.queue.max_pending_size, uint64_t{64} << 20);
  EXPECT_EQ(c.queue.min_free_space, uint64_t{1} << 30);
  EXPECT_EQ(c.queue.memtable_size, uint64_t{32} << 20);
  EXPECT_EQ(c.queue.block_cache_size, 0u);
  EXPECT_EQ(c.queue.feedback_retention, hours(7 * 24));
  EXPECT_EQ(c.queue.retry_schedule, (std::vector<Duration>{minutes(1), minutes(90)}));
  EXPECT_EQ(c.queue.retry_jitter, 0.0);
  EXPECT_EQ(c.queue.max_age, hours(48));
  EXPECT_FALSE(c.queue.sync_wal);
  ASSERT_EQ(c.dns.resolvers.size(), 3u);
  EXPECT_EQ(c.dns.resolvers[0].ToString(), "127.0.0.1:5353");
  EXPECT_EQ(c.dns.resolvers[1].ToString(), "[::1]:53");
  EXPECT_EQ(c.dns.resolvers[2].ToString(), "192.0.2.53:53");
  EXPECT_EQ(c.dns.timeout, milliseconds(250));
  EXPECT_EQ(c.dns.tries, 2);
  EXPECT_EQ(c.dns.cache_size, 0);
  EXPECT_EQ(c.dns.mx_port, 2526);
}

TEST(FullConfig, DestinationsOverrideTheDeliveryDefaults) {
  Config c = ParseFull();
  EXPECT_TRUE(c.delivery.hold);
  const DeliveryPolicy& d = c.delivery.defaults;
  EXPECT_EQ(d.max_connections, 10);
  EXPECT_EQ(d.message_rate, (Rate{100, seconds(1)}));
  EXPECT_EQ(d.source_pool, "default");
  ASSERT_EQ(c.delivery.destinations.size(), 2u);

  const DeliveryPolicy& google = c.delivery.PolicyFor("gmail.com", "alt1.aspmx.l.google.com");
  EXPECT_EQ(google.max_connections, 20);
  EXPECT_EQ(google.message_rate, (Rate{600, minutes(1)}));
  EXPECT_EQ(google.tls, TlsPolicy::kRequired);
  EXPECT_EQ(google.source_pool, "bulk");
  EXPECT_EQ(google.max_messages_per_connection, d.max_messages_per_connection);  // inherited

  const DeliveryPolicy& org = c.delivery.PolicyFor("EXAMPLE.org", "");
  EXPECT_EQ(org.message_rate, std::nullopt);  // "unlimited" lifts the default
  EXPECT_EQ(org.connection_rate, (Rate{5, seconds(1)}));
  EXPECT_EQ(org.idle_timeout, Duration::zero());
  EXPECT_FALSE(org.pipeline_messages);
  EXPECT_TRUE(google.pipeline_messages);  // the default
  EXPECT_EQ(org.max_connections, 10);

  // Before DNS answers, an MX rule cannot match; the defaults apply.
  EXPECT_EQ(&c.delivery.PolicyFor("gmail.com", ""), &c.delivery.defaults);
  EXPECT_EQ(&c.delivery.PolicyFor("other.example", "mx.other.example"), &c.delivery.defaults);
}

TEST(FullConfig, SourcePoolsRoutesApiAndBounce) {
  Config c = ParseFull();
  const SourcePool* bulk = c.FindSourcePool("bulk");
  ASSERT_NE(bulk, nullptr);
  ASSERT_EQ(bulk->sources.size(), 2u);
  EXPECT_EQ(bulk->sources[0].address.HostString(), "192.0.2.10");
  EXPECT_EQ(bulk->sources[0].weight, 3);
  EXPECT_EQ(bulk->sources[1].address.HostString(), "2001:db8::10");
  EXPECT_EQ(bulk->sources[1].weight, 1);
  // A source without ehlo uses the server's hostname.
  EXPECT_EQ(c.FindSourcePool("default")->sources[0].ehlo, "mta.example.com");
  EXPECT_EQ(c.FindSourcePool("missing"), nullptr);

  const Route* r = c.FindRoute("example.test");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->host, "127.0.0.1");
  EXPECT_EQ(r->port, 2526);
  r = c.FindRoute("a.internal.example");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->host, "relay.example.net");
  EXPECT_EQ(r->port, 25);
  EXPECT_EQ(c.FindRoute("internal.example"), nullptr);

  ASSERT_EQ(c.api.keys.size(), 1u);
  EXPECT_EQ(c.api.keys[0],
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  EXPECT_EQ(c.bounce.domains, std::vector<std::string>{"bounces.example.com"});
}

TEST(Errors, EveryErrorInAFileIsReportedInLineOrder) {
  const char* text =
      "[server]\n"
      "shards = \"four\"\n"  // 2
      "[queue]\n"
      "max_age = \"5 days\"\n"  // 4
      "sync_wal = \"yes\"\n"    // 5
      "[[listener]]\n"
      "kind = \"smtp\"\n"
      "address = \"127.0.0.1:99999\"\n"  // 8
      "[[listener]]\n"
      "kind = \"imap\"\n"
      "address = \"127.0.0.1:2143\"\n"
      "max_connections = -3\n"  // 12
      "[delivery]\n"
      "source_pool = \"nope\"\n"  // 14
      "[dns]\n"
      "tries = 100\n";  // 16
  ConfigParseResult result = ParseConfig(text, "multi.toml");
  std::vector<int> lines;
  for (const ConfigError& e : result.errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 4, 5, 8, 12, 14, 16})) << result.ErrorReport("multi.toml");
  std::string report = result.ErrorReport("multi.toml");
  EXPECT_NE(report.find("multi.toml:2:10: server.shards: expected an integer"), std::string::npos)
      << report;
  EXPECT_NE(report.find("multi.toml:14:15: delivery.source_pool: no [[source_pool]] is named"),
            std::string::npos)
      << report;
}

TEST(Errors, UnknownKeysAreCaughtWithASuggestion) {
  const char* text =
      "[sever]\n"  // 1: unknown table
      "shards = 2\n"
      "[queue]\n"
      "retry_shedule = [\"5m\"]\n"  // 4
      "[[listener]]\n"
      "kind = \"smtp\"\n"
      "adress = \"127.0.0.1:2525\"\n"  // 7, and address is then missing (line 5)
      "[[delivery.destination]]\n"
      "pattern = \"example.com\"\n"
      "max_conections = 3\n"  // 10
      "[[source_pool]]\n"
      "name = \"p\"\n"
      "[[source_pool.source]]\n"
      "address = \"192.0.2.1\"\n"
      "helo = \"x.example\"\n"  // 15
      "colour = \"blue\"\n";    // 16: nothing near it
  ConfigParseResult result = ParseConfig(text, "typo.toml");
  std::string report = result.ErrorReport("typo.toml");
  ASSERT_EQ(result.errors.size(), 7u) << report;
  EXPECT_EQ(result.errors[0].ToString("t"), "t:1:2: sever: unknown table; did you mean \"server\"?")
      << report;
  EXPECT_EQ(result.errors[1].ToString("t"),
            "t:4:1: queue.retry_shedule: unknown key; did you mean \"retry_schedule\"?");
  EXPECT_EQ(result.errors[2].key, "listener[0].address");  // missing, at [[listener]]
  EXPECT_EQ(result.errors[2].line, 5);
  EXPECT_EQ(result.errors[3].ToString("t"),
            "t:7:1: listener[0].adress: unknown key; did you mean \"address\"?");
  EXPECT_EQ(result.errors[4].ToString("t"),
            "t:10:1: delivery.destination[0].max_conections: unknown key; did you mean "
            "\"max_connections\"?");
  EXPECT_EQ(result.errors[5].ToString("t"),
            "t:15:1: source_pool[0].source[0].helo: unknown key; did you mean \"ehlo\"?");
  EXPECT_EQ(result.errors[6].ToString("t"), "t:16:1: source_pool[0].source[0].colour: unknown key");
}

TEST(Errors, WrongShapeOfTables) {
  const char* text =
      "server = 3\n"  // 1: must be a table
      "[listener]\n"  // 2: must be [[listener]]
      "kind = \"smtp\"\n"
      "[delivery]\n"
      "destination = { pattern = \"x.com\" }\n";  // 5: must be an array of tables
  ConfigParseResult result = ParseConfig(text, "t");
  std::string report = result.ErrorReport("t");
  ASSERT_EQ(result.errors.size(), 3u) << report;
  EXPECT_NE(report.find("t:1:10: server: expected a table ([server]), got an integer"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("listener: expected an array of tables ([[listener]]), got a table"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("t:5:15: delivery.destination: expected an array of tables"),
            std::string::npos)
      << report;
}

TEST(Errors, DuplicatesAreReportedAtTheSecondDefinition) {
  const char* text =
      "[[listener]]\n"
      "kind = \"smtp\"\n"
      "address = \"127.0.0.1:2525\"\n"
      "[[listener]]\n"
      "kind = \"smtp\"\n"               // 5: same default name "smtp"
      "address = \"127.0.0.1:2525\"\n"  // 6: same address
      "[[source_pool]]\n"
      "name = \"p\"\n"
      "source = [{ address = \"192.0.2.1\" }]\n"
      "[[source_pool]]\n"
      "name = \"p\"\n"  // 11
      "source = [{ address = \"192.0.2.2\" }]\n"
      "[[delivery.destination]]\n"
      "pattern = \"*.example.com\"\n"
      "[[delivery.destination]]\n"
      "pattern = \"*.EXAMPLE.com\"\n"  // 16
      "[[route]]\n"
      "domain = \"a.example\"\n"
      "next_hop = \"127.0.0.1\"\n"
      "[[route]]\n"
      "domain = \"a.example\"\n"  // 21
      "next_hop = \"127.0.0.2\"\n";
  ConfigParseResult result = ParseConfig(text, "t");
  std::vector<std::pair<int, std::string>> got;
  for (const ConfigError& e : result.errors) got.emplace_back(e.line, e.key);
  std::vector<std::pair<int, std::string>> want = {
      {4, "listener[1].name"},  // no name key: reported at the table
      {6, "listener[1].address"},
      {11, "source_pool[1].name"},
      {16, "delivery.destination[1].pattern"},
      {21, "route[1].domain"}};
  EXPECT_EQ(got, want) << result.ErrorReport("t");
}

TEST(Errors, SyntaxErrorsCarryTheirPosition) {
  ConfigParseResult result = ParseConfig("[server]\nshards = 2\ndata_dir = \n", "syntax.toml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 3);
  EXPECT_GT(result.errors[0].column, 0);
  EXPECT_TRUE(result.errors[0].key.empty());

  result = ParseConfig("[server]\nshards = 2\nshards = 3\n", "dup.toml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 3);
  EXPECT_NE(result.errors[0].ToString("dup.toml").find("dup.toml:3:"), std::string::npos);
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/salvo-config-test-XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadConfigFile, ReadsAFileAndNamesItInErrors) {
  TempFile good(kFullConfig);
  ConfigParseResult result = LoadConfigFile(good.path());
  EXPECT_TRUE(result.ok()) << result.ErrorReport(good.path());
  EXPECT_EQ(result.config.server.shards, 4);

  TempFile bad("[dns]\ntries = 0\n");
  auto status = LoadConfig(bad.path());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(std::string(status.status().message()).find(bad.path() + ":2:9: dns.tries"),
            std::string::npos)
      << status.status();
}

TEST(LoadConfigFile, MissingFileIsOneClearError) {
  ConfigParseResult result = LoadConfigFile("/nonexistent/salvo.toml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].ToString("/nonexistent/salvo.toml"),
            "/nonexistent/salvo.toml: cannot open /nonexistent/salvo.toml: No such file or "
            "directory");
  EXPECT_FALSE(LoadConfigFile("/tmp").ok());  // a directory
}

}  // namespace
}  // namespace salvo
