// ring_stall: is signing inline on a ring acceptable? Runs on one Ring:
// `--senders` coroutines each sign `--messages`/senders 10 KB messages (inline:
// DkimSigner::Sign on the ring thread; pool: co_await DkimSigningPool::Sign),
// while a probe coroutine sleeps 200 us in a loop and records how late each
// wake-up is (the stall every other connection on that ring would see).
//
//   ring_stall --alg rsa|ed25519 --mode inline|pool [--threads N]
//              [--messages N] [--senders N]
// Prints signed msgs/s and probe lateness p50/p99/max.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/dkim/dkim_signer.h"
#include "engine/dkim/signing_pool.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "engine/tls/dkim_crypto.h"

namespace salvo::dkim {
namespace {

struct Options {
  crypto::DkimKeyType type = crypto::DkimKeyType::kRsa;
  bool inline_signing = false;
  int threads = 1;
  int messages = 4000;
  int senders = 16;
};

// Resumes the coroutine on its ring's next turn (lets other work run).
struct Yield {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    Ring::Current()->Post([h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};

std::string TenKbMessage() {
  std::string m =
      "From: \"Example News\" <news@example.com>\r\nTo: alice@example.net\r\n"
      "Subject: Weekly offers\r\nDate: Sun, 22 Nov 2026 23:00:00 +0000\r\n"
      "Message-ID: <r1@mta.example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  while (m.size() < 10 * 1024) {
    m += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
  }
  return m;
}

struct Run {
  const Options& o;
  const DkimSigner& signer;
  DkimSigningPool* pool;
  std::string message = TenKbMessage();
  int remaining_senders = 0;
  long failures = 0;
  std::vector<double> lateness_us;

  Task<void> Sender(int count) {
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<std::string> sig;
      if (o.inline_signing) {
        sig = signer.Sign(message);
        co_await Yield{};
      } else {
        sig = co_await pool->Sign(message);
      }
      if (!sig.ok()) ++failures;
    }
    --remaining_senders;
  }

  Task<void> Probe() {
    constexpr auto kNap = std::chrono::microseconds(200);
    while (remaining_senders > 0) {
      auto t0 = Clock::now();
      co_await SleepFor(kNap);
      auto late = Clock::now() - t0 - kNap;
      lateness_us.push_back(std::chrono::duration<double, std::micro>(late).count());
    }
  }
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int Main(const Options& o) {
  auto key = crypto::DkimKey::Generate(o.type);
  DkimSignerOptions so;
  so.keys.push_back({"example.com", "s1", "", *key->PrivateKeyPem(), std::nullopt});
  std::shared_ptr<const DkimSigner> signer = std::move(*DkimSigner::Create(std::move(so)));
  std::unique_ptr<DkimSigningPool> pool;
  if (!o.inline_signing) pool = std::make_unique<DkimSigningPool>(signer, o.threads);
  Run run{o, *signer, pool.get()};
  auto ring = Ring::Create();
  if (!ring.ok()) return 1;
  auto start = Clock::now();
  (*ring)->Run([&]() -> Task<void> {
    run.remaining_senders = o.senders;
    for (int s = 0; s < o.senders; ++s) {
      Ring::Current()->gate().Spawn(run.Sender(o.messages / o.senders));
    }
    co_await run.Probe();
  }());
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  int signed_count = (o.messages / o.senders) * o.senders;
  std::printf(
      "alg=%s mode=%s threads=%d messages=%d: %.0f msgs/s; probe lateness us "
      "p50=%.0f p99=%.0f max=%.0f; failures=%ld\n",
      std::string(key->algorithm()).c_str(), o.inline_signing ? "inline" : "pool",
      o.inline_signing ? 0 : o.threads, signed_count, signed_count / secs,
      Percentile(run.lateness_us, 0.5), Percentile(run.lateness_us, 0.99),
      Percentile(run.lateness_us, 1.0), run.failures);
  return run.failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace salvo::dkim

int main(int argc, char** argv) {
  salvo::dkim::Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string v = argv[i + 1];
    if (flag == "--alg") {
      o.type =
          v == "ed25519" ? salvo::crypto::DkimKeyType::kEd25519 : salvo::crypto::DkimKeyType::kRsa;
    } else if (flag == "--mode") {
      o.inline_signing = v == "inline";
    } else if (flag == "--threads") {
      o.threads = std::atoi(v.c_str());
    } else if (flag == "--messages") {
      o.messages = std::atoi(v.c_str());
    } else if (flag == "--senders") {
      o.senders = std::max(1, std::atoi(v.c_str()));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  return salvo::dkim::Main(o);
}
