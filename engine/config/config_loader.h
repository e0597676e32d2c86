// Builds a Config from TOML text: parses it with toml++, then reads every
// section through a TableReader so that all problems in a file are reported
// at once, each with its line, column and key path: syntax errors (toml++
// stops at the first), unknown keys, wrong types, out-of-range values, bad
// addresses, durations, rates, sizes and patterns, duplicates, and
// references to undefined names (e.g. an unknown source_pool). A result with
// no errors holds a fully validated Config with every default filled in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/config/config.h"
#include "engine/config/config_error.h"

namespace salvo {

struct ConfigParseResult {
  Config config;                    // complete only when ok()
  std::vector<ConfigError> errors;  // sorted by line, then column

  bool ok() const { return errors.empty(); }
  // One "source:line:col: key: message" line per error.
  std::string ErrorReport(std::string_view source_name) const;
};

// `source_name` only labels positions in messages.
ConfigParseResult ParseConfig(std::string_view toml_text, std::string_view source_name = "config");

// Reads and parses `path`; a file that cannot be read is a single error.
ConfigParseResult LoadConfigFile(const std::string& path);

// LoadConfigFile() as a Status: the error report is the message.
absl::StatusOr<Config> LoadConfig(const std::string& path);

}  // namespace salvo
