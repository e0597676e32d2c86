// Metrics: a registry of counters, gauges and histograms, rendered in the
// Prometheus text exposition format 0.0.4 (GET /metrics).
//
//   static const Counter kAccepted =
//       MetricsRegistry::Default()
//           .AddCounter("salvo_smtp_messages_accepted_total", "Messages accepted.", {"listener"})
//           .WithLabels({"submission"});
//   kAccepted.Add();  // hot path: no lock, no shared cache line
//
// Design (the hot path never locks and never shares a cache line between
// shards):
//  - every series owns one or more cell indices ("slots"); each thread that
//    records a value has its own array of cells, created on its first write
//    and owned by the registry; a write is a relaxed load + store on the
//    calling thread's cell (one writer per cell, so no read-modify-write);
//  - a scrape (Render) sums the cells of every thread under the registry's
//    mutex, reading them with relaxed loads: a scrape sees each cell's latest
//    value or a recent one, never a torn one;
//  - cells of threads that have exited stay in the registry, so counters
//    never go backwards when a shard restarts;
//  - a series handle (Counter, Gauge, Histogram) is two words, cheap to copy
//    and to keep; WithLabels() looks a series up through a per-thread cache,
//    taking the mutex only the first time a thread sees a label set.
//
// Bounds: a family holds at most kMaxSeriesPerFamily label sets and a
// registry at most kMaxCells cells; past either, WithLabels() returns a
// series that drops its values (and logs once), so a label with unbounded
// values cannot exhaust memory.
//
// Gauges: Add()/Sub() change the calling thread's cell and Set() replaces it;
// the exported value is the sum over threads. A gauge set by one owner (the
// queue writer) therefore exports that value, and a per-shard quantity
// (connections open on this shard) is kept by each shard for its own part.
//
// Names follow Prometheus: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__"); counters end in "_total".
// A malformed name or a second registration of a name with another type or
// other labels is a programming error and aborts at start-up; registering
// the same metric again returns the existing family.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace salvo {

class MetricsRegistry;
template <typename Series>
class MetricFamily;

namespace metrics_internal {
inline constexpr uint32_t kNoSlot = ~0u;
struct Family;
struct ThreadCells;
}  // namespace metrics_internal

// A monotonically increasing count. A default-constructed Counter drops its
// values.
class Counter {
 public:
  Counter() = default;
  void Add(uint64_t n = 1) const;
  // The sum over all threads (takes the registry's mutex; for tests and
  // tools, not the hot path).
  uint64_t Value() const;

 private:
  friend class MetricsRegistry;
  template <typename S>
  friend class MetricFamily;
  Counter(MetricsRegistry* r, uint32_t slot) : registry_(r), slot_(slot) {}
  MetricsRegistry* registry_ = nullptr;
  uint32_t slot_ = metrics_internal::kNoSlot;
};

// A value that goes up and down (see the header comment for Set()).
class Gauge {
 public:
  Gauge() = default;
  void Add(int64_t n) const;
  void Sub(int64_t n) const { Add(-n); }
  void Set(int64_t v) const;
  int64_t Value() const;

 private:
  friend class MetricsRegistry;
  template <typename S>
  friend class MetricFamily;
  Gauge(MetricsRegistry* r, uint32_t slot) : registry_(r), slot_(slot) {}
  MetricsRegistry* registry_ = nullptr;
  uint32_t slot_ = metrics_internal::kNoSlot;
};

// Observations counted into buckets with fixed upper bounds, plus their sum.
class Histogram {
 public:
  Histogram() = default;
  void Observe(double v) const;
  uint64_t Count() const;
  double Sum() const;

 private:
  friend class MetricsRegistry;
  template <typename S>
  friend class MetricFamily;
  Histogram(MetricsRegistry* r, const metrics_internal::Family* f, uint32_t slot)
      : registry_(r), family_(f), slot_(slot) {}
  MetricsRegistry* registry_ = nullptr;
  const metrics_internal::Family* family_ = nullptr;
  uint32_t slot_ = metrics_internal::kNoSlot;
};

// A named metric with a fixed list of label names; WithLabels() gives the
// series for one list of label values (in the order of the names).
template <typename Series>
class MetricFamily {
 public:
  Series WithLabels(std::initializer_list<std::string_view> values) const {
    return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  Series WithLabels(std::span<const std::string_view> values) const;
  // The series of a family without labels.
  Series Get() const { return WithLabels(std::span<const std::string_view>()); }

 private:
  friend class MetricsRegistry;
  MetricFamily(MetricsRegistry* r, metrics_internal::Family* f) : registry_(r), family_(f) {}
  MetricsRegistry* registry_;
  metrics_internal::Family* family_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

// Latency buckets in seconds, 1 ms .. 60 s.
std::vector<double> DefaultLatencyBuckets();

class MetricsRegistry {
 public:
  static constexpr size_t kMaxSeriesPerFamily = 10000;
  static constexpr size_t kCellsPerChunk = 512;
  static constexpr size_t kMaxChunks = 512;
  static constexpr size_t kMaxCells = kCellsPerChunk * kMaxChunks;

  // The process-wide registry that /metrics serves.
  static MetricsRegistry& Default();

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily AddCounter(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names = {});
  GaugeFamily AddGauge(std::string_view name, std::string_view help,
                       std::vector<std::string> label_names = {});
  // `buckets`: strictly increasing finite upper bounds; +Inf is implied.
  HistogramFamily AddHistogram(std::string_view name, std::string_view help,
                               std::vector<double> buckets,
                               std::vector<std::string> label_names = {});
  // A gauge without labels whose value `read` computes at each scrape (under
  // the registry's mutex, on the scraping thread: it must be quick and
  // thread-safe, and must not touch this registry).
  void AddGaugeCallback(std::string_view name, std::string_view help, std::function<double()> read);
  // The same for a counter (a total kept elsewhere, e.g. under another
  // module's lock); its name ends in "_total". Registering a name again
  // replaces `read`.
  void AddCounterCallback(std::string_view name, std::string_view help,
                          std::function<double()> read);

  // Every family, sorted by name, in the text format 0.0.4.
  std::string RenderPrometheus() const;

 private:
  template <typename Series>
  friend class MetricFamily;
  friend class Counter;
  friend class Gauge;
  friend class Histogram;

  metrics_internal::Family* AddFamily(int type, std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> buckets);
  // The first slot of the series with `values` in `family` (kNoSlot if a
  // bound is reached or the values do not match the label names).
  uint32_t SeriesSlot(metrics_internal::Family* family, std::span<const std::string_view> values);
  uint32_t SeriesSlotLocked(metrics_internal::Family* family,
                            std::span<const std::string_view> values);
  // The calling thread's cell for `slot`, created on first use.
  std::atomic<uint64_t>& Cell(uint32_t slot);
  metrics_internal::ThreadCells* CellsSlow();
  uint64_t SumLocked(uint32_t slot) const;
  uint64_t Sum(uint32_t slot) const;
  double SumDoubleLocked(uint32_t slot) const;  // cells holding doubles

  const uint64_t id_;  // unique per registry; keys the per-thread lookups
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<metrics_internal::Family>> families_;      // guarded by mu_
  std::vector<std::unique_ptr<metrics_internal::ThreadCells>> threads_;  // guarded by mu_
  uint32_t next_slot_ = 0;                                               // guarded by mu_
  bool warned_full_ = false;                                             // guarded by mu_
};

}  // namespace salvo
