// HttpHeaders: an ordered list of header fields with case-insensitive
// lookup. Requests keep what the client sent (names as spelled, duplicates
// in order); responses list what a handler adds. Small: a handful of fields,
// so a vector beats a map.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salvo {

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  void Add(std::string_view name, std::string_view value) {
    fields_.emplace_back(std::string(name), std::string(value));
  }
  // Replaces every field called `name` with one.
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);
  // The first field called `name`.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  void Clear() { fields_.clear(); }

 private:
  std::vector<Field> fields_;
};

}  // namespace salvo
