// A strict reader of the Prometheus text exposition format 0.0.4, for tests:
// it parses every line and reports each rule a scraper relies on that the
// text breaks (HELP/TYPE placement, names, label syntax and escaping,
// values, grouping, duplicate series, counters ending in _total, histogram
// buckets cumulative with +Inf equal to _count).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salvo::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct PromText {
  std::map<std::string, std::string> type;  // family -> counter/gauge/histogram/...
  std::map<std::string, std::string> help;  // family -> unescaped help
  std::vector<PromSample> samples;
  std::vector<std::string> errors;  // empty when the text is valid
};

PromText ParsePrometheusText(std::string_view text);

// The value of the sample `name` with exactly `labels`.
std::optional<double> FindSample(const PromText& text, std::string_view name,
                                 const std::map<std::string, std::string>& labels = {});

}  // namespace salvo::testing
