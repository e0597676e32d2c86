// spool_load: durable accept throughput, spool and RAM bytes per recipient,
// and recovery time of the spool (docs/benchmarks/queue.md has the figures).
//
//   spool_load accept --dir D --kind campaign|message --writers N [--batch B]
//              [--body BYTES] [--seconds S] [--rings R]
//       N coroutines on R ring threads accept for S seconds through the
//       awaitable API, every accept synced: campaign = B recipients per
//       request into one campaign; message = one message of BYTES with one
//       recipient per request.
//   spool_load fill --dir D --count N [--batch B] [--threads T]
//       queues N campaign recipients (blocking API), for the recovery bench.
//   spool_load recover --dir D
//       opens the spool (rebuilding the schedule), reports the time, the RSS
//       and the index bytes, and how soon the first due recipients come out.
//   spool_load outcome --dir D --count N --writers W [--attribution 0|1]
//       queues N campaign recipients, then W coroutines on one ring lease
//       one due recipient at a time and record it delivered (co_await
//       RecordOutcome, every outcome synced) until none is left: outcomes/s
//       and CPU per outcome. --attribution 0 sets feedback_retention to zero
//       (no attribution record in the outcome's batch) to measure its cost.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine/loop/ring.h"
#include "queue/spool.h"

namespace salvo::queue {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Args {
  std::string mode, dir, kind = "campaign";
  int writers = 1, batch = 1000, rings = 1, threads = 2, attribution = 1;
  size_t body = 10240;
  double seconds = 10;
  long long count = 1000000;
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: spool_load accept|fill|recover|outcome --dir D [options]\n");
    std::exit(2);
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir")
      a.dir = v;
    else if (k == "--kind")
      a.kind = v;
    else if (k == "--writers")
      a.writers = std::stoi(v);
    else if (k == "--batch")
      a.batch = std::stoi(v);
    else if (k == "--rings")
      a.rings = std::stoi(v);
    else if (k == "--threads")
      a.threads = std::stoi(v);
    else if (k == "--body")
      a.body = std::stoul(v);
    else if (k == "--seconds")
      a.seconds = std::stod(v);
    else if (k == "--count")
      a.count = std::stoll(v);
    else if (k == "--attribution")
      a.attribution = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.dir.empty()) {
    std::fprintf(stderr, "--dir is required\n");
    std::exit(2);
  }
  return a;
}

// CPU seconds (user + system) used by the process so far.
double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long RssKiB() {
  FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (f && std::fgets(line, sizeof(line), f)) {
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  }
  if (f) std::fclose(f);
  return kib;
}

// Bytes of the spool's files: all, and only tables and blobs.
std::pair<uint64_t, uint64_t> SpoolBytes(const std::string& dir) {
  uint64_t all = 0, tables = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    uint64_t n = e.file_size();
    all += n;
    std::string ext = e.path().extension().string();
    if (ext == ".sst" || ext == ".blob") tables += n;
  }
  return {all, tables};
}

std::vector<NewRecipient> CampaignRecipients(int n, long long base) {
  std::vector<NewRecipient> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) {
    long long k = base + i;
    out.push_back(
        {.address = "user" + std::to_string(k) + "@d" + std::to_string(k % 1000) + ".example.com",
         .variables = {{"first_name", "Alexandra"}, {"id", std::to_string(k)}}});
  }
  return out;
}

std::unique_ptr<Spool> OpenSpool(const std::string& dir, bool attribution = true) {
  SpoolOptions o;
  o.path = dir;
  o.min_free_bytes = 0;
  if (!attribution) o.feedback_retention = absl::ZeroDuration();
  auto s = Spool::Open(o);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

// The disk's synced-write latency right now (20 x 4 KiB write + fdatasync in
// `dir`), printed beside every figure: other load on the machine moves it.
double FsyncMs(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0) return -1;
  char block[4096] = {};
  auto t0 = SteadyClock::now();
  for (int i = 0; i < 20; ++i) {
    if (::pwrite(fd, block, sizeof(block), 4096 * i) != sizeof(block) || ::fdatasync(fd) != 0)
      break;
  }
  double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count() / 20;
  ::close(fd);
  ::unlink(path.c_str());
  return ms;
}

struct Totals {
  std::atomic<long long> requests{0}, recipients{0}, errors{0};
  std::mutex mu;
  std::vector<double> latency_ms;
};

Task<void> Writer(Spool* spool, const Args* a, CampaignId campaign, SteadyClock::time_point end,
                  Totals* totals, const std::vector<NewRecipient>* templ, const Message* message) {
  std::vector<double> lat;
  while (SteadyClock::now() < end) {
    auto t0 = SteadyClock::now();
    bool ok;
    long long n;
    if (a->kind == "campaign") {
      std::vector<NewRecipient> rcpts = *templ;
      auto r = co_await spool->AddCampaignRecipients(campaign, std::move(rcpts));
      ok = r.ok();
      n = a->batch;
    } else {
      std::vector<NewRecipient> rcpts = {{.address = "someone@d1.example.com"}};
      Message m = *message;
      auto r = co_await spool->AcceptMessage(std::move(m), std::move(rcpts));
      ok = r.ok();
      n = 1;
    }
    lat.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
    if (!ok) {
      ++totals->errors;
      continue;
    }
    ++totals->requests;
    totals->recipients += n;
  }
  std::lock_guard<std::mutex> lock(totals->mu);
  totals->latency_ms.insert(totals->latency_ms.end(), lat.begin(), lat.end());
}

int Accept(const Args& a) {
  std::printf("disk: one 4 KiB synced write takes %.2f ms now\n", FsyncMs(a.dir));
  auto spool = OpenSpool(a.dir);
  CampaignId campaign;
  if (a.kind == "campaign") {
    Campaign c;
    c.message_template.headers = {{"Subject", "Hello {{first_name}}"}};
    c.message_template.text = std::string(2000, 't');
    campaign = spool->CreateCampaign(c).Wait().value();
  }
  std::vector<NewRecipient> templ = CampaignRecipients(a.batch, 0);
  Message message{.envelope_from = "sender@origin.example",
                  .content = "Subject: load\r\n\r\n" + std::string(a.body, 'm')};
  for (size_t i = 0; i < message.content.size(); ++i) {
    message.content[i] =
        static_cast<char>('a' + (i * 2654435761u >> 7) % 26);  // incompressible-ish
  }
  Totals totals;
  long rss0 = RssKiB();
  double cpu0 = CpuSeconds();
  SpoolStats before = spool->stats();
  auto start = SteadyClock::now();
  auto end = start + std::chrono::milliseconds(static_cast<long>(a.seconds * 1000));
  std::vector<std::thread> threads;
  for (int r = 0; r < a.rings; ++r) {
    int mine = a.writers / a.rings + (r < a.writers % a.rings ? 1 : 0);
    threads.emplace_back([&, mine] {
      auto ring = Ring::Create();
      if (!ring.ok()) std::abort();
      (*ring)->Run([](Spool* spool, const Args* a, CampaignId campaign, SteadyClock::time_point end,
                      Totals* totals, const std::vector<NewRecipient>* templ,
                      const Message* message, int mine) -> Task<void> {
        for (int w = 0; w < mine; ++w) {
          Ring::Current()->gate().Spawn(Writer(spool, a, campaign, end, totals, templ, message));
        }
        co_return;
      }(spool.get(), &a, campaign, end, &totals, &templ, &message, mine));
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  double cpu = CpuSeconds() - cpu0;
  SpoolStats after = spool->stats();
  std::sort(totals.latency_ms.begin(), totals.latency_ms.end());
  auto pct = [&](double p) {
    if (totals.latency_ms.empty()) return 0.0;
    return totals.latency_ms[std::min(totals.latency_ms.size() - 1,
                                      static_cast<size_t>(p * totals.latency_ms.size()))];
  };
  uint64_t groups = after.groups - before.groups, reqs = after.requests - before.requests;
  std::printf(
      "accept kind=%s writers=%d batch=%d body=%zu rings=%d: %.0f requests/s, %.0f recipients/s, "
      "%lld errors; latency p50 %.2f ms p99 %.2f ms; %llu synced writes (%.1f requests each)\n",
      a.kind.c_str(), a.writers, a.kind == "campaign" ? a.batch : 1, a.body, a.rings,
      totals.requests / secs, totals.recipients / secs, totals.errors.load(), pct(0.5), pct(0.99),
      static_cast<unsigned long long>(groups), groups ? double(reqs) / groups : 0.0);
  std::printf("cpu: %.2f s of CPU in %.2f s (%.0f%% of one core); %.2f us of CPU per recipient\n",
              cpu, secs, 100 * cpu / secs, totals.recipients ? 1e6 * cpu / totals.recipients : 0.0);
  if (!spool->Flush().ok()) std::fprintf(stderr, "flush failed\n");
  auto [all, tables] = SpoolBytes(a.dir);
  SpoolStats s = spool->stats();
  std::printf(
      "spool: %zu queued, %.1f bytes on disk per queued recipient (%.1f in tables and blobs), "
      "index %.1f bytes per recipient, RSS grew %ld MiB\n",
      s.queued, double(all) / s.queued, double(tables) / s.queued, double(s.index_bytes) / s.queued,
      (RssKiB() - rss0) >> 10);
  return 0;
}

int Fill(const Args& a) {
  std::printf("disk: one 4 KiB synced write takes %.2f ms now\n", FsyncMs(a.dir));
  auto spool = OpenSpool(a.dir);
  auto campaign = spool->CreateCampaign(Campaign{}).Wait().value();
  std::atomic<long long> next{0};
  auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&] {
      while (true) {
        long long base = next.fetch_add(a.batch);
        if (base >= a.count) break;
        int n = static_cast<int>(std::min<long long>(a.batch, a.count - base));
        auto r = spool->AddCampaignRecipients(campaign, CampaignRecipients(n, base)).Wait();
        if (!r.ok()) {
          std::fprintf(stderr, "fill: %s\n", r.status().ToString().c_str());
          std::exit(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (!spool->Flush().ok()) std::fprintf(stderr, "flush failed\n");
  auto [all, tables] = SpoolBytes(a.dir);
  SpoolStats s = spool->stats();
  std::printf(
      "fill: %zu recipients queued in %.1f s (%.0f/s); %.1f bytes on disk each (%.1f in "
      "tables); index %.1f bytes each\n",
      s.queued, secs, a.count / secs, double(all) / s.queued, double(tables) / s.queued,
      double(s.index_bytes) / s.queued);
  return 0;
}

int Recover(const Args& a) {
  long rss0 = RssKiB();
  auto t0 = SteadyClock::now();
  auto spool = OpenSpool(a.dir);
  auto t1 = SteadyClock::now();
  auto due = spool->TakeDue(1000, absl::Now() + absl::Hours(1));
  auto t2 = SteadyClock::now();
  long rss = RssKiB();
  SpoolStats s = spool->stats();
  const RecoveryReport& r = spool->recovery();
  std::printf(
      "recover: %zu recipients, %zu contents; open+rebuild %.2f s (recovery itself %.2f s); "
      "first %zu due handed out after %.3f s more; RSS %ld MiB (%ld MiB before open); index "
      "%.1f MiB = %.1f bytes per recipient\n",
      r.recipients, r.contents, std::chrono::duration<double>(t1 - t0).count(),
      absl::ToDoubleSeconds(r.took), due.size(), std::chrono::duration<double>(t2 - t1).count(),
      rss >> 10, rss0 >> 10, s.index_bytes / 1048576.0, double(s.index_bytes) / s.queued);
  for (const auto& d : due) (void)spool->Release(d);
  return 0;
}

Task<void> Deliverer(Spool* spool, std::atomic<long long>* outcomes,
                     std::atomic<long long>* errors) {
  DeliveryOutcome delivered{.kind = DeliveryOutcome::Kind::kDelivered,
                            .response = {.host = "mx.example.com", .code = 250, .text = "ok"}};
  while (true) {
    std::vector<DueRecipient> due = spool->TakeDue(1);
    if (due.empty()) co_return;
    auto op = spool->RecordOutcome(due[0], delivered);
    auto r = co_await op;
    if (r.ok()) {
      ++*outcomes;
    } else {
      ++*errors;
    }
  }
}

int Outcome(const Args& a) {
  std::printf("disk: one 4 KiB synced write takes %.2f ms now\n", FsyncMs(a.dir));
  auto spool = OpenSpool(a.dir, a.attribution != 0);
  auto campaign = spool->CreateCampaign(Campaign{}).Wait().value();
  for (long long base = 0; base < a.count; base += a.batch) {
    int n = static_cast<int>(std::min<long long>(a.batch, a.count - base));
    if (!spool->AddCampaignRecipients(campaign, CampaignRecipients(n, base)).Wait().ok()) {
      std::fprintf(stderr, "outcome: fill failed\n");
      return 1;
    }
  }
  if (!spool->CloseCampaign(campaign).Wait().ok()) return 1;
  std::atomic<long long> outcomes{0}, errors{0};
  SpoolStats before = spool->stats();
  double cpu0 = CpuSeconds();
  auto start = SteadyClock::now();
  auto ring = Ring::Create();
  if (!ring.ok()) return 1;
  (*ring)->Run([](Spool* spool, int writers, std::atomic<long long>* outcomes,
                  std::atomic<long long>* errors) -> Task<void> {
    for (int w = 0; w < writers; ++w) {
      Ring::Current()->gate().Spawn(Deliverer(spool, outcomes, errors));
    }
    co_return;
  }(spool.get(), a.writers, &outcomes, &errors));
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  double cpu = CpuSeconds() - cpu0;
  SpoolStats after = spool->stats();
  uint64_t groups = after.groups - before.groups, reqs = after.requests - before.requests;
  std::printf(
      "outcome attribution=%d writers=%d: %lld delivered outcomes in %.2f s = %.0f/s, %lld "
      "errors; %llu synced writes (%.1f requests each); %.2f us of CPU per outcome\n",
      a.attribution, a.writers, outcomes.load(), secs, outcomes / secs, errors.load(),
      static_cast<unsigned long long>(groups), groups ? double(reqs) / groups : 0.0,
      outcomes ? 1e6 * cpu / outcomes : 0.0);
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace salvo::queue

int main(int argc, char** argv) {
  using namespace salvo::queue;
  Args a = Parse(argc, argv);
  if (a.mode == "accept") return Accept(a);
  if (a.mode == "fill") return Fill(a);
  if (a.mode == "recover") return Recover(a);
  if (a.mode == "outcome") return Outcome(a);
  std::fprintf(stderr, "unknown mode %s\n", a.mode.c_str());
  return 2;
}
