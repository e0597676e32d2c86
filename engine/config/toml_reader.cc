#include "engine/config/toml_reader.h"

#include <algorithm>
#include <cmath>

#include "engine/base/strings.h"

namespace salvo::config_internal {
namespace {

std::string MessageOf(const absl::Status& s) { return std::string(ToStd(s.message())); }

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

Position PositionOf(const toml::source_region& region) {
  return Position{static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

void ErrorList::Add(Position at, std::string key, std::string message) {
  errors_.push_back(ConfigError{at.line, at.column, std::move(key), std::move(message)});
}

TableReader::TableReader(const toml::table& table, std::string path, ErrorList* errors)
    : table_(&table), path_(std::move(path)), errors_(errors) {}

std::string TableReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

Position TableReader::Where(std::string_view key) const {
  const toml::node* node = table_->get(key);
  return node != nullptr ? PositionOf(node->source()) : where();
}

bool TableReader::Has(std::string_view key) {
  known_.insert(std::string(key));
  return table_->contains(key);
}

void TableReader::Error(std::string_view key, std::string message) {
  errors_->Add(Where(key), PathOf(key), std::move(message));
}

void TableReader::Error(Position at, std::string key_path, std::string message) {
  errors_->Add(at, std::move(key_path), std::move(message));
}

const toml::node* TableReader::Lookup(std::string_view key) {
  known_.insert(std::string(key));
  return table_->get(key);
}

void TableReader::TypeError(std::string_view key, const toml::node& node,
                            std::string_view expected) {
  Error(key, fmt::format("expected {}, got {}", expected, TypeName(node)));
}

bool TableReader::Bool(std::string_view key, bool* out) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return false;
  if (const auto* v = node->as_boolean()) {
    *out = v->get();
    return true;
  }
  TypeError(key, *node, "true or false");
  return false;
}

bool TableReader::Int(std::string_view key, int64_t min, int64_t max, int* out) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return false;
  const auto* v = node->as_integer();
  if (v == nullptr) {
    TypeError(key, *node, "an integer");
    return false;
  }
  if (v->get() < min || v->get() > max) {
    Error(key, fmt::format("{} is out of range [{}, {}]", v->get(), min, max));
    return false;
  }
  *out = static_cast<int>(v->get());
  return true;
}

bool TableReader::Float(std::string_view key, double min, double max, double* out) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return false;
  double value;
  if (const auto* f = node->as_floating_point()) {
    value = f->get();
  } else if (const auto* i = node->as_integer()) {
    value = static_cast<double>(i->get());
  } else {
    TypeError(key, *node, "a number");
    return false;
  }
  if (!(value >= min && value <= max)) {  // also refuses nan
    Error(key, fmt::format("{} is out of range [{}, {}]", value, min, max));
    return false;
  }
  *out = value;
  return true;
}

bool TableReader::String(std::string_view key, std::string* out) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return false;
  if (const auto* v = node->as_string()) {
    *out = v->get();
    return true;
  }
  TypeError(key, *node, "a string");
  return false;
}

bool TableReader::ParsedString(std::string_view key,
                               const std::function<absl::Status(std::string_view)>& accept) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return false;
  const auto* v = node->as_string();
  if (v == nullptr) {
    TypeError(key, *node, "a string");
    return false;
  }
  absl::Status s = accept(v->get());
  if (!s.ok()) {
    Error(key, MessageOf(s));
    return false;
  }
  return true;
}

bool TableReader::Duration(std::string_view key, salvo::Duration min, salvo::Duration max,
                           salvo::Duration* out) {
  const toml::node* node = Lookup(key);
  if (node != nullptr && node->is_number()) {
    TypeError(key, *node, "a duration string such as \"30s\", \"5m\" or \"2h\"");
    return false;
  }
  return ParsedString(key, [&](std::string_view text) -> absl::Status {
    auto d = ParseDuration(text);
    if (!d.ok()) return d.status();
    if (*d < min || *d > max) {
      return absl::OutOfRangeError(fmt::format("{} is out of range [{}, {}]", text,
                                               FormatDuration(min), FormatDuration(max)));
    }
    *out = *d;
    return absl::OkStatus();
  });
}

bool TableReader::Size(std::string_view key, uint64_t min, uint64_t max, uint64_t* out) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return false;
  uint64_t bytes = 0;
  if (const auto* i = node->as_integer()) {
    if (i->get() < 0) {
      Error(key, fmt::format("{} is negative", i->get()));
      return false;
    }
    bytes = static_cast<uint64_t>(i->get());
  } else if (const auto* s = node->as_string()) {
    auto parsed = ParseSize(s->get());
    if (!parsed.ok()) {
      Error(key, MessageOf(parsed.status()));
      return false;
    }
    bytes = *parsed;
  } else {
    TypeError(key, *node, "a size (bytes, or a string such as \"10MiB\")");
    return false;
  }
  if (bytes < min || bytes > max) {
    Error(key, fmt::format("{} is out of range [{}, {}]", FormatSize(bytes), FormatSize(min),
                           FormatSize(max)));
    return false;
  }
  *out = bytes;
  return true;
}

bool TableReader::OptionalRate(std::string_view key, std::optional<Rate>* out) {
  return ParsedString(key, [&](std::string_view text) -> absl::Status {
    if (text == "unlimited") {
      *out = std::nullopt;
      return absl::OkStatus();
    }
    auto r = ParseRate(text);
    if (!r.ok()) return r.status();
    *out = *r;
    return absl::OkStatus();
  });
}

std::optional<TableReader> TableReader::Table(std::string_view key) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return std::nullopt;
  if (const toml::table* t = node->as_table()) return TableReader(*t, PathOf(key), errors_);
  TypeError(key, *node, fmt::format("a table ([{}])", PathOf(key)));
  return std::nullopt;
}

std::vector<TableReader> TableReader::ArrayOfTables(std::string_view key) {
  std::vector<TableReader> readers;
  const toml::node* node = Lookup(key);
  if (node == nullptr) return readers;
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    TypeError(key, *node, fmt::format("an array of tables ([[{}]])", PathOf(key)));
    return readers;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    readers.emplace_back(*array->get(i)->as_table(), fmt::format("{}[{}]", PathOf(key), i),
                         errors_);
  }
  return readers;
}

std::string TableReader::Suggest(std::string_view unknown) const {
  std::string best;
  size_t best_distance = 3;  // suggest only near misses (distance 1 or 2)
  for (const std::string& k : known_) {
    size_t d = EditDistance(unknown, k);
    if (d < best_distance || (d == best_distance && k < best)) {
      best_distance = d;
      best = k;
    }
  }
  return best_distance <= 2 ? best : "";
}

void TableReader::Finish() {
  for (const auto& [key, node] : *table_) {
    if (known_.contains(std::string_view(key.str()))) continue;
    std::string message = node.is_table() ? "unknown table" : "unknown key";
    if (std::string hint = Suggest(key.str()); !hint.empty()) {
      message += fmt::format("; did you mean \"{}\"?", hint);
    }
    Position at = PositionOf(key.source());
    if (at.line == 0) at = PositionOf(node.source());
    errors_->Add(at, PathOf(key.str()), std::move(message));
  }
}

}  // namespace salvo::config_internal
