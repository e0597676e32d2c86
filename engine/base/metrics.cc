#include "engine/base/metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace metrics_internal {

enum Type { kCounter, kGauge, kHistogram, kGaugeCallback, kCounterCallback };

struct Series {
  std::vector<std::string> values;
  uint32_t slot;
};

struct Family {
  uint32_t index = 0;
  int type = kCounter;
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> buckets;    // histograms: finite upper bounds
  std::function<double()> read;   // gauge and counter callbacks
  uint32_t cells_per_series = 1;  // histograms: one per bucket, +Inf, then the sum
  absl::flat_hash_map<std::string, uint32_t> by_key;  // joined values -> index in series
  std::vector<Series> series;
};

// One thread's cells. Only the owning thread writes cells and chunk
// pointers; a scrape reads both with acquire/relaxed loads.
struct ThreadCells {
  std::atomic<std::atomic<uint64_t>*> chunks[MetricsRegistry::kMaxChunks] = {};
  // Label-set lookups of this thread: family index + values -> slot.
  absl::flat_hash_map<std::string, uint32_t> series_cache;

  ~ThreadCells() {
    for (auto& c : chunks) delete[] c.load(std::memory_order_relaxed);
  }
};

}  // namespace metrics_internal

namespace {

using metrics_internal::Family;
using metrics_internal::kNoSlot;
using metrics_internal::ThreadCells;

std::atomic<uint64_t> next_registry_id{1};

// The last registry this thread wrote to, and every one it has cells in.
struct ThreadLookup {
  uint64_t id = 0;
  ThreadCells* cells = nullptr;
  std::vector<std::pair<uint64_t, ThreadCells*>> all;
};
thread_local ThreadLookup tl_lookup;

[[noreturn]] void Misuse(std::string_view what) {
  spdlog::critical("metrics: {}", what);
  fmt::print(stderr, "metrics: {}\n", what);
  std::abort();
}

bool ValidName(std::string_view s, bool label) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool ok = alpha || (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return !(label && s.starts_with("__"));
}

void AppendEscaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

const char* TypeName(int type) {
  switch (type) {
    case metrics_internal::kCounter:
    case metrics_internal::kCounterCallback:
      return "counter";
    case metrics_internal::kHistogram:
      return "histogram";
    default:
      return "gauge";
  }
}

// `{a="x",b="y"` plus an optional extra label, closed with `}`; "" if none.
std::string LabelText(const Family& f, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (values.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += f.label_names[i];
    out += "=\"";
    AppendEscaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!values.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

double AsDouble(uint64_t bits) { return std::bit_cast<double>(bits); }

}  // namespace

std::vector<double> DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

MetricsRegistry& MetricsRegistry::Default() {
  static MetricsRegistry* registry = new MetricsRegistry();  // never destroyed
  return *registry;
}

MetricsRegistry::MetricsRegistry() : id_(next_registry_id.fetch_add(1)) {}
MetricsRegistry::~MetricsRegistry() = default;

// ---- registration -------------------------------------------------------

Family* MetricsRegistry::AddFamily(int type, std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names,
                                   std::vector<double> buckets) {
  if (!ValidName(name, false)) Misuse(fmt::format("invalid metric name \"{}\"", name));
  bool counter = type == metrics_internal::kCounter || type == metrics_internal::kCounterCallback;
  if (counter && !name.ends_with("_total")) {
    Misuse(fmt::format("counter \"{}\" must end in _total", name));
  }
  for (const std::string& l : label_names) {
    if (!ValidName(l, true) || (type == metrics_internal::kHistogram && l == "le")) {
      Misuse(fmt::format("invalid label name \"{}\" for \"{}\"", l, name));
    }
  }
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
      Misuse(fmt::format("histogram \"{}\": buckets must be finite and increasing", name));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& f : families_) {
    if (f->name != name) continue;
    if (f->type != type || f->label_names != label_names || f->buckets != buckets) {
      Misuse(fmt::format("metric \"{}\" registered twice with different shapes", name));
    }
    return f.get();
  }
  auto f = std::make_unique<Family>();
  f->index = static_cast<uint32_t>(families_.size());
  f->type = type;
  f->name = std::string(name);
  f->help = std::string(help);
  f->label_names = std::move(label_names);
  f->buckets = std::move(buckets);
  if (type == metrics_internal::kHistogram) {
    f->cells_per_series = static_cast<uint32_t>(f->buckets.size() + 2);
  }
  Family* raw = f.get();
  families_.push_back(std::move(f));
  // A family without labels exports its single series (0) from the start.
  if (raw->label_names.empty() && type != metrics_internal::kGaugeCallback &&
      type != metrics_internal::kCounterCallback) {
    SeriesSlotLocked(raw, {});
  }
  return raw;
}

CounterFamily MetricsRegistry::AddCounter(std::string_view name, std::string_view help,
                                          std::vector<std::string> label_names) {
  return CounterFamily(
      this, AddFamily(metrics_internal::kCounter, name, help, std::move(label_names), {}));
}

GaugeFamily MetricsRegistry::AddGauge(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  return GaugeFamily(this,
                     AddFamily(metrics_internal::kGauge, name, help, std::move(label_names), {}));
}

HistogramFamily MetricsRegistry::AddHistogram(std::string_view name, std::string_view help,
                                              std::vector<double> buckets,
                                              std::vector<std::string> label_names) {
  return HistogramFamily(this, AddFamily(metrics_internal::kHistogram, name, help,
                                         std::move(label_names), std::move(buckets)));
}

void MetricsRegistry::AddGaugeCallback(std::string_view name, std::string_view help,
                                       std::function<double()> read) {
  Family* f = AddFamily(metrics_internal::kGaugeCallback, name, help, {}, {});
  std::lock_guard<std::mutex> lock(mu_);
  f->read = std::move(read);
}

void MetricsRegistry::AddCounterCallback(std::string_view name, std::string_view help,
                                         std::function<double()> read) {
  Family* f = AddFamily(metrics_internal::kCounterCallback, name, help, {}, {});
  std::lock_guard<std::mutex> lock(mu_);
  f->read = std::move(read);
}

// ---- series lookup --------------------------------------------------------

uint32_t MetricsRegistry::SeriesSlotLocked(Family* family,
                                           std::span<const std::string_view> values) {
  std::string key;
  for (std::string_view v : values) {
    key.append(v);
    key += '\xff';
  }
  if (auto it = family->by_key.find(key); it != family->by_key.end()) {
    return family->series[it->second].slot;
  }
  if (family->series.size() >= kMaxSeriesPerFamily ||
      next_slot_ + family->cells_per_series > kMaxCells) {
    if (!warned_full_) {
      warned_full_ = true;
      spdlog::error("metrics: too many series (in \"{}\"); new label sets are dropped",
                    family->name);
    }
    return kNoSlot;
  }
  uint32_t slot = next_slot_;
  next_slot_ += family->cells_per_series;
  family->by_key.emplace(std::move(key), static_cast<uint32_t>(family->series.size()));
  family->series.push_back({std::vector<std::string>(values.begin(), values.end()), slot});
  return slot;
}

uint32_t MetricsRegistry::SeriesSlot(Family* family, std::span<const std::string_view> values) {
  if (values.size() != family->label_names.size()) {
    spdlog::error("metrics: \"{}\" takes {} label values, got {}", family->name,
                  family->label_names.size(), values.size());
    return kNoSlot;
  }
  ThreadCells* cells = tl_lookup.id == id_ ? tl_lookup.cells : CellsSlow();
  thread_local std::string key;
  key.assign(reinterpret_cast<const char*>(&family->index), sizeof family->index);
  for (std::string_view v : values) {
    key.append(v);
    key += '\xff';
  }
  if (auto it = cells->series_cache.find(key); it != cells->series_cache.end()) return it->second;
  uint32_t slot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    slot = SeriesSlotLocked(family, values);
  }
  cells->series_cache.emplace(key, slot);
  return slot;
}

template <typename Series>
Series MetricFamily<Series>::WithLabels(std::span<const std::string_view> values) const {
  uint32_t slot = registry_->SeriesSlot(family_, values);
  if constexpr (std::is_same_v<Series, Histogram>) {
    return Histogram(registry_, family_, slot);
  } else {
    return Series(registry_, slot);
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

// ---- cells ----------------------------------------------------------------

ThreadCells* MetricsRegistry::CellsSlow() {
  ThreadCells* cells = nullptr;
  for (auto& [id, c] : tl_lookup.all) {
    if (id == id_) cells = c;
  }
  if (cells == nullptr) {
    auto owned = std::make_unique<ThreadCells>();
    cells = owned.get();
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.push_back(std::move(owned));
    }
    tl_lookup.all.emplace_back(id_, cells);
  }
  tl_lookup.id = id_;
  tl_lookup.cells = cells;
  return cells;
}

std::atomic<uint64_t>& MetricsRegistry::Cell(uint32_t slot) {
  ThreadCells* cells = tl_lookup.id == id_ ? tl_lookup.cells : CellsSlow();
  auto& chunk_ptr = cells->chunks[slot / kCellsPerChunk];
  std::atomic<uint64_t>* chunk = chunk_ptr.load(std::memory_order_relaxed);
  if (chunk == nullptr) {
    chunk = new std::atomic<uint64_t>[kCellsPerChunk]();
    chunk_ptr.store(chunk, std::memory_order_release);
  }
  return chunk[slot % kCellsPerChunk];
}

uint64_t MetricsRegistry::SumLocked(uint32_t slot) const {
  uint64_t sum = 0;
  for (const auto& t : threads_) {
    const std::atomic<uint64_t>* chunk =
        t->chunks[slot / kCellsPerChunk].load(std::memory_order_acquire);
    if (chunk != nullptr) sum += chunk[slot % kCellsPerChunk].load(std::memory_order_relaxed);
  }
  return sum;
}

double MetricsRegistry::SumDoubleLocked(uint32_t slot) const {
  double sum = 0;
  for (const auto& t : threads_) {
    const std::atomic<uint64_t>* chunk =
        t->chunks[slot / kCellsPerChunk].load(std::memory_order_acquire);
    if (chunk != nullptr)
      sum += AsDouble(chunk[slot % kCellsPerChunk].load(std::memory_order_relaxed));
  }
  return sum;
}

uint64_t MetricsRegistry::Sum(uint32_t slot) const {
  std::lock_guard<std::mutex> lock(mu_);
  return SumLocked(slot);
}

namespace {
inline void AddToCell(std::atomic<uint64_t>& cell, uint64_t n) {
  // One writer per cell: a plain load + store is enough and cheaper than a
  // locked read-modify-write.
  cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
}  // namespace

void Counter::Add(uint64_t n) const {
  if (slot_ == kNoSlot) return;
  AddToCell(registry_->Cell(slot_), n);
}

uint64_t Counter::Value() const { return slot_ == kNoSlot ? 0 : registry_->Sum(slot_); }

void Gauge::Add(int64_t n) const {
  if (slot_ == kNoSlot) return;
  AddToCell(registry_->Cell(slot_), static_cast<uint64_t>(n));
}

void Gauge::Set(int64_t v) const {
  if (slot_ == kNoSlot) return;
  registry_->Cell(slot_).store(static_cast<uint64_t>(v), std::memory_order_relaxed);
}

int64_t Gauge::Value() const {
  return slot_ == kNoSlot ? 0 : static_cast<int64_t>(registry_->Sum(slot_));
}

void Histogram::Observe(double v) const {
  if (slot_ == kNoSlot || std::isnan(v)) return;
  const std::vector<double>& b = family_->buckets;
  auto bucket = static_cast<uint32_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
  AddToCell(registry_->Cell(slot_ + bucket), 1);
  std::atomic<uint64_t>& sum = registry_->Cell(slot_ + static_cast<uint32_t>(b.size()) + 1);
  sum.store(std::bit_cast<uint64_t>(AsDouble(sum.load(std::memory_order_relaxed)) + v),
            std::memory_order_relaxed);
}

uint64_t Histogram::Count() const {
  if (slot_ == kNoSlot) return 0;
  std::lock_guard<std::mutex> lock(registry_->mu_);
  uint64_t n = 0;
  for (uint32_t i = 0; i <= family_->buckets.size(); ++i) n += registry_->SumLocked(slot_ + i);
  return n;
}

double Histogram::Sum() const {
  if (slot_ == kNoSlot) return 0;
  std::lock_guard<std::mutex> lock(registry_->mu_);
  return registry_->SumDoubleLocked(slot_ + static_cast<uint32_t>(family_->buckets.size()) + 1);
}

// ---- exposition -------------------------------------------------------------

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Family*> sorted;
  for (const auto& f : families_) sorted.push_back(f.get());
  std::sort(sorted.begin(), sorted.end(),
            [](const Family* a, const Family* b) { return a->name < b->name; });
  std::string out;
  for (const Family* f : sorted) {
    out += "# HELP ";
    out += f->name;
    out += ' ';
    AppendEscaped(out, f->help, false);
    out += fmt::format("\n# TYPE {} {}\n", f->name, TypeName(f->type));
    if (f->type == metrics_internal::kGaugeCallback ||
        f->type == metrics_internal::kCounterCallback) {
      out += fmt::format("{} {}\n", f->name, FormatDouble(f->read ? f->read() : 0));
      continue;
    }
    for (const auto& s : f->series) {
      if (f->type == metrics_internal::kCounter) {
        out += fmt::format("{}{} {}\n", f->name, LabelText(*f, s.values), SumLocked(s.slot));
      } else if (f->type == metrics_internal::kGauge) {
        out += fmt::format("{}{} {}\n", f->name, LabelText(*f, s.values),
                           static_cast<int64_t>(SumLocked(s.slot)));
      } else {
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= f->buckets.size(); ++i) {
          cumulative += SumLocked(s.slot + static_cast<uint32_t>(i));
          std::string le = i < f->buckets.size() ? FormatDouble(f->buckets[i]) : "+Inf";
          out += fmt::format("{}_bucket{} {}\n", f->name, LabelText(*f, s.values, "le", le),
                             cumulative);
        }
        double sum = SumDoubleLocked(s.slot + static_cast<uint32_t>(f->buckets.size()) + 1);
        std::string labels = LabelText(*f, s.values);
        out += fmt::format("{}_sum{} {}\n", f->name, labels, FormatDouble(sum));
        out += fmt::format("{}_count{} {}\n", f->name, labels, cumulative);
      }
    }
  }
  return out;
}

}  // namespace salvo
