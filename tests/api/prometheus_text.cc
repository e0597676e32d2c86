#include "tests/api/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "fmt/format.h"

namespace salvo::testing {
namespace {

bool ValidMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view s) {
  return ValidMetricName(s) && s.find(':') == std::string_view::npos;
}

std::optional<double> ParseValue(std::string_view s) {
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  if (s == "NaN") return NAN;
  if (s.empty()) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  // strtod takes "inf"/"nan"/hex, which Prometheus does not.
  for (char c : copy) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  return v;
}

// The family a sample belongs to: histogram suffixes map to their base.
std::string FamilyOf(const PromText& t, const std::string& name) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - suffix.size());
      auto it = t.type.find(base);
      if (it != t.type.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

class Reader {
 public:
  explicit Reader(PromText* out) : t_(*out) {}

  void Line(std::string_view line, int n) {
    line_ = n;
    if (line.starts_with("#")) return Comment(line);
    if (line.empty()) return Error("empty line");
    Sample(line);
  }

  void Finish() {
    for (const auto& [series, buckets] : buckets_) {
      double last = -1;
      bool inf = false;
      for (const auto& [le, v] : buckets) {
        if (v < last) Error(fmt::format("{}: buckets not cumulative", series));
        last = v;
        inf = std::isinf(le);
      }
      if (!inf) Error(fmt::format("{}: no +Inf bucket", series));
      auto c = counts_.find(series);
      if (c == counts_.end()) {
        Error(fmt::format("{}: no _count", series));
      } else if (c->second != last) {
        Error(fmt::format("{}: +Inf bucket {} != _count {}", series, last, c->second));
      }
      if (!sums_.contains(series)) Error(fmt::format("{}: no _sum", series));
    }
  }

 private:
  void Error(std::string what) { t_.errors.push_back(fmt::format("line {}: {}", line_, what)); }

  void Comment(std::string_view line) {
    bool help = line.starts_with("# HELP ");
    bool type = line.starts_with("# TYPE ");
    if (!help && !type) return;  // an ordinary comment
    std::string_view rest = line.substr(7);
    size_t sp = rest.find(' ');
    std::string name(rest.substr(0, sp));
    std::string_view arg = sp == std::string_view::npos ? "" : rest.substr(sp + 1);
    if (!ValidMetricName(name)) Error(fmt::format("bad name in \"{}\"", line));
    if (seen_.contains(name))
      Error(fmt::format("{} after samples of {}", help ? "HELP" : "TYPE", name));
    if (help) {
      if (t_.help.contains(name)) Error("second HELP for " + name);
      std::string text;
      for (size_t i = 0; i < arg.size(); ++i) {
        if (arg[i] == '\\' && i + 1 < arg.size() && (arg[i + 1] == '\\' || arg[i + 1] == 'n')) {
          text += arg[++i] == 'n' ? '\n' : '\\';
        } else if (arg[i] == '\\') {
          Error("bad escape in HELP of " + name);
        } else {
          text += arg[i];
        }
      }
      t_.help[name] = text;
      return;
    }
    static const std::set<std::string_view> kTypes = {"counter", "gauge", "histogram", "summary",
                                                      "untyped"};
    if (!kTypes.contains(arg)) Error(fmt::format("bad TYPE \"{}\"", arg));
    if (t_.type.contains(name)) Error("second TYPE for " + name);
    if (arg == "counter" && !name.ends_with("_total"))
      Error("counter not ending in _total: " + name);
    t_.type[name] = std::string(arg);
  }

  // Parses `{a="x",b="y"}` at `s`; returns the rest after '}'.
  std::optional<std::string_view> Labels(std::string_view s,
                                         std::map<std::string, std::string>& out) {
    s.remove_prefix(1);
    while (!s.empty() && s.front() != '}') {
      size_t eq = s.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      std::string name(s.substr(0, eq));
      if (!ValidLabelName(name)) Error("bad label name " + name);
      s.remove_prefix(eq + 1);
      if (s.empty() || s.front() != '"') return std::nullopt;
      s.remove_prefix(1);
      std::string value;
      for (;;) {
        if (s.empty()) return std::nullopt;
        char c = s.front();
        s.remove_prefix(1);
        if (c == '"') break;
        if (c == '\n') return std::nullopt;
        if (c == '\\') {
          if (s.empty()) return std::nullopt;
          char e = s.front();
          s.remove_prefix(1);
          if (e == '\\' || e == '"') {
            value += e;
          } else if (e == 'n') {
            value += '\n';
          } else {
            Error(fmt::format("bad escape \\{} in label {}", e, name));
          }
        } else {
          value += c;
        }
      }
      if (!out.emplace(name, value).second) Error("repeated label " + name);
      if (!s.empty() && s.front() == ',') s.remove_prefix(1);
    }
    if (s.empty()) return std::nullopt;
    return s.substr(1);
  }

  void Sample(std::string_view line) {
    size_t end = line.find_first_of("{ ");
    if (end == std::string_view::npos) return Error("sample without value");
    PromSample s;
    s.name = std::string(line.substr(0, end));
    if (!ValidMetricName(s.name)) Error("bad metric name " + s.name);
    std::string_view rest = line.substr(end);
    if (rest.front() == '{') {
      std::optional<std::string_view> after = Labels(rest, s.labels);
      if (!after) return Error(fmt::format("bad labels in \"{}\"", line));
      rest = *after;
    }
    if (rest.empty() || rest.front() != ' ') return Error("no space before the value");
    rest.remove_prefix(1);
    std::string_view value = rest.substr(0, rest.find(' '));
    std::optional<double> v = ParseValue(value);
    if (!v) return Error(fmt::format("bad value \"{}\"", value));
    s.value = *v;
    std::string family = FamilyOf(t_, s.name);
    if (!t_.type.contains(family)) Error("sample without TYPE: " + s.name);
    if (family != current_ && seen_.contains(family))
      Error("samples of " + family + " not grouped");
    current_ = family;
    seen_.insert(family);
    std::string key = s.name;
    for (const auto& [k, val] : s.labels) key += fmt::format("|{}={}", k, val);
    if (!series_.insert(key).second) Error("duplicate series " + key);
    Histogram(family, s);
    t_.samples.push_back(std::move(s));
  }

  void Histogram(const std::string& family, const PromSample& s) {
    if (t_.type[family] != "histogram") return;
    std::map<std::string, std::string> labels = s.labels;
    std::string le;
    if (s.name == family + "_bucket") {
      if (!labels.contains("le")) return Error("bucket without le");
      le = labels["le"];
      labels.erase("le");
    }
    std::string series = family;
    for (const auto& [k, v] : labels) series += fmt::format("|{}={}", k, v);
    if (s.name == family + "_bucket") {
      std::optional<double> bound = ParseValue(le);
      if (!bound) return Error("bad le " + le);
      buckets_[series][*bound] = s.value;
    } else if (s.name == family + "_count") {
      counts_[series] = s.value;
    } else if (s.name == family + "_sum") {
      sums_.insert(series);
    } else {
      Error("unexpected histogram sample " + s.name);
    }
  }

  PromText& t_;
  int line_ = 0;
  std::string current_;
  std::set<std::string> seen_;
  std::set<std::string> series_;
  std::map<std::string, std::map<double, double>> buckets_;
  std::map<std::string, double> counts_;
  std::set<std::string> sums_;
};

}  // namespace

PromText ParsePrometheusText(std::string_view text) {
  PromText t;
  Reader reader(&t);
  if (!text.empty() && !text.ends_with('\n'))
    t.errors.push_back("text does not end with a newline");
  int n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    reader.Line(text.substr(0, nl), ++n);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  reader.Finish();
  return t;
}

std::optional<double> FindSample(const PromText& text, std::string_view name,
                                 const std::map<std::string, std::string>& labels) {
  for (const PromSample& s : text.samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

}  // namespace salvo::testing
