// Every key's type and range errors are reported with the right line, column
// and key path, and nothing else is reported for the same file. Each case is
// a small file whose last line (before an optional suffix) is the bad key.
#include <gtest/gtest.h>

#include <string>

#include "engine/config/config_loader.h"

namespace salvo {
namespace {

struct Case {
  const char* prefix;   // lines before the bad one
  const char* line;     // "key = value"
  const char* key;      // expected key path
  const char* message;  // expected part of the message
  const char* suffix = "";
};

constexpr const char* kServer = "[server]\n";
constexpr const char* kTls = "[tls]\n";
constexpr const char* kListener = "[[listener]]\nkind = \"smtp\"\naddress = \"127.0.0.1:2525\"\n";
constexpr const char* kListenerNoKind = "[[listener]]\naddress = \"127.0.0.1:2525\"\n";
constexpr const char* kListenerNoAddress = "[[listener]]\nkind = \"smtp\"\n";
constexpr const char* kSmtpsNoTls =
    "[[listener]]\nkind = \"smtps\"\naddress = \"127.0.0.1:2465\"\n";
constexpr const char* kHttpNoTls = "[[listener]]\nkind = \"http\"\naddress = \"127.0.0.1:8025\"\n";
constexpr const char* kQueue = "[queue]\n";
constexpr const char* kDns = "[dns]\n";
constexpr const char* kDelivery = "[delivery]\n";
constexpr const char* kDest = "[[delivery.destination]]\npattern = \"example.com\"\n";
constexpr const char* kDestNoPattern = "[[delivery.destination]]\n";
constexpr const char* kPool = "[[source_pool]]\n";
constexpr const char* kPoolSource = "\n[[source_pool.source]]\naddress = \"192.0.2.1\"\n";
constexpr const char* kSource =
    "[[source_pool]]\nname = \"p\"\n[[source_pool.source]]\naddress = \"192.0.2.1\"\n";
constexpr const char* kSourceNoAddress = "[[source_pool]]\nname = \"p\"\n[[source_pool.source]]\n";
constexpr const char* kRouteNoHop = "[[route]]\ndomain = \"example.test\"\n";
constexpr const char* kRouteNoDomain = "[[route]]\nnext_hop = \"127.0.0.1:2526\"\n";
constexpr const char* kApi = "[api]\n";
constexpr const char* kBounce = "[bounce]\n";

const Case kCases[] = {
    {kServer, "hostname = 5", "server.hostname", "expected a string, got an integer"},
    {kServer, "hostname = \"a..b\"", "server.hostname", "not a valid domain name"},
    {kServer, "data_dir = 1", "server.data_dir", "expected a string"},
    {kServer, "data_dir = \"\"", "server.data_dir", "must not be empty"},
    {kServer, "shards = \"2\"", "server.shards", "expected an integer, got a string"},
    {kServer, "shards = 1025", "server.shards", "out of range [0, 1024]"},
    {kServer, "shards = -1", "server.shards", "out of range"},
    {kServer, "shards = 2.0", "server.shards", "expected an integer, got a float"},
    {kServer, "log_level = \"loud\"", "server.log_level", "\"loud\" is not one of"},
    {kServer, "log_level = 3", "server.log_level", "expected a string"},
    {kTls, "cert_file = 1", "tls.cert_file", "expected a string"},
    {kTls, "key_file = \"\"", "tls.key_file", "must not be empty"},
    {kTls, "self_signed = \"yes\"", "tls.self_signed", "expected true or false"},
    {kListenerNoKind, "kind = 1", "listener[0].kind", "expected a string"},
    {kListenerNoKind, "kind = \"ftp\"", "listener[0].kind", "\"ftp\" is not one of"},
    {kListener, "name = \"bad name\"", "listener[0].name", "letters, digits"},
    {kListener, "name = 3", "listener[0].name", "expected a string"},
    {kListenerNoAddress, "address = \"127.0.0.1\"", "listener[0].address", "needs a port"},
    {kListenerNoAddress, "address = \"127.0.0.1:0\"", "listener[0].address", "port from 1"},
    {kListenerNoAddress, "address = \"localhost:25\"", "listener[0].address", "not an IP address"},
    {kListenerNoAddress, "address = \"127.0.0.1:70000\"", "listener[0].address", "bad port"},
    {kListenerNoAddress, "address = 2525", "listener[0].address", "expected a string"},
    {kListener, "tls = \"sometimes\"", "listener[0].tls", "is not one of"},
    {kListener, "tls = \"implicit\"", "listener[0].tls", "use kind = \"smtps\""},
    {kSmtpsNoTls, "tls = \"starttls\"", "listener[0].tls", "always use implicit TLS"},
    {kHttpNoTls, "tls = \"starttls\"", "listener[0].tls", "HTTP has no STARTTLS"},
    {kListener, "max_connections = 0", "listener[0].max_connections", "out of range"},
    {kListener, "max_connections = \"10\"", "listener[0].max_connections", "expected an integer"},
    {kListener, "max_line_length = 100", "listener[0].max_line_length", "out of range"},
    {kListener, "max_line_length = \"2MiB\"", "listener[0].max_line_length", "out of range"},
    {kListener, "max_line_length = true", "listener[0].max_line_length", "expected a size"},
    {kListener, "max_message_size = \"1B\"", "listener[0].max_message_size", "out of range"},
    {kListener, "max_message_size = \"17GiB\"", "listener[0].max_message_size", "out of range"},
    {kListener, "max_message_size = \"10QB\"", "listener[0].max_message_size", "bad size"},
    {kListener, "max_message_size = -5", "listener[0].max_message_size", "negative"},
    {kListener, "command_timeout = \"0s\"", "listener[0].command_timeout", "out of range"},
    {kListener, "command_timeout = \"25h\"", "listener[0].command_timeout", "out of range"},
    {kListener, "command_timeout = 30", "listener[0].command_timeout", "a duration string"},
    {kQueue, "max_group_size = \"1KiB\"", "queue.max_group_size", "out of range"},
    {kQueue, "max_group_size = \"2GiB\"", "queue.max_group_size", "out of range"},
    {kQueue, "max_pending_size = -1", "queue.max_pending_size", "negative"},
    {kQueue, "memtable_size = \"1MiB\"", "queue.memtable_size", "out of range"},
    {kQueue, "min_free_space = \"lots\"", "queue.min_free_space", "bad size"},
    {kQueue, "feedback_retention = \"400d\"", "queue.feedback_retention", "out of range"},
    {kQueue, "retry_schedule = \"5m\"", "queue.retry_schedule", "expected an array"},
    {kQueue, "retry_schedule = []", "queue.retry_schedule", "at least one"},
    {kQueue, "retry_jitter = 1.5", "queue.retry_jitter", "out of range [0, 1]"},
    {kQueue, "retry_jitter = -0.1", "queue.retry_jitter", "out of range"},
    {kQueue, "retry_jitter = nan", "queue.retry_jitter", "out of range"},
    {kQueue, "retry_jitter = \"0.1\"", "queue.retry_jitter", "expected a number"},
    {kQueue, "max_age = \"30s\"", "queue.max_age", "out of range [1m, 365d]"},
    {kQueue, "max_age = \"366d\"", "queue.max_age", "out of range"},
    {kQueue, "max_age = \"5 days\"", "queue.max_age", "bad duration"},
    {kQueue, "sync_wal = 1", "queue.sync_wal", "expected true or false"},
    {kQueue, "outcome_sync_delay = \"2s\"", "queue.outcome_sync_delay", "out of range [0s, 1s]"},
    {kQueue, "outcome_sync_delay = 20", "queue.outcome_sync_delay", "expected"},
    {kDns, "resolvers = \"1.1.1.1\"", "dns.resolvers", "expected an array of strings"},
    {kDns, "timeout = \"50ms\"", "dns.timeout", "out of range [100ms, 1m]"},
    {kDns, "timeout = \"61s\"", "dns.timeout", "out of range"},
    {kDns, "tries = 0", "dns.tries", "out of range [1, 10]"},
    {kDns, "tries = 11", "dns.tries", "out of range"},
    {kDns, "cache_size = -1", "dns.cache_size", "out of range"},
    {kDns, "cache_size = 10000001", "dns.cache_size", "out of range"},
    {kDns, "mx_port = 0", "dns.mx_port", "out of range [1, 65535]"},
    {kDns, "mx_port = 65536", "dns.mx_port", "out of range"},
    {kDelivery, "max_connections = 0", "delivery.max_connections", "out of range"},
    {kDelivery, "max_connections = 100001", "delivery.max_connections", "out of range"},
    {kDelivery, "max_messages_per_connection = 0", "delivery.max_messages_per_connection",
     "out of range"},
    {kDelivery, "max_recipients_per_transaction = 100001",
     "delivery.max_recipients_per_transaction", "out of range"},
    {kDelivery, "message_rate = \"0/s\"", "delivery.message_rate", "zero"},
    {kDelivery, "message_rate = \"10/week\"", "delivery.message_rate", "bad rate"},
    {kDelivery, "message_rate = 10", "delivery.message_rate", "expected a string"},
    {kDelivery, "connection_rate = \"x\"", "delivery.connection_rate", "bad rate"},
    {kDelivery, "connect_timeout = \"11m\"", "delivery.connect_timeout", "out of range"},
    {kDelivery, "greeting_timeout = \"2h\"", "delivery.greeting_timeout", "out of range"},
    {kDelivery, "command_timeout = \"0s\"", "delivery.command_timeout", "out of range"},
    {kDelivery, "data_timeout = \"61m\"", "delivery.data_timeout", "out of range"},
    {kDelivery, "data_block_timeout = 5", "delivery.data_block_timeout", "a duration string"},
    {kDelivery, "data_done_timeout = \"forever\"", "delivery.data_done_timeout", "bad duration"},
    {kDelivery, "idle_timeout = \"2h\"", "delivery.idle_timeout", "out of range"},
    {kDelivery, "tls = \"maybe\"", "delivery.tls", "is not one of"},
    {kDelivery, "pipeline_messages = \"yes\"", "delivery.pipeline_messages",
     "expected true or false"},
    {kDelivery, "source_pool = \"missing\"", "delivery.source_pool", "no [[source_pool]]"},
    {kDelivery, "source_pool = 1", "delivery.source_pool", "expected a string"},
    {kDestNoPattern, "pattern = \"*\"", "delivery.destination[0].pattern", "bad pattern"},
    {kDestNoPattern, "pattern = \"a_b.com\"", "delivery.destination[0].pattern", "bad pattern"},
    {kDestNoPattern, "pattern = 1", "delivery.destination[0].pattern", "expected a string"},
    {kDest, "match = \"host\"", "delivery.destination[0].match", "is not one of"},
    {kDest, "max_connections = 0", "delivery.destination[0].max_connections", "out of range"},
    {kDest, "message_rate = \"1/fortnight\"", "delivery.destination[0].message_rate", "bad rate"},
    {kDest, "tls = \"on\"", "delivery.destination[0].tls", "is not one of"},
    {kDest, "source_pool = \"nope\"", "delivery.destination[0].source_pool", "no [[source_pool]]"},
    {kDest, "connect_timeout = \"1x\"", "delivery.destination[0].connect_timeout", "unknown unit"},
    {kPool, "name = 1", "source_pool[0].name", "expected a string", kPoolSource},
    {kPool, "name = \"\"", "source_pool[0].name", "must not be empty", kPoolSource},
    {kSourceNoAddress, "address = \"not-ip\"", "source_pool[0].source[0].address",
     "not an IP address"},
    {kSourceNoAddress, "address = \"192.0.2.1:25\"", "source_pool[0].source[0].address",
     "without a port"},
    {kSource, "ehlo = \"bad ehlo\"", "source_pool[0].source[0].ehlo", "not a valid domain"},
    {kSource, "weight = 0", "source_pool[0].source[0].weight", "out of range [1, 1000]"},
    {kSource, "weight = 1001", "source_pool[0].source[0].weight", "out of range"},
    {kRouteNoDomain, "domain = \"bad domain\"", "route[0].domain", "bad pattern"},
    {kRouteNoHop, "next_hop = \"host:0\"", "route[0].next_hop", "bad port"},
    {kRouteNoHop, "next_hop = \"a b:25\"", "route[0].next_hop", "bad next hop"},
    {kRouteNoHop, "next_hop = \"[::1]:0\"", "route[0].next_hop", "port 0"},
    {kRouteNoHop, "next_hop = 25", "route[0].next_hop", "expected a string"},
    {kApi, "keys = \"x\"", "api.keys", "expected an array"},
    {kBounce, "domains = \"x\"", "bounce.domains", "expected an array"},
    {kBounce, "verp_secret_file = \"\"", "bounce.verp_secret_file", "must not be empty"},
};

int CountLines(const char* text) {
  int n = 0;
  for (const char* p = text; *p != '\0'; ++p) n += *p == '\n';
  return n;
}

class KeyErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(KeyErrorTest, ReportsOneErrorAtTheKeysLine) {
  const Case& c = GetParam();
  std::string text = std::string(c.prefix) + c.line + "\n" + c.suffix;
  ConfigParseResult result = ParseConfig(text, "test.toml");
  ASSERT_EQ(result.errors.size(), 1u) << text << "\n---\n" << result.ErrorReport("test.toml");
  const ConfigError& e = result.errors[0];
  EXPECT_EQ(e.line, CountLines(c.prefix) + 1) << e.ToString("test.toml");
  // The value starts after "key = ".
  std::string_view line(c.line);
  EXPECT_EQ(e.column, static_cast<int>(line.find(" = ") + 4)) << e.ToString("test.toml");
  EXPECT_EQ(e.key, c.key);
  EXPECT_NE(e.message.find(c.message), std::string::npos)
      << "message: " << e.message << "\nexpected to contain: " << c.message;
}

INSTANTIATE_TEST_SUITE_P(EveryKey, KeyErrorTest, ::testing::ValuesIn(kCases));

// Errors inside a list name the element and point at it.
TEST(ListErrors, NameTheElementAndItsColumn) {
  const char* text =
      "[queue]\n"
      "retry_schedule = [\"5m\", \"8d\", 3, \"1x\"]\n"
      "[dns]\n"
      "resolvers = [\"1.1.1.1\", \"1.1.1.1:0\", \"dns.example\"]\n"
      "[api]\n"
      "keys = [\"sha256:abc\"]\n"
      "[bounce]\n"
      "domains = [\"ok.example\", \"bad_domain\"]\n";
  ConfigParseResult result = ParseConfig(text, "t");
  ASSERT_EQ(result.errors.size(), 7u) << result.ErrorReport("t");
  const struct {
    int line, column;
    const char* key;
    const char* message;
  } want[] = {
      {2, 25, "queue.retry_schedule[1]", "out of range [1s, 7d]"},
      {2, 31, "queue.retry_schedule[2]", "expected a string, got an integer"},
      {2, 34, "queue.retry_schedule[3]", "unknown unit"},
      {4, 25, "dns.resolvers[1]", "port 0"},
      {4, 38, "dns.resolvers[2]", "not an IP address"},
      {6, 9, "api.keys[0]", "64 hex digits"},
      {8, 26, "bounce.domains[1]", "not a valid domain"},
  };
  for (size_t i = 0; i < std::size(want); ++i) {
    const ConfigError& e = result.errors[i];
    EXPECT_EQ(e.line, want[i].line) << e.ToString("t");
    EXPECT_EQ(e.column, want[i].column) << e.ToString("t");
    EXPECT_EQ(e.key, want[i].key);
    EXPECT_NE(e.message.find(want[i].message), std::string::npos) << e.ToString("t");
  }
}

TEST(MissingKeys, PointAtTheTableHeader) {
  const char* text =
      "[[listener]]\n"  // 1: no kind, no address
      "name = \"x\"\n"
      "[[delivery.destination]]\n"  // 3: no pattern
      "match = \"mx\"\n"
      "[[source_pool]]\n"  // 5: no name, no source
      "[[route]]\n";       // 6: no domain, no next_hop
  ConfigParseResult result = ParseConfig(text, "t");
  std::vector<std::pair<int, std::string>> got;
  for (const ConfigError& e : result.errors) got.emplace_back(e.line, e.key);
  std::vector<std::pair<int, std::string>> want = {{1, "listener[0].kind"},
                                                   {1, "listener[0].address"},
                                                   {3, "delivery.destination[0].pattern"},
                                                   {5, "source_pool[0].name"},
                                                   {5, "source_pool[0].source"},
                                                   {6, "route[0].domain"},
                                                   {6, "route[0].next_hop"}};
  EXPECT_EQ(got, want) << result.ErrorReport("t");
}

}  // namespace
}  // namespace salvo
