// The metrics registry: per-thread cells summed at scrape, label sets,
// histograms, bounds, and exposition text that a strict 0.0.4 reader and
// Prometheus's own Python parser both accept.
#include "engine/base/metrics.h"

#include <cstdio>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "tests/api/prometheus_text.h"
#include "tests/api/subprocess.h"

namespace salvo {
namespace {

using testing::FindSample;
using testing::ParsePrometheusText;
using testing::PromText;

TEST(Metrics, CounterSumsEveryThreadsCells) {
  MetricsRegistry r;
  Counter c = r.AddCounter("test_events_total", "Events.").Get();
  constexpr int kThreads = 4, kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([c] {
      for (int i = 0; i < kPerThread; ++i) c.Add();
    });
  }
  for (auto& t : threads) t.join();
  c.Add(5);
  EXPECT_EQ(c.Value(), uint64_t{kThreads} * kPerThread + 5);
  // The cells of exited threads still count.
  PromText text = ParsePrometheusText(r.RenderPrometheus());
  EXPECT_TRUE(text.errors.empty()) << text.errors[0];
  EXPECT_EQ(FindSample(text, "test_events_total"), double{kThreads * kPerThread + 5});
}

TEST(Metrics, LabelledSeriesAreDistinctAndShared) {
  MetricsRegistry r;
  CounterFamily f = r.AddCounter("test_requests_total", "Requests.", {"route", "code"});
  f.WithLabels({"/a", "200"}).Add(2);
  f.WithLabels({"/a", "404"}).Add();
  std::thread([&f] { f.WithLabels({"/a", "200"}).Add(3); }).join();
  EXPECT_EQ(f.WithLabels({"/a", "200"}).Value(), 5u);
  EXPECT_EQ(f.WithLabels({"/a", "404"}).Value(), 1u);
  EXPECT_EQ(f.WithLabels({"/b", "200"}).Value(), 0u);
  // Registering the same metric again gives the same family.
  r.AddCounter("test_requests_total", "Requests.", {"route", "code"})
      .WithLabels({"/a", "200"})
      .Add();
  EXPECT_EQ(f.WithLabels({"/a", "200"}).Value(), 6u);
}

TEST(Metrics, GaugeAddsSetsAndSumsShards) {
  MetricsRegistry r;
  Gauge g = r.AddGauge("test_connections_open", "Open.").Get();
  g.Add(3);
  g.Sub(1);
  EXPECT_EQ(g.Value(), 2);
  std::thread([g] { g.Set(10); }).join();  // another shard's part
  EXPECT_EQ(g.Value(), 12);
  g.Set(-4);
  EXPECT_EQ(g.Value(), 6);
  PromText text = ParsePrometheusText(r.RenderPrometheus());
  EXPECT_EQ(FindSample(text, "test_connections_open"), 6.0);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  MetricsRegistry r;
  Histogram h = r.AddHistogram("test_latency_seconds", "Latency.", {0.1, 1, 10}).Get();
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0, 30.0}) h.Observe(v);
  EXPECT_EQ(h.Count(), 6u);
  EXPECT_DOUBLE_EQ(h.Sum(), 52.65);
  PromText text = ParsePrometheusText(r.RenderPrometheus());
  ASSERT_TRUE(text.errors.empty()) << text.errors[0];
  EXPECT_EQ(text.type["test_latency_seconds"], "histogram");
  EXPECT_EQ(FindSample(text, "test_latency_seconds_bucket", {{"le", "0.1"}}), 2.0);  // le is <=
  EXPECT_EQ(FindSample(text, "test_latency_seconds_bucket", {{"le", "1"}}), 3.0);
  EXPECT_EQ(FindSample(text, "test_latency_seconds_bucket", {{"le", "10"}}), 4.0);
  EXPECT_EQ(FindSample(text, "test_latency_seconds_bucket", {{"le", "+Inf"}}), 6.0);
  EXPECT_EQ(FindSample(text, "test_latency_seconds_count"), 6.0);
  EXPECT_DOUBLE_EQ(*FindSample(text, "test_latency_seconds_sum"), 52.65);
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry r;
  r.AddCounter("test_odd_total", "Help with \\ backslash\nand newline.", {"path"})
      .WithLabels({"a\"quoted\" \\path\nwith newline"})
      .Add(7);
  std::string out = r.RenderPrometheus();
  EXPECT_NE(out.find(R"(path="a\"quoted\" \\path\nwith newline")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(# HELP test_odd_total Help with \\ backslash\nand newline.)"),
            std::string::npos)
      << out;
  PromText text = ParsePrometheusText(out);
  ASSERT_TRUE(text.errors.empty()) << text.errors[0];
  EXPECT_EQ(FindSample(text, "test_odd_total", {{"path", "a\"quoted\" \\path\nwith newline"}}),
            7.0);
  EXPECT_EQ(text.help["test_odd_total"], "Help with \\ backslash\nand newline.");
}

TEST(Metrics, TooManySeriesAreDroppedNotStored) {
  MetricsRegistry r;
  CounterFamily f = r.AddCounter("test_many_total", "Many.", {"id"});
  for (size_t i = 0; i < MetricsRegistry::kMaxSeriesPerFamily + 10; ++i) {
    f.WithLabels({std::to_string(i)}).Add();
  }
  EXPECT_EQ(f.WithLabels({"0"}).Value(), 1u);
  Counter dropped = f.WithLabels({"overflow"});
  dropped.Add(100);
  EXPECT_EQ(dropped.Value(), 0u);
  PromText text = ParsePrometheusText(r.RenderPrometheus());
  EXPECT_EQ(text.samples.size(), MetricsRegistry::kMaxSeriesPerFamily);
}

TEST(Metrics, WrongLabelCountIsADroppedSeries) {
  MetricsRegistry r;
  CounterFamily f = r.AddCounter("test_two_total", "Two labels.", {"a", "b"});
  Counter c = f.WithLabels({"only-one"});
  c.Add();
  EXPECT_EQ(c.Value(), 0u);
}

TEST(Metrics, GaugeCallbackIsReadAtScrape) {
  MetricsRegistry r;
  double depth = 42.5;
  r.AddGaugeCallback("test_queue_depth", "Depth.", [&depth] { return depth; });
  EXPECT_EQ(FindSample(ParsePrometheusText(r.RenderPrometheus()), "test_queue_depth"), 42.5);
  depth = 7;
  EXPECT_EQ(FindSample(ParsePrometheusText(r.RenderPrometheus()), "test_queue_depth"), 7.0);
}

TEST(Metrics, CounterCallbackIsReadAtScrapeAndTypedCounter) {
  MetricsRegistry r;
  double groups = 3;
  r.AddCounterCallback("test_groups_total", "Groups.", [&groups] { return groups; });
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE test_groups_total counter"), std::string::npos) << text;
  EXPECT_EQ(FindSample(ParsePrometheusText(text), "test_groups_total"), 3.0);
  groups = 11;
  EXPECT_EQ(FindSample(ParsePrometheusText(r.RenderPrometheus()), "test_groups_total"), 11.0);
  // Registering the name again replaces what is read.
  r.AddCounterCallback("test_groups_total", "Groups.", [] { return 5.0; });
  EXPECT_EQ(FindSample(ParsePrometheusText(r.RenderPrometheus()), "test_groups_total"), 5.0);
}

TEST(MetricsDeathTest, MalformedNamesAbort) {
  MetricsRegistry r;
  EXPECT_DEATH(r.AddCounter("test_events", "No _total."), "must end in _total");
  EXPECT_DEATH(r.AddCounterCallback("test_sum", "No _total.", [] { return 0.0; }),
               "must end in _total");
  EXPECT_DEATH(r.AddGauge("9bad", "Bad name."), "invalid metric name");
  EXPECT_DEATH(r.AddGauge("test_g", "Bad label.", {"__reserved"}), "invalid label name");
  EXPECT_DEATH(r.AddHistogram("test_h", "Bad buckets.", {1, 0.5}), "increasing");
  r.AddGauge("test_shape", "Gauge.");
  EXPECT_DEATH(r.AddGauge("test_shape", "Gauge.", {"x"}), "different shapes");
}

TEST(Metrics, ExpositionParsesWithPrometheusClient) {
  MetricsRegistry r;
  r.AddCounter("test_a_total", "A \"quoted\" help.", {"k"}).WithLabels({"v\"1\\\n"}).Add(3);
  r.AddGauge("test_b", "B.").Get().Set(-2);
  r.AddHistogram("test_c_seconds", "C.", DefaultLatencyBuckets(), {"route"})
      .WithLabels({"/x"})
      .Observe(0.3);
  r.AddGaugeCallback("test_d", "D.", [] { return 1.5; });
  r.AddCounterCallback("test_e_total", "E.", [] { return 9.0; });
  std::string path = ::testing::TempDir() + "/metrics_exposition.txt";
  std::ofstream(path) << r.RenderPrometheus();
  // Prometheus's reference parser (python3-prometheus-client) reads it back.
  std::string script = R"(
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
a = fams['test_a']
assert a.type == 'counter', a.type
assert a.samples[0].labels == {'k': 'v"1\\\n'}, a.samples[0].labels
assert a.samples[0].value == 3.0
assert fams['test_b'].samples[0].value == -2.0
c = fams['test_c_seconds']
assert c.type == 'histogram'
assert [s.value for s in c.samples if s.name == 'test_c_seconds_count'] == [1.0]
assert fams['test_d'].samples[0].value == 1.5
e = fams['test_e']
assert e.type == 'counter', e.type
assert e.samples[0].value == 9.0
print('parsed', len(fams))
)";
  testing::CommandResult res = testing::RunPython(script, {path});
  EXPECT_EQ(res.exit_code, 0) << res.output;
  EXPECT_NE(res.output.find("parsed 5"), std::string::npos) << res.output;
}

}  // namespace
}  // namespace salvo
