// DKIM signing micro-benchmarks: signs/s per core for rsa2048 and ed25519 on
// a ~10 KB message, with the body hashed per message and with a campaign's
// body hash reused; the body hash alone (plain text, and indented HTML that
// relaxed canonicalization rewrites on every line); and signed throughput through a
// DkimSigningPool (Wait() from N caller threads).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/dkim/dkim_signer.h"
#include "engine/dkim/signing_pool.h"
#include "engine/tls/dkim_crypto.h"

namespace salvo::dkim {
namespace {

std::string TenKbMessage() {
  std::string m =
      "From: \"Example News\" <news@example.com>\r\n"
      "To: alice@example.net\r\n"
      "Subject: Weekly offers for you\r\n"
      "Date: Sun, 22 Nov 2026 23:00:00 +0000\r\n"
      "Message-ID: <0190a1b2c3d4e5f6@mta.example.com>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "List-Unsubscribe: <https://mta.example.com/u/abcdef0123456789>\r\n"
      "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
      "Feedback-ID: c1:cust7:salvo\r\n"
      "\r\n";
  while (m.size() < 10 * 1024) {
    m += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
  }
  return m;
}

std::unique_ptr<DkimSigner> MakeSigner(crypto::DkimKeyType type) {
  auto key = crypto::DkimKey::Generate(type);
  DkimSignerOptions o;
  o.keys.push_back({"example.com", "s1", "", *key->PrivateKeyPem(), std::nullopt});
  return std::move(*DkimSigner::Create(std::move(o)));
}

void Sign(benchmark::State& state, crypto::DkimKeyType type, bool reuse) {
  auto signer = MakeSigner(type);
  std::string message = TenKbMessage();
  DkimBodyHash bh = signer->HashBody(message.substr(message.find("\r\n\r\n") + 4));
  for (auto _ : state) {
    auto sig = reuse ? signer->Sign(message, bh) : signer->Sign(message);
    if (!sig.ok()) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(sig);
  }
  state.counters["signs/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}

void BM_SignRsa2048(benchmark::State& s) { Sign(s, crypto::DkimKeyType::kRsa, false); }
void BM_SignRsa2048_BodyHashReused(benchmark::State& s) {
  Sign(s, crypto::DkimKeyType::kRsa, true);
}
void BM_SignEd25519(benchmark::State& s) { Sign(s, crypto::DkimKeyType::kEd25519, false); }
void BM_SignEd25519_BodyHashReused(benchmark::State& s) {
  Sign(s, crypto::DkimKeyType::kEd25519, true);
}
BENCHMARK(BM_SignRsa2048);
BENCHMARK(BM_SignRsa2048_BodyHashReused);
BENCHMARK(BM_SignEd25519);
BENCHMARK(BM_SignEd25519_BodyHashReused);

void BM_BodyHash10KB(benchmark::State& state) {
  auto signer = MakeSigner(crypto::DkimKeyType::kEd25519);
  std::string message = TenKbMessage();
  std::string body = message.substr(message.find("\r\n\r\n") + 4);
  for (auto _ : state) benchmark::DoNotOptimize(signer->HashBody(body));
  state.SetBytesProcessed(state.iterations() * body.size());
}
BENCHMARK(BM_BodyHash10KB);

// A body relaxed canonicalization has to rewrite on every line: HTML
// indented with tabs and runs of spaces, trailing WSP.
void BM_BodyHashIndentedHtml10KB(benchmark::State& state) {
  auto signer = MakeSigner(crypto::DkimKeyType::kEd25519);
  std::string body;
  while (body.size() < 10 * 1024) {
    body +=
        "\t\t<tr>\r\n\t\t\t<td  class=\"offer\">  Lorem ipsum dolor sit amet,  consectetur "
        "</td> \r\n\t\t</tr>\t\r\n";
  }
  for (auto _ : state) benchmark::DoNotOptimize(signer->HashBody(body));
  state.SetBytesProcessed(state.iterations() * body.size());
}
BENCHMARK(BM_BodyHashIndentedHtml10KB);

// Pool throughput: range(0) workers, 8 callers each Wait()ing on messages.
void PoolThroughput(benchmark::State& state, crypto::DkimKeyType type) {
  std::shared_ptr<const DkimSigner> signer = MakeSigner(type);
  DkimSigningPool pool(signer, static_cast<int>(state.range(0)));
  std::string message = TenKbMessage();
  constexpr int kCallers = 8;
  constexpr int kPerCaller = 64;
  for (auto _ : state) {
    std::vector<std::thread> callers;
    for (int c = 0; c < kCallers; ++c) {
      callers.emplace_back([&] {
        for (int i = 0; i < kPerCaller; ++i) benchmark::DoNotOptimize(pool.Sign(message).Wait());
      });
    }
    for (std::thread& t : callers) t.join();
  }
  state.counters["signs/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kCallers * kPerCaller, benchmark::Counter::kIsRate);
}
void BM_PoolRsa2048(benchmark::State& s) { PoolThroughput(s, crypto::DkimKeyType::kRsa); }
void BM_PoolEd25519(benchmark::State& s) { PoolThroughput(s, crypto::DkimKeyType::kEd25519); }
BENCHMARK(BM_PoolRsa2048)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PoolEd25519)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace salvo::dkim
