// Test harness for the delivery engine: a real Spool in a temp dir, a real
// dnsmasq serving the test zone (MX records pointing at 127.0.0.x hosts),
// real remote MTAs on loopback (aiosmtpd through tests/smtp/peer_mta.py,
// Postfix's smtp-sink), and the engine on a real two-shard ShardSet.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/delivery/delivery_engine.h"
#include "engine/loop/shard.h"
#include "queue/spool.h"
#include "tests/dns/dnsmasq_process.h"
#include "tests/support/child_process.h"

namespace salvo::delivery::testing {

using namespace std::chrono_literals;
using salvo::testing::ChildProcess;

// The test zone. Every MX host lives on a 127.0.0.x address; tests bind
// their peers there on one port and tell the engine that port ([dns]
// mx_port).
//   a.test, b.test      MX mx1.peer.test (127.0.0.2)   one site
//   c.test              MX mx2.peer.test (127.0.0.2)   another site
//   capped.test         MX mx3.peer.test (127.0.0.2)
//   fallback.test       MX 10 dead.peer.test (127.0.0.3, nothing listens),
//                       MX 20 mx1.peer.test
//   s1.test .. s8.test  MX shared.peer.test (127.0.0.2)
//   dead.test           MX dead.peer.test only
//   nullmx.test         null MX (RFC 7505)
//   anything else       NXDOMAIN
dns::testing::DnsmasqProcess* TestDns();

std::string TempDir();
std::string ReadFile(const std::string& path);
std::vector<std::string> ReadLines(const std::string& path);

// aiosmtpd (peer_mta.py) on host:port (port 0: any); returns the port or 0.
int StartPeer(ChildProcess& child, const std::string& host, int port, const std::string& out,
              std::vector<std::string> flags = {});
// smtp-sink on host:port dumping into `dir`; returns true when it listens.
bool StartSink(ChildProcess& child, const std::string& host, int port, const std::string& dir,
               std::vector<std::string> flags = {});
// A TCP port free on 127.0.0.2 and 127.0.0.3 right now.
int FreePort();

// A config for tests: MX port `mx_port`, the test DNS, short timeouts and a
// 1 s retry schedule.
Config TestConfig(int mx_port);
DeliveryTuning TestTuning();

struct FinalState {
  queue::RecipientState state = queue::RecipientState::kQueued;
  int attempts = 0;
  queue::RemoteResponse response;
  std::string reason;
  std::string address;
  int deferrals = 0;
};

class DeliveryHarness {
 public:
  DeliveryHarness();
  ~DeliveryHarness();

  queue::Spool& spool() { return *spool_; }
  DeliveryEngine& engine() { return *engine_; }
  const std::string& dir() const { return dir_; }
  // A fresh directory inside dir() (writable by smtp-sink's user), removed
  // with it.
  std::string SubDir(const std::string& name);

  void Start(Config config, DeliveryTuning tuning = TestTuning(), int shards = 2,
             std::string verp_secret = "");
  // The engine without its shards: nothing is delivered (as with [delivery]
  // hold), what it does off the rings (expiry DSNs) still runs.
  void CreateEngine(Config config, DeliveryTuning tuning = TestTuning(), int shards = 2,
                    std::string verp_secret = "");
  void Stop();

  // A single message from sender@origin.test to `rcpts`.
  queue::AcceptedMessage Send(std::vector<std::string> rcpts, std::string content = "");
  // A campaign with `rcpts` (variable "name" = local part).
  std::vector<queue::RecipientId> SendCampaign(std::vector<std::string> rcpts);

  // Waits until no recipient is queued (every one delivered or failed).
  bool WaitUntilDone(Duration timeout);
  // The last event of every recipient, and its count of deferrals.
  std::map<queue::RecipientId, FinalState> Finals();
  // The final state of the only recipient (a failure if there is not exactly one).
  FinalState Final();

 private:
  std::string dir_;
  std::unique_ptr<queue::Spool> spool_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::unique_ptr<ShardSet> shards_;
};

}  // namespace salvo::delivery::testing
