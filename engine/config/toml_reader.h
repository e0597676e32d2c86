// TableReader: typed, range-checked reads of one TOML table that record every
// error (with its line, column and key path) instead of stopping at the
// first, and that catch unknown keys: every key a section's parser asks for
// is "known"; Finish() reports each key of the table that was never read,
// with a "did you mean" hint for near misses. Internal to engine/config.
//
// Getters share one contract: an absent key leaves *out untouched (so it
// keeps its default) and returns false; a present key of the wrong type or
// an invalid value records an error and returns false; otherwise *out is set
// and the getter returns true.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/config/config_error.h"
#include "engine/config/units.h"

namespace salvo::config_internal {

struct Position {
  int line = 0;
  int column = 0;
};
Position PositionOf(const toml::source_region& region);
// "an integer", "a string", "a table", ...
std::string_view TypeName(const toml::node& node);

class ErrorList {
 public:
  void Add(Position at, std::string key, std::string message);
  std::vector<ConfigError>& errors() { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, ErrorList* errors);

  // The key's full path ("queue.max_age") and where its value (or, when it is
  // absent, the table itself) was written.
  std::string PathOf(std::string_view key) const;
  Position Where(std::string_view key) const;
  Position where() const { return PositionOf(table_->source()); }
  const std::string& path() const { return path_; }
  bool Has(std::string_view key);
  void Error(std::string_view key, std::string message);
  void Error(Position at, std::string key_path, std::string message);

  bool Bool(std::string_view key, bool* out);
  bool Int(std::string_view key, int64_t min, int64_t max, int* out);
  bool Float(std::string_view key, double min, double max, double* out);
  bool String(std::string_view key, std::string* out);
  bool Duration(std::string_view key, salvo::Duration min, salvo::Duration max,
                salvo::Duration* out);
  // An integer (bytes) or a size string ("10MiB").
  bool Size(std::string_view key, uint64_t min, uint64_t max, uint64_t* out);
  // A rate string, or "unlimited" for nullopt.
  bool OptionalRate(std::string_view key, std::optional<Rate>* out);

  // A string parsed by `parse` (returns StatusOr<T>); its error is recorded.
  template <typename T, typename Parse>
  bool Parsed(std::string_view key, Parse parse, T* out);
  // One of `names`, mapped to its value.
  template <typename E>
  bool Enum(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> names,
            E* out);
  // An array of strings, each parsed by `parse` into a T; errors name the
  // element ("dns.resolvers[2]"). *out is replaced only if every element is good.
  template <typename T, typename Parse>
  bool List(std::string_view key, Parse parse, std::vector<T>* out);

  std::optional<TableReader> Table(std::string_view key);
  // [[key]] entries; an error if `key` is present but not an array of tables.
  std::vector<TableReader> ArrayOfTables(std::string_view key);

  // Reports every key that no getter asked for.
  void Finish();

 private:
  const toml::node* Lookup(std::string_view key);
  void TypeError(std::string_view key, const toml::node& node, std::string_view expected);
  bool ParsedString(std::string_view key,
                    const std::function<absl::Status(std::string_view)>& accept);
  std::string Suggest(std::string_view unknown) const;

  const toml::table* table_;
  std::string path_;
  ErrorList* errors_;
  std::set<std::string, std::less<>> known_;  // keys a getter asked for
};

template <typename T, typename Parse>
bool TableReader::Parsed(std::string_view key, Parse parse, T* out) {
  return ParsedString(key, [&](std::string_view text) -> absl::Status {
    auto v = parse(text);
    if (!v.ok()) return v.status();
    *out = *std::move(v);
    return absl::OkStatus();
  });
}

template <typename E>
bool TableReader::Enum(std::string_view key,
                       std::initializer_list<std::pair<std::string_view, E>> names, E* out) {
  return ParsedString(key, [&](std::string_view text) -> absl::Status {
    std::string allowed;
    for (const auto& [name, value] : names) {
      if (name == text) {
        *out = value;
        return absl::OkStatus();
      }
      allowed += allowed.empty() ? "" : ", ";
      allowed += fmt::format("\"{}\"", name);
    }
    return absl::InvalidArgumentError(fmt::format("\"{}\" is not one of {}", text, allowed));
  });
}

template <typename T, typename Parse>
bool TableReader::List(std::string_view key, Parse parse, std::vector<T>* out) {
  const toml::node* node = Lookup(key);
  if (node == nullptr) return false;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    TypeError(key, *node, "an array of strings");
    return false;
  }
  std::vector<T> values;
  bool good = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string element_path = fmt::format("{}[{}]", PathOf(key), i);
    const auto* text = element.as_string();
    if (text == nullptr) {
      Error(PositionOf(element.source()), element_path,
            fmt::format("expected a string, got {}", TypeName(element)));
      good = false;
      continue;
    }
    auto v = parse(std::string_view(text->get()));
    if (!v.ok()) {
      Error(PositionOf(element.source()), element_path,
            std::string(v.status().message().data(), v.status().message().size()));
      good = false;
      continue;
    }
    values.push_back(*std::move(v));
  }
  if (good) *out = std::move(values);
  return good;
}

}  // namespace salvo::config_internal
