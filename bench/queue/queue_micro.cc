// Micro-benchmarks of the spool's CPU paths: record encoding and the
// in-memory schedule.
#include <benchmark/benchmark.h>

#include "queue/codec.h"
#include "queue/schedule.h"

namespace salvo::queue {
namespace {

NewRecipient Sample() {
  return {.address = "alexandra.smith@mail.example.com",
          .variables = {{"first_name", "Alexandra"}, {"id", "1234567"}},
          .dsn = {.notify = kNotifyFailure}};
}

void BM_EncodeRecipient(benchmark::State& state) {
  NewRecipient r = Sample();
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeRecipient(r, &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_EncodeRecipient);

void BM_DecodeRecipient(benchmark::State& state) {
  std::string v;
  EncodeRecipient(Sample(), &v);
  for (auto _ : state) benchmark::DoNotOptimize(DecodeRecipient(v));
}
BENCHMARK(BM_DecodeRecipient);

void BM_DecodeRecipientAddress(benchmark::State& state) {
  std::string v;
  EncodeRecipient(Sample(), &v);
  for (auto _ : state) benchmark::DoNotOptimize(DecodeRecipientAddress(v));
}
BENCHMARK(BM_DecodeRecipientAddress);

// Add n entries, then lease and free them all in due order.
void BM_ScheduleAddTakeFree(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Schedule s;
    for (int i = 0; i < n; ++i) s.Add(NewId<RecipientId>(), 0, 0, 0, 1000 + (i * 7919) % 3600);
    while (auto slot = s.PeekDue(UINT32_MAX)) {
      s.Place(*slot, EntryState::kInFlight, UINT32_MAX);
      s.Free(*slot);
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ScheduleAddTakeFree)->Arg(1 << 16)->Arg(1 << 20);

}  // namespace
}  // namespace salvo::queue
