// dns_load: many domains resolved at once on one shard against a local
// dnsmasq, cold and then from the cache.
//
//   dns_load [--domains=10000] [--shared-hosts=100] [--max-inflight=64] [--rounds=5]
//
// dnsmasq gets one MX per domain (d<i>.test -> mx<i % K>.hosts.test, or its
// own host when --shared-hosts=0) and an A record per MX host. The cold phase
// starts every lookup at once and waits for all; it reports lookups per
// second, the queries that went out, and the peak of sockets c-ares used and
// of file descriptors the process held. The cached phase repeats the same
// lookups `rounds` times.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "dns/resolver.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "fmt/format.h"
#include "tests/dns/dnsmasq_process.h"

namespace salvo::dns {
namespace {

struct Args {
  int domains = 10'000;
  int shared_hosts = 100;
  size_t max_inflight = 64;
  int rounds = 5;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto value = [&](const char* flag) -> const char* {
      size_t n = std::strlen(flag);
      return s.compare(0, n, flag) == 0 ? s.c_str() + n : nullptr;
    };
    if (auto v = value("--domains="))
      a.domains = std::atoi(v);
    else if (auto v = value("--shared-hosts="))
      a.shared_hosts = std::atoi(v);
    else if (auto v = value("--max-inflight="))
      a.max_inflight = std::atoi(v);
    else if (auto v = value("--rounds="))
      a.rounds = std::atoi(v);
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      std::exit(2);
    }
  }
  return a;
}

std::string HostOf(const Args& a, int i) {
  return a.shared_hosts > 0 ? fmt::format("mx{}.hosts.test", i % a.shared_hosts)
                            : fmt::format("mx.d{}.test", i);
}

std::string WriteZone(const Args& a) {
  std::string path = fmt::format("/tmp/dns_load_{}.conf", getpid());
  std::ofstream out(path);
  int hosts = a.shared_hosts > 0 ? a.shared_hosts : a.domains;
  for (int i = 0; i < a.domains; ++i)
    out << fmt::format("mx-host=d{}.test,{},10\n", i, HostOf(a, i));
  for (int h = 0; h < hosts; ++h) {
    out << fmt::format("host-record={},127.0.{}.{}\n", HostOf(a, h), (h >> 8) & 255, h & 255);
  }
  return path;
}

size_t OpenFds() {
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd");
       it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

struct Phase {
  int ok = 0;
  int finished = 0;
  size_t peak_fds = 0;
  std::map<std::string, int> failures;  // status -> count
};

Task<void> ResolveOne(Resolver* r, std::string domain, Phase* phase) {
  auto set = co_await r->ResolveMx(std::move(domain));
  if (set.ok()) {
    ++phase->ok;
  } else {
    ++phase->failures[set.status().ToString()];
  }
  ++phase->finished;
}

// Starts every lookup at once, then waits for all of them.
Task<double> RunPhase(Resolver* r, const Args& a, Phase* phase) {
  auto start = Clock::now();
  for (int i = 0; i < a.domains; ++i) {
    Ring::Current()->gate().Spawn(ResolveOne(r, fmt::format("d{}.test", i), phase));
  }
  while (phase->finished < a.domains) {
    phase->peak_fds = std::max(phase->peak_fds, OpenFds());
    co_await SleepFor(std::chrono::milliseconds(2));
  }
  co_return std::chrono::duration<double>(Clock::now() - start).count();
}

Task<void> Main(const Args& a, std::string server, int* exit_code) {
  ResolverOptions options;
  options.servers = {server};
  options.max_inflight_queries = a.max_inflight;
  options.ip_preference = IpPreference::kIpv4Only;
  auto resolver = Resolver::Create(options);
  if (!resolver.ok()) {
    fmt::print(stderr, "{}\n", resolver.status().ToString());
    *exit_code = 1;
    co_return;
  }
  Resolver* r = resolver->get();
  size_t fds_before = OpenFds();
  Phase cold;
  double cold_s = co_await RunPhase(r, a, &cold);
  ResolverStats s = r->stats();
  for (const auto& [why, n] : cold.failures) fmt::print("  failed x{}: {}\n", n, why);
  fmt::print(
      "cold:   {} domains ({} ok) in {:.3f} s = {:.0f} lookups/s; {} queries sent; "
      "peak c-ares sockets {}; open fds {} before, peak {}\n",
      a.domains, cold.ok, cold_s, a.domains / cold_s, s.queries_sent, s.max_watched_sockets,
      fds_before, cold.peak_fds);
  double cached_total = 0;
  int cached_ok = 0;
  for (int round = 0; round < a.rounds; ++round) {
    Phase cached;
    cached_total += co_await RunPhase(r, a, &cached);
    cached_ok += cached.ok;
  }
  ResolverStats s2 = r->stats();
  fmt::print("cached: {} lookups ({} ok) in {:.3f} s = {:.0f} lookups/s; {} more queries sent\n",
             a.domains * a.rounds, cached_ok, cached_total, a.domains * a.rounds / cached_total,
             s2.queries_sent - s.queries_sent);
  if (cold.ok != a.domains || cached_ok != a.domains * a.rounds) *exit_code = 1;
  co_await r->Close();
}

}  // namespace
}  // namespace salvo::dns

int main(int argc, char** argv) {
  using namespace salvo;
  dns::Args args = dns::ParseArgs(argc, argv);
  std::string conf = dns::WriteZone(args);
  std::string error;
  auto dnsmasq = dns::testing::DnsmasqProcess::Start({"--local-ttl=3600", "--cache-size=0"}, &error,
                                                     conf, /*log_queries=*/false);
  std::filesystem::remove(conf);
  if (!dnsmasq) {
    fmt::print(stderr, "dnsmasq: {}\n", error);
    return 1;
  }
  auto ring = Ring::Create();
  if (!ring.ok()) {
    fmt::print(stderr, "{}\n", ring.status().ToString());
    return 1;
  }
  int exit_code = 0;
  (*ring)->Run(dns::Main(args, dnsmasq->address(), &exit_code));
  return exit_code;
}
