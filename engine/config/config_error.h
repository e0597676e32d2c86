// ConfigError: one problem found in a config file, located by line and
// column (1-based; 0 when the position is unknown) and by the key's path in
// TOML notation ("listener[1].address", "delivery.destination[0].tls").
#pragma once

#include <string>
#include <string_view>

#include "fmt/format.h"

namespace salvo {

struct ConfigError {
  int line = 0;
  int column = 0;
  std::string key;  // empty for a syntax error
  std::string message;

  // "salvo.toml:12:3: listener[1].address: 'x' is not an IP address";
  // "salvo.toml: cannot open ..." when there is no position.
  std::string ToString(std::string_view source_name) const {
    std::string where =
        line > 0 ? fmt::format("{}:{}:{}", source_name, line, column) : std::string(source_name);
    if (key.empty()) return fmt::format("{}: {}", where, message);
    return fmt::format("{}: {}: {}", where, key, message);
  }
};

}  // namespace salvo
