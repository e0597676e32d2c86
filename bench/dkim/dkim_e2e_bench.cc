// dkim_e2e_bench: end-to-end delivery throughput with DKIM signing on and
// off. Fills a fresh spool with N single messages (or one campaign of N
// recipients) of SIZE bytes spread over D domains (MX records from a local
// dnsmasq, all MX hosts on 127.0.0.1), then runs the delivery engine on
// SHARDS shards against the smtp-sink at 127.0.0.1:PORT (started by e2e.sh)
// and times until every recipient has its outcome. With --dkim=rsa, ed25519
// or dual, the From domain has a fresh key (rsa2048 / ed25519 / both) and
// every message is signed on the engine's DkimSigningPool of --threads
// workers.
//
//   dkim_e2e_bench --port=2526 --dkim=none|rsa|ed25519|dual [--messages=20000]
//                  [--domains=200] [--mx-hosts=10] [--size=4096] [--shards=2]
//                  [--connections=20] [--threads=2] [--backlog-wait-us=N]
//                  [--campaign]
//
// Prints the delivery rate and this process's CPU time per message, in all
// and by thread (rings, signing pool, spool threads); with signing on, then
// the signing ceiling for this run's messages: what the same signer makes
// on one thread signing them back to back, nothing else running (the
// reference for issue 9's ratio, measured on the very message delivered).
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "engine/base/strings.h"
#include "engine/delivery/delivery_engine.h"
#include "engine/dkim/dkim_keyring.h"
#include "engine/loop/shard.h"
#include "engine/tls/dkim_crypto.h"
#include "fmt/format.h"
#include "queue/spool.h"
#include "spdlog/spdlog.h"
#include "tests/dns/dnsmasq_process.h"

namespace salvo::delivery {
namespace {

using namespace std::chrono_literals;

struct Args {
  int port = 2526;
  int messages = 20000;
  int domains = 200;
  int mx_hosts = 10;
  int size = 4096;
  int shards = 2;
  int connections = 20;
  int threads = 2;
  int backlog_wait_us = -1;  // [dkim] backlog_wait; -1: the config's default
  bool campaign = false;
  std::string dkim = "none";
  std::string dir = "/tmp/salvo-dkim-e2e-bench";
};

bool Flag(const char* arg, const char* name, int* out) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  return absl::SimpleAtoi(arg + n + 1, out);
}

struct ThreadUse {
  double cpu_seconds = 0;
  double switches = 0;   // voluntary + involuntary context switches
  double voluntary = 0;  // of which the thread slept (waited) itself
};

// Adds one task's context switches, from its status file, to `use`.
void AddContextSwitches(const std::filesystem::path& task, ThreadUse& use) {
  std::ifstream in(task / "status");
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos || line.find("ctxt_switches") == std::string::npos) continue;
    double n = std::stod(line.substr(colon + 1));
    use.switches += n;
    if (line.rfind("voluntary_ctxt_switches", 0) == 0) use.voluntary += n;
  }
}

// CPU seconds and context switches per thread name ("ring", "dkim-sign", ...)
// of this process, from /proc/self/task/*/stat (utime + stime) and status,
// summed over same-named threads (ring-0, ring-1... count as "ring").
std::map<std::string, ThreadUse> UseByThreadName() {
  std::map<std::string, ThreadUse> out;
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string name = stat.substr(open + 1, close - open - 1);
    if (name.rfind("ring-", 0) == 0) name = "ring";
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    out[name].cpu_seconds += (utime + stime) / ticks;
    AddContextSwitches(task.path(), out[name]);
  }
  return out;
}

// "ring 0.081 ms 2.1 cs (1.9 waits), dkim-sign ..." per message: CPU and
// context switches (of which voluntary: the thread waited)
// of the threads that ran between `before` and `after` (threads that exited
// in between are missed).
std::string UseBreakdown(const std::map<std::string, ThreadUse>& before,
                         const std::map<std::string, ThreadUse>& after, int messages) {
  std::string out;
  for (const auto& [name, use] : after) {
    auto it = before.find(name);
    ThreadUse was = it == before.end() ? ThreadUse{} : it->second;
    double cpu = use.cpu_seconds - was.cpu_seconds, switches = use.switches - was.switches;
    double voluntary = use.voluntary - was.voluntary;
    if (cpu <= 0 && switches < messages / 100) continue;
    out += fmt::format("{}{} {:.3f} ms {:.2f} cs ({:.2f} waits)", out.empty() ? "" : ", ", name,
                       1000 * cpu / messages, switches / messages, voluntary / messages);
  }
  return out;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string Domain(int i) { return fmt::format("d{}.bench.test", i); }

std::string Body(int size) {
  std::string body;
  while (body.size() + 2 < static_cast<size_t>(size)) {
    body.append(std::min<size_t>(76, size - body.size() - 2), 'x');
    body += "\r\n";
  }
  return body;
}

std::string Message(int size, int i) {
  std::string head = fmt::format(
      "From: Bench <bench@origin.test>\r\nTo: r@bench.test\r\nSubject: bench {}\r\n"
      "Date: Mon, 23 Nov 2026 02:00:00 +0000\r\nMessage-ID: <{}@origin.test>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n",
      i, i);
  return head + Body(size - static_cast<int>(head.size()));
}

void Inject(queue::Spool& spool, const Args& a) {
  std::atomic<int> outstanding{0}, failed{0};
  if (a.campaign) {
    queue::Campaign c;
    c.message_template.headers = {{"From", "Bench <bench@origin.test>"},
                                  {"Subject", "Hi {{name}}"}};
    c.message_template.text = Body(a.size - 400);  // static: one body hash
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
              queue::Message{.envelope_from = "bench@origin.test", .content = Message(a.size, i)},
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

// Writes fresh keys for origin.test and returns the [dkim] section.
std::optional<DkimConfig> DkimFor(const Args& a) {
  DkimConfig c;
  c.signing_threads = a.threads;
  if (a.backlog_wait_us >= 0) c.backlog_wait = std::chrono::microseconds(a.backlog_wait_us);
  std::vector<std::pair<crypto::DkimKeyType, std::string>> kinds;
  if (a.dkim == "rsa" || a.dkim == "dual") kinds.emplace_back(crypto::DkimKeyType::kRsa, "r");
  if (a.dkim == "ed25519" || a.dkim == "dual") {
    kinds.emplace_back(crypto::DkimKeyType::kEd25519, "e");
  }
  for (const auto& [type, selector] : kinds) {
    auto key = crypto::DkimKey::Generate(type, 2048);
    auto pem = key.ok() ? key->PrivateKeyPem() : key.status();
    if (!pem.ok()) return std::nullopt;
    std::string path = fmt::format("{}/{}.pem", a.dir, selector);
    std::ofstream(path) << *pem;
    c.keys.push_back({.domain = "origin.test", .selector = selector, .key_file = path});
  }
  return c;
}

// Signs the run's messages back to back on this thread for about a second
// of its CPU time; signs per CPU-second. A campaign's messages share one
// body hash, as the engine's do.
double SigningCeiling(const dkim::DkimSigner& signer, const Args& a) {
  std::vector<std::string> messages;
  for (int i = 0; i < 16; ++i) messages.push_back(Message(a.size, i));
  std::string_view first = messages[0];
  dkim::DkimBodyHash shared = signer.HashBody(first.substr(first.find("\r\n\r\n") + 4));
  auto thread_cpu = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
  };
  double start = thread_cpu();
  int64_t signs = 0;
  while (thread_cpu() - start < 1.0) {
    const std::string& m = messages[signs % messages.size()];
    auto header = a.campaign ? signer.Sign(m, shared) : signer.Sign(m);
    if (!header.ok()) return 0;
    ++signs;
  }
  return static_cast<double>(signs) / (thread_cpu() - start);
}

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    if (Flag(argv[i], "--port", &a.port) || Flag(argv[i], "--messages", &a.messages) ||
        Flag(argv[i], "--domains", &a.domains) || Flag(argv[i], "--mx-hosts", &a.mx_hosts) ||
        Flag(argv[i], "--size", &a.size) || Flag(argv[i], "--shards", &a.shards) ||
        Flag(argv[i], "--connections", &a.connections) || Flag(argv[i], "--threads", &a.threads) ||
        Flag(argv[i], "--backlog-wait-us", &a.backlog_wait_us)) {
      continue;
    }
    if (std::strcmp(argv[i], "--campaign") == 0) {
      a.campaign = true;
    } else if (std::strncmp(argv[i], "--dkim=", 7) == 0) {
      a.dkim = argv[i] + 7;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return false;
    }
  }
  return a.dkim == "none" || a.dkim == "rsa" || a.dkim == "ed25519" || a.dkim == "dual";
}

int Main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, a)) return 2;
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
  std::filesystem::create_directories(a.dir);
  std::optional<DkimConfig> dkim = DkimFor(a);
  if (!dkim) return 1;
  auto keyring = dkim::DkimKeyring::Create(*dkim);
  if (!keyring.ok()) {
    std::fprintf(stderr, "dkim: %s\n", std::string(ToStd(keyring.status().message())).c_str());
    return 1;
  }
  queue::SpoolOptions so;
  so.path = a.dir + "/spool";
  so.min_free_bytes = 0;
  auto spool = queue::Spool::Open(so);
  if (!spool.ok()) return 1;
  Inject(**spool, a);

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
  o.dkim = *keyring;
  o.tuning.log.path = a.dir + "/delivery.jsonl";
  auto engine = DeliveryEngine::Create(std::move(o));
  if (!engine.ok()) return 1;
  double cpu0 = CpuSeconds();
  std::map<std::string, ThreadUse> threads0 = UseByThreadName();
  Deadline t0 = Clock::now();
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
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = CpuSeconds() - cpu0;
  std::map<std::string, ThreadUse> threads1 = UseByThreadName();
  (*shards)->Stop();
  (*shards)->Join();
  std::printf(
      "dkim=%-8s mode=%-8s messages=%d size=%d shards=%d sign_threads=%d: %.2f s, %.0f msgs/s, "
      "CPU %.3f ms/msg (delivered %llu failed %llu deferred %llu; batched sleeps %llu)\n",
      a.dkim.c_str(), a.campaign ? "campaign" : "messages", a.messages, a.size, a.shards, a.threads,
      secs, a.messages / secs, 1000 * cpu / a.messages, (unsigned long long)s.delivered,
      (unsigned long long)s.failed, (unsigned long long)s.deferred,
      (unsigned long long)s.batched_sleeps);
  std::printf("  per message by thread (CPU, context switches): %s\n",
              UseBreakdown(threads0, threads1, a.messages).c_str());
  if (a.dkim != "none") {
    std::printf("  signing ceiling for these messages (one thread, nothing else): %.0f msgs/s\n",
                SigningCeiling(*(*keyring)->signer(), a));
  }
  return s.delivered == want ? 0 : 1;
}

}  // namespace
}  // namespace salvo::delivery

int main(int argc, char** argv) { return salvo::delivery::Main(argc, argv); }
