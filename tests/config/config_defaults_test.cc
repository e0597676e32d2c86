// The embedded default config: parses cleanly, is a loopback-only quick
// start, and says the same as the built-in defaults of config.h (so the
// printed file is an honest reference).
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "engine/config/config_loader.h"
#include "engine/config/default_config.h"

namespace salvo {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

ConfigParseResult ParseDefault() { return ParseConfig(kDefaultConfigToml, "default"); }

TEST(DefaultConfig, ParsesWithoutErrors) {
  ConfigParseResult result = ParseDefault();
  EXPECT_TRUE(result.ok()) << result.ErrorReport("default");
}

TEST(DefaultConfig, ListensOnLoopbackHighPortsOnly) {
  Config c = ParseDefault().config;
  std::set<std::string> kinds;
  for (const ListenerConfig& l : c.listeners) {
    EXPECT_TRUE(l.address.IsLoopback()) << l.name;
    EXPECT_GT(l.address.port(), 1024) << l.name;
    kinds.insert(std::string(ToString(l.kind)));
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"smtp", "submission", "smtps", "http", "bounce", "pop3",
                                          "imap"}));
  ASSERT_EQ(c.listeners.size(), 7u);
  EXPECT_EQ(c.listeners[0].address.ToString(), "127.0.0.1:2525");
  EXPECT_EQ(c.listeners[3].address.ToString(), "127.0.0.1:8025");
}

TEST(DefaultConfig, DataAndTlsFilesLiveUnderTheWorkingDirectory) {
  Config c = ParseDefault().config;
  EXPECT_EQ(c.server.data_dir, "./var/salvo");
  EXPECT_EQ(c.tls.cert_file, "./var/salvo/tls/cert.pem");
  EXPECT_EQ(c.tls.key_file, "./var/salvo/tls/key.pem");
  EXPECT_TRUE(c.tls.self_signed);
  EXPECT_EQ(c.bounce.verp_secret_file, "./var/salvo/verp.key");
}

TEST(DefaultConfig, HostnameDefaultsToTheMachines) {
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  EXPECT_EQ(ParseDefault().config.server.hostname, name);
}

TEST(DefaultConfig, AgreesWithTheBuiltInDefaults) {
  Config file = ParseDefault().config;
  ConfigParseResult empty = ParseConfig("", "empty");
  ASSERT_TRUE(empty.ok()) << empty.ErrorReport("empty");
  const Config& built_in = empty.config;
  EXPECT_TRUE(built_in.listeners.empty());

  EXPECT_EQ(file.server.data_dir, built_in.server.data_dir);
  EXPECT_EQ(file.server.shards, built_in.server.shards);
  EXPECT_EQ(file.server.log_level, built_in.server.log_level);
  EXPECT_EQ(file.tls.cert_file, built_in.tls.cert_file);
  EXPECT_EQ(file.queue.max_group_size, built_in.queue.max_group_size);
  EXPECT_EQ(file.queue.max_pending_size, built_in.queue.max_pending_size);
  EXPECT_EQ(file.queue.min_free_space, built_in.queue.min_free_space);
  EXPECT_EQ(file.queue.memtable_size, built_in.queue.memtable_size);
  EXPECT_EQ(file.queue.block_cache_size, built_in.queue.block_cache_size);
  EXPECT_EQ(file.queue.feedback_retention, built_in.queue.feedback_retention);
  EXPECT_EQ(file.queue.retry_schedule, built_in.queue.retry_schedule);
  EXPECT_EQ(file.queue.retry_jitter, built_in.queue.retry_jitter);
  EXPECT_EQ(file.queue.max_age, built_in.queue.max_age);
  EXPECT_EQ(file.queue.sync_wal, built_in.queue.sync_wal);
  EXPECT_EQ(file.queue.outcome_sync_delay, built_in.queue.outcome_sync_delay);
  EXPECT_EQ(file.dns.resolvers.size(), built_in.dns.resolvers.size());
  EXPECT_EQ(file.dns.timeout, built_in.dns.timeout);
  EXPECT_EQ(file.dns.tries, built_in.dns.tries);
  EXPECT_EQ(file.dns.cache_size, built_in.dns.cache_size);
  EXPECT_EQ(file.dns.mx_port, built_in.dns.mx_port);
  EXPECT_EQ(file.delivery.defaults, built_in.delivery.defaults);
  EXPECT_FALSE(built_in.delivery.hold);
  EXPECT_EQ(file.api.keys, built_in.api.keys);
  EXPECT_EQ(file.bounce.domains, built_in.bounce.domains);
  EXPECT_EQ(file.bounce.verp_secret_file, built_in.bounce.verp_secret_file);

  // The values the spec names.
  EXPECT_EQ(file.queue.retry_schedule, (std::vector<Duration>{minutes(5), minutes(10), minutes(30),
                                                              hours(1), hours(2), hours(4)}));
  EXPECT_EQ(file.queue.max_age, hours(5 * 24));
  EXPECT_TRUE(file.queue.sync_wal);
  EXPECT_EQ(file.queue.outcome_sync_delay, std::chrono::milliseconds(20));
}

TEST(DefaultConfig, ListenersSpellOutTheirKindsDefaults) {
  for (const ListenerConfig& l : ParseDefault().config.listeners) {
    ListenerLimits want = DefaultListenerLimits(l.kind);
    EXPECT_EQ(l.tls, DefaultListenerTls(l.kind)) << l.name;
    EXPECT_EQ(l.limits.max_connections, want.max_connections) << l.name;
    EXPECT_EQ(l.limits.max_line_length, want.max_line_length) << l.name;
    EXPECT_EQ(l.limits.max_message_size, want.max_message_size) << l.name;
    EXPECT_EQ(l.limits.command_timeout, want.command_timeout) << l.name;
  }
}

}  // namespace
}  // namespace salvo
