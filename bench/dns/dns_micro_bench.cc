// Micro-benchmarks of dns/'s I/O-free work per lookup: parsing and
// classifying an answer, the cache, MX planning/assembly, IDN conversion.
#include <benchmark/benchmark.h>

#include <random>

#include "dns/domain_name.h"
#include "dns/mx_set.h"
#include "dns/rrset.h"
#include "dns/rrset_cache.h"
#include "fmt/format.h"
#include "tests/dns/wire_builder.h"

namespace salvo::dns {
namespace {

using testing::Bytes;

std::string MxAnswer() {
  testing::WireMessage w;
  w.question_name = "example.com";
  w.answers = {testing::MxRecordRr("example.com", 300, 10, "mx1.example.com"),
               testing::MxRecordRr("example.com", 300, 10, "mx2.example.com"),
               testing::MxRecordRr("example.com", 300, 20, "mx3.example.com")};
  return testing::Encode(w);
}

void BM_ParseMessage(benchmark::State& state) {
  std::string wire = MxAnswer();
  for (auto _ : state) benchmark::DoNotOptimize(ParseMessage(Bytes(wire)));
}
BENCHMARK(BM_ParseMessage);

void BM_InterpretAnswer(benchmark::State& state) {
  std::string wire = MxAnswer();
  for (auto _ : state) {
    benchmark::DoNotOptimize(InterpretAnswer(Bytes(wire), "example.com", RrType::kMx, {}));
  }
}
BENCHMARK(BM_InterpretAnswer);

void BM_CacheHit(benchmark::State& state) {
  RrsetCache cache(100'000);
  Deadline now = Clock::now();
  std::vector<std::string> names;
  for (int i = 0; i < 10'000; ++i) {
    auto r = std::make_shared<Rrset>();
    r->name = fmt::format("d{}.example", i);
    r->type = RrType::kMx;
    r->expires = now + std::chrono::hours(1);
    names.push_back(r->name);
    cache.Insert(r, now);
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.Find(names[i++ % names.size()], RrType::kMx, now));
  }
}
BENCHMARK(BM_CacheHit);

void BM_PlanAndAssembleMxSet(benchmark::State& state) {
  std::mt19937_64 rng(1);
  Rrset mx = InterpretAnswer(Bytes(MxAnswer()), "example.com", RrType::kMx, {});
  mx.expires = Clock::now() + std::chrono::hours(1);
  auto a = std::make_shared<Rrset>();
  a->kind = RrsetKind::kData;
  a->addresses = {*IpAddress::Parse("192.0.2.1")};
  std::vector<TargetAddresses> answers(3, TargetAddresses{a, nullptr});
  for (auto _ : state) {
    auto plan = PlanMxTargets("example.com", mx, 10, rng);
    benchmark::DoNotOptimize(
        AssembleMxSet("example.com", mx, *plan, answers, IpPreference::kIpv4Only, rng));
  }
}
BENCHMARK(BM_PlanAndAssembleMxSet);

void BM_NormalizeAsciiDomain(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(NormalizeDomain("Mail.Example.COM"));
}
BENCHMARK(BM_NormalizeAsciiDomain);

void BM_NormalizeIdnDomain(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(NormalizeDomain("bücher.example"));
}
BENCHMARK(BM_NormalizeIdnDomain);

}  // namespace
}  // namespace salvo::dns
