#include "bench/echo/heap_census.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "fmt/format.h"

namespace salvo::bench {
namespace {

constexpr size_t kGranule = 16;
constexpr size_t kBuckets = (64 << 10) / kGranule + 1;  // the last holds everything larger

bool enabled = false;
std::array<std::atomic<int64_t>, kBuckets> live_counts{};
std::array<std::atomic<int64_t>, kBuckets> live_bytes{};
std::array<int64_t, kBuckets> last_counts{};
std::array<int64_t, kBuckets> last_bytes{};

size_t BucketOf(size_t usable) { return std::min(usable / kGranule, kBuckets - 1); }

void* Allocate(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  if (enabled) {
    size_t usable = malloc_usable_size(p);
    live_counts[BucketOf(usable)].fetch_add(1, std::memory_order_relaxed);
    live_bytes[BucketOf(usable)].fetch_add(usable, std::memory_order_relaxed);
  }
  return p;
}

void Release(void* p) noexcept {
  if (p == nullptr) return;
  if (enabled) {
    size_t usable = malloc_usable_size(p);
    live_counts[BucketOf(usable)].fetch_sub(1, std::memory_order_relaxed);
    live_bytes[BucketOf(usable)].fetch_sub(usable, std::memory_order_relaxed);
  }
  std::free(p);
}

}  // namespace

void EnableHeapCensus() { enabled = true; }
bool HeapCensusEnabled() { return enabled; }

std::string HeapCensusDelta(int max_lines) {
  struct Row {
    size_t bucket;
    int64_t count;
    int64_t bytes;
  };
  std::vector<Row> rows;
  int64_t total_count = 0, total_bytes = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    int64_t c = live_counts[b].load(std::memory_order_relaxed);
    int64_t by = live_bytes[b].load(std::memory_order_relaxed);
    Row r{b, c - last_counts[b], by - last_bytes[b]};
    last_counts[b] = c;
    last_bytes[b] = by;
    total_count += r.count;
    total_bytes += r.bytes;
    if (r.count != 0) rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return std::abs(a.bytes) > std::abs(b.bytes); });
  std::string out =
      fmt::format("heap census: {:+} live allocations, {:+} bytes\n", total_count, total_bytes);
  for (int i = 0; i < max_lines && i < static_cast<int>(rows.size()); ++i) {
    const Row& r = rows[i];
    out += fmt::format(
        "  {:>6} B blocks: {:+} ({:+} bytes)\n",
        r.bucket == kBuckets - 1 ? std::string(">64K") : std::to_string(r.bucket * kGranule),
        r.count, r.bytes);
  }
  return out;
}

}  // namespace salvo::bench

void* operator new(size_t n) { return salvo::bench::Allocate(n); }
void* operator new[](size_t n) { return salvo::bench::Allocate(n); }
void operator delete(void* p) noexcept { salvo::bench::Release(p); }
void operator delete[](void* p) noexcept { salvo::bench::Release(p); }
void operator delete(void* p, size_t) noexcept { salvo::bench::Release(p); }
void operator delete[](void* p, size_t) noexcept { salvo::bench::Release(p); }
