// delivery_bench: end-to-end delivery load. Fills a fresh spool with N
// single messages of SIZE bytes to recipients spread over D domains (AcceptMessage,
// group-committed), whose MX records come from a local dnsmasq (the domains
// share H MX hosts, all on 127.0.0.1), then starts the delivery engine on
// SHARDS shards against an smtp-sink listening on 127.0.0.1:PORT (started by
// run.sh) and times until every recipient has its outcome recorded.
//
//   delivery_bench --port=2526 [--messages=100000] [--domains=1000]
//                  [--mx-hosts=20] [--size=1024] [--shards=2]
//                  [--connections=20] [--campaign]
//
// Prints injection and delivery rates and the CPU time of this process per
// message (user+sys, both phases and the delivery phase alone).
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "engine/base/strings.h"
#include "engine/delivery/delivery_engine.h"
#include "engine/loop/shard.h"
#include "fmt/format.h"
#include "queue/spool.h"
#include "spdlog/spdlog.h"
#include "tests/dns/dnsmasq_process.h"

namespace salvo::delivery {
namespace {

using namespace std::chrono_literals;

struct Args {
  int port = 2526;
  int messages = 100000;
  int domains = 1000;
  int mx_hosts = 20;
  int size = 1024;
  int shards = 2;
  int connections = 20;  // per site
  bool campaign = false;
  std::string dir = "/tmp/salvo-delivery-bench";
};

bool Flag(const char* arg, const char* name, int* out) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  return absl::SimpleAtoi(arg + n + 1, out);
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string Domain(int i) { return fmt::format("d{}.bench.test", i); }

std::string Body(int size, int i) {
  std::string head = fmt::format(
      "From: bench@origin.test\r\nTo: r@bench.test\r\nSubject: bench {}\r\n"
      "Message-ID: <{}@origin.test>\r\n\r\n",
      i, i);
  std::string body = head;
  while (body.size() + 2 < static_cast<size_t>(size)) {
    body.append(std::min<size_t>(76, size - body.size() - 2), 'x');
    body += "\r\n";
  }
  return body;
}

void Inject(queue::Spool& spool, const Args& a) {
  std::atomic<int> outstanding{0}, failed{0};
  if (a.campaign) {
    queue::Campaign c;
    c.message_template.headers = {{"From", "bench@origin.test"}, {"Subject", "Hi {{name}}"}};
    c.message_template.text = Body(a.size - 200, 0).substr(80) + "{{name}}\n";
    c.settings.envelope_from = "bench@origin.test";
    auto id = spool.CreateCampaign(c).Wait();
    for (int start = 0; start < a.messages; start += 1000) {
      std::vector<queue::NewRecipient> list;
      for (int i = start; i < std::min(a.messages, start + 1000); ++i) {
        list.push_back({.address = fmt::format("r{}@{}", i, Domain(i % a.domains)),
                        .variables = {{"name", fmt::format("R{}", i)}}});
      }
      if (!spool.AddCampaignRecipients(*id, std::move(list)).Wait().ok()) ++failed;
    }
    (void)spool.CloseCampaign(*id).Wait();
  } else {
    for (int i = 0; i < a.messages; ++i) {
      while (outstanding.load() > 2000) std::this_thread::sleep_for(100us);
      ++outstanding;
      spool
          .AcceptMessage(
              queue::Message{.envelope_from = "bench@origin.test", .content = Body(a.size, i)},
              {{.address = fmt::format("r{}@{}", i, Domain(i % a.domains))}})
          .Then([&](absl::StatusOr<queue::AcceptedMessage> r) {
            if (!r.ok()) ++failed;
            --outstanding;
          });
    }
    while (outstanding.load() > 0) std::this_thread::sleep_for(1ms);
  }
  if (failed.load() > 0) std::fprintf(stderr, "%d accepts failed\n", failed.load());
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    if (Flag(argv[i], "--port", &a.port) || Flag(argv[i], "--messages", &a.messages) ||
        Flag(argv[i], "--domains", &a.domains) || Flag(argv[i], "--mx-hosts", &a.mx_hosts) ||
        Flag(argv[i], "--size", &a.size) || Flag(argv[i], "--shards", &a.shards) ||
        Flag(argv[i], "--connections", &a.connections)) {
      continue;
    }
    if (std::strcmp(argv[i], "--campaign") == 0) {
      a.campaign = true;
      continue;
    }
    std::fprintf(stderr, "unknown argument %s\n", argv[i]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  std::vector<std::string> dns_args = {"--local-ttl=3600"};
  for (int h = 0; h < a.mx_hosts; ++h) {
    dns_args.push_back(fmt::format("--host-record=mx{}.bench.test,127.0.0.1", h));
  }
  for (int d = 0; d < a.domains; ++d) {
    dns_args.push_back(fmt::format("--mx-host={},mx{}.bench.test,10", Domain(d), d % a.mx_hosts));
  }
  std::string error;
  auto dns = dns::testing::DnsmasqProcess::Start(dns_args, &error);
  if (dns == nullptr) {
    std::fprintf(stderr, "dnsmasq: %s\n", error.c_str());
    return 1;
  }
  std::filesystem::remove_all(a.dir);
  queue::SpoolOptions so;
  so.path = a.dir + "/spool";
  so.min_free_bytes = 0;
  auto spool = queue::Spool::Open(so);
  if (!spool.ok()) {
    std::fprintf(stderr, "spool: %s\n", std::string(ToStd(spool.status().message())).c_str());
    return 1;
  }
  double cpu0 = CpuSeconds();
  Deadline t0 = Clock::now();
  Inject(**spool, a);
  double inject_s = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu1 = CpuSeconds();

  auto config = std::make_shared<Config>();
  config->server.hostname = "bench.salvo.test";
  config->dns.resolvers = {*SocketAddress::Parse(dns->address())};
  config->dns.mx_port = a.port;
  config->delivery.defaults.max_connections = a.connections;
  config->delivery.defaults.max_messages_per_connection = 1000000;
  config->delivery.defaults.tls = TlsPolicy::kOff;
  DeliveryEngineOptions o;
  o.spool = spool->get();
  o.config = config;
  o.shards = a.shards;
  o.tuning.log.path = a.dir + "/delivery.jsonl";
  auto engine = DeliveryEngine::Create(std::move(o));
  if (!engine.ok()) return 1;
  Deadline t1 = Clock::now();
  auto shards = ShardSet::Start(
      a.shards, [e = engine->get()](Ring& ring, int i) { return e->RunShard(ring, i); });
  uint64_t want = static_cast<uint64_t>(a.messages);
  DeliveryStats s;
  Deadline give_up = After(30min);
  for (;;) {
    s = (*engine)->stats();
    if (s.delivered + s.failed >= want || Clock::now() > give_up) break;
    std::this_thread::sleep_for(5ms);
  }
  double deliver_s = std::chrono::duration<double>(Clock::now() - t1).count();
  double cpu2 = CpuSeconds();
  (*shards)->Stop();
  (*shards)->Join();
  std::printf(
      "messages=%d domains=%d mx_hosts=%d size=%d shards=%d conns_per_site=%d mode=%s\n"
      "inject: %.2f s, %.0f msgs/s, CPU %.3f ms/msg\n"
      "deliver: %.2f s, %.0f msgs/s, CPU %.3f ms/msg (delivered %llu failed %llu deferred %llu "
      "connections %llu transactions %llu)\n"
      "end-to-end (inject then deliver): %.0f msgs/s, CPU %.3f ms/msg\n",
      a.messages, a.domains, a.mx_hosts, a.size, a.shards, a.connections,
      a.campaign ? "campaign" : "messages", inject_s, a.messages / inject_s,
      1000 * (cpu1 - cpu0) / a.messages, deliver_s, a.messages / deliver_s,
      1000 * (cpu2 - cpu1) / a.messages, (unsigned long long)s.delivered,
      (unsigned long long)s.failed, (unsigned long long)s.deferred,
      (unsigned long long)s.connections_opened, (unsigned long long)s.transactions,
      a.messages / (inject_s + deliver_s), 1000 * (cpu2 - cpu0) / a.messages);
  return s.delivered == want ? 0 : 1;
}

}  // namespace
}  // namespace salvo::delivery

int main(int argc, char** argv) { return salvo::delivery::Main(argc, argv); }
