#include "tests/delivery/delivery_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "spdlog/spdlog.h"

namespace salvo::delivery::testing {

namespace {

std::vector<std::string> TestZone() {
  std::vector<std::string> args = {
      "--local-ttl=60",
      "--host-record=mx1.peer.test,127.0.0.2",
      "--host-record=mx2.peer.test,127.0.0.2",
      "--host-record=mx3.peer.test,127.0.0.2",
      "--host-record=shared.peer.test,127.0.0.2",
      "--host-record=dead.peer.test,127.0.0.3",
      "--mx-host=a.test,mx1.peer.test,10",
      "--mx-host=b.test,mx1.peer.test,10",
      "--mx-host=c.test,mx2.peer.test,10",
      "--mx-host=capped.test,mx3.peer.test,10",
      "--mx-host=fallback.test,dead.peer.test,10",
      "--mx-host=fallback.test,mx1.peer.test,20",
      "--mx-host=dead.test,dead.peer.test,10",
      "--mx-host=nullmx.test,.,0",
  };
  for (int i = 1; i <= 8; ++i) {
    args.push_back("--mx-host=s" + std::to_string(i) + ".test,shared.peer.test,10");
  }
  return args;
}

// The test DNS server lives from the first test to the end of the binary's
// tests: a gtest Environment owns it and stops it in TearDown.
class TestDnsEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string error;
    dns_ = dns::testing::DnsmasqProcess::Start(TestZone(), &error);
    if (dns_ == nullptr) ADD_FAILURE() << "dnsmasq: " << error;
  }
  void TearDown() override { dns_.reset(); }
  dns::testing::DnsmasqProcess* dns() const { return dns_.get(); }

 private:
  std::unique_ptr<dns::testing::DnsmasqProcess> dns_;
};

// Registered before main() runs; gtest owns (and deletes) it.
TestDnsEnvironment* const test_dns_environment =
    static_cast<TestDnsEnvironment*>(::testing::AddGlobalTestEnvironment(new TestDnsEnvironment));

}  // namespace

dns::testing::DnsmasqProcess* TestDns() { return test_dns_environment->dns(); }

std::string TempDir() {
  char tmpl[] = "/tmp/salvo-delivery-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  chmod(dir.c_str(), 0777);  // smtp-sink writes as nobody
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

int StartPeer(ChildProcess& child, const std::string& host, int port, const std::string& out,
              std::vector<std::string> flags) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   SALVO_SOURCE_DIR "/tests/smtp/peer_mta.py",
                                   "--out",
                                   out,
                                   "--host",
                                   host,
                                   "--port",
                                   std::to_string(port)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  if (!child.Start(argv)) return 0;
  auto line = child.WaitFor("PORT ", 15s);
  return line ? std::stoi(*line) : 0;
}

namespace {

bool Listening(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

bool PortFree(const char* host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &a.sin_addr);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

bool StartSink(ChildProcess& child, const std::string& host, int port, const std::string& dir,
               std::vector<std::string> flags) {
  std::vector<std::string> argv = {"/usr/sbin/smtp-sink", "-4", "-u", "nobody", "-d",
                                   dir + "/%M%S.%%"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(host + ":" + std::to_string(port));
  argv.push_back("64");
  if (!child.Start(argv)) return false;
  for (int i = 0; i < 200; ++i) {
    if (Listening(host, port)) return true;
    if (waitpid(child.pid(), nullptr, WNOHANG) != 0) return false;
    usleep(10000);
  }
  return false;
}

int FreePort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
    socklen_t len = sizeof a;
    bind(fd, reinterpret_cast<sockaddr*>(&a), len);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    int port = ntohs(a.sin_port);
    close(fd);
    if (PortFree("127.0.0.3", port) && PortFree("127.0.0.1", port)) return port;
  }
  return 0;
}

Config TestConfig(int mx_port) {
  Config c;
  c.server.hostname = "mta.salvo.test";
  c.dns.resolvers = {*SocketAddress::Parse(TestDns()->address())};
  c.dns.timeout = 1s;
  c.dns.tries = 2;
  c.dns.mx_port = mx_port;
  c.queue.retry_schedule = {1s};
  c.queue.retry_jitter = 0;
  c.queue.max_age = 10min;
  c.delivery.dsn.enabled = false;  // DSNs out are dsn_out_test.cc's subject
  DeliveryPolicy& p = c.delivery.defaults;
  p.max_connections = 4;
  p.connect_timeout = 2s;
  p.greeting_timeout = p.command_timeout = p.data_timeout = 5s;
  p.data_block_timeout = p.data_done_timeout = 5s;
  p.idle_timeout = 1s;
  return c;
}

DeliveryTuning TestTuning() {
  DeliveryTuning t;
  t.poll_interval = 50ms;
  t.dead_site_hold = 200ms;
  t.backoff.enabled = false;
  return t;
}

DeliveryHarness::DeliveryHarness() : dir_(TempDir()) {
  if (getenv("SALVO_TEST_DEBUG") != nullptr) spdlog::set_level(spdlog::level::debug);
  queue::SpoolOptions o;
  o.path = dir_ + "/spool";
  o.min_free_bytes = 0;
  o.retry.intervals = {absl::Seconds(1)};
  o.retry.jitter = 0;
  o.memtable_bytes = 16 << 20;
  o.block_cache_bytes = 8 << 20;
  auto s = queue::Spool::Open(std::move(o));
  EXPECT_TRUE(s.ok()) << s.status();
  if (s.ok()) spool_ = std::move(*s);
}

DeliveryHarness::~DeliveryHarness() {
  Stop();
  engine_.reset();
  spool_.reset();
  std::error_code ec;
  if (getenv("SALVO_TEST_KEEP") == nullptr) std::filesystem::remove_all(dir_, ec);
}

void DeliveryHarness::Start(Config config, DeliveryTuning tuning, int shards,
                            std::string verp_secret) {
  CreateEngine(std::move(config), std::move(tuning), shards, std::move(verp_secret));
  if (engine_ == nullptr) return;
  auto set = ShardSet::Start(
      shards, [e = engine_.get()](Ring& ring, int index) { return e->RunShard(ring, index); });
  ASSERT_TRUE(set.ok()) << set.status();
  shards_ = std::move(*set);
}

void DeliveryHarness::CreateEngine(Config config, DeliveryTuning tuning, int shards,
                                   std::string verp_secret) {
  DeliveryEngineOptions o;
  o.spool = spool_.get();
  o.config = std::make_shared<const Config>(std::move(config));
  o.shards = shards;
  o.verp_secret = std::move(verp_secret);
  if (!o.verp_secret.empty()) o.bounce_domain = "bounces.salvo.test";
  o.tls.verify = TlsVerify::kOff;
  tuning.log.path = dir_ + "/delivery.jsonl";
  o.tuning = std::move(tuning);
  auto engine = DeliveryEngine::Create(std::move(o));
  ASSERT_TRUE(engine.ok()) << engine.status();
  engine_ = std::move(*engine);
}

void DeliveryHarness::Stop() {
  if (shards_) {
    shards_->Stop();
    shards_->Join();
    shards_.reset();
  }
  if (engine_) engine_->FlushLog();
}

queue::AcceptedMessage DeliveryHarness::Send(std::vector<std::string> rcpts, std::string content) {
  if (content.empty()) {
    content = "From: sender@origin.test\r\nSubject: test\r\n\r\nhello\r\n";
  }
  std::vector<queue::NewRecipient> list;
  for (auto& r : rcpts) list.push_back({.address = r});
  auto r = spool_
               ->AcceptMessage(queue::Message{.envelope_from = "sender@origin.test",
                                              .content = std::move(content)},
                               std::move(list))
               .Wait();
  EXPECT_TRUE(r.ok()) << r.status();
  if (engine_) engine_->Kick();
  return r.ok() ? *r : queue::AcceptedMessage{};
}

std::vector<queue::RecipientId> DeliveryHarness::SendCampaign(std::vector<std::string> rcpts) {
  queue::Campaign c;
  c.message_template.headers = {
      {"From", "News <news@origin.test>"}, {"Subject", "Hello {{name}}"}, {"X-Campaign", "spring"}};
  c.message_template.text = "Dear {{name}},\nthis is for you.\n";
  c.settings.envelope_from = "news@origin.test";
  c.settings.name = "spring";
  auto id = spool_->CreateCampaign(c).Wait();
  EXPECT_TRUE(id.ok()) << id.status();
  if (!id.ok()) return {};
  std::vector<queue::NewRecipient> list;
  for (auto& r : rcpts) {
    list.push_back({.address = r, .variables = {{"name", r.substr(0, r.find('@'))}}});
  }
  auto ids = spool_->AddCampaignRecipients(*id, std::move(list)).Wait();
  EXPECT_TRUE(ids.ok()) << ids.status();
  EXPECT_TRUE(spool_->CloseCampaign(*id).Wait().ok());
  if (engine_) engine_->Kick();
  return ids.ok() ? *ids : std::vector<queue::RecipientId>{};
}

bool DeliveryHarness::WaitUntilDone(Duration timeout) {
  Deadline end = After(timeout);
  while (Clock::now() < end) {
    if (spool_->stats().queued == 0) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::map<queue::RecipientId, FinalState> DeliveryHarness::Finals() {
  std::map<queue::RecipientId, FinalState> out;
  auto events = spool_->ReadEvents(queue::EventId(), 100000).Wait();
  EXPECT_TRUE(events.ok()) << events.status();
  if (!events.ok()) return out;
  for (const queue::DeliveryEvent& e : *events) {
    FinalState& f = out[e.recipient];
    if (e.kind == queue::RecipientState::kDeferred) ++f.deferrals;
    f.state = e.kind;
    f.attempts = e.attempts;
    f.response = e.response;
    f.reason = e.reason;
    f.address = e.address;
  }
  return out;
}

std::string DeliveryHarness::SubDir(const std::string& name) {
  std::string path = dir_ + "/" + name;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  EXPECT_FALSE(ec) << path << ": " << ec.message();
  chmod(path.c_str(), 0777);  // smtp-sink writes as nobody
  return path;
}

FinalState DeliveryHarness::Final() {
  std::map<queue::RecipientId, FinalState> finals = Finals();
  EXPECT_EQ(finals.size(), 1u);
  return finals.empty() ? FinalState{} : finals.begin()->second;
}

}  // namespace salvo::delivery::testing
