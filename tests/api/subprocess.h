// Test helpers that run real clients (curl, Python's http.client) as
// subprocesses, bounded in time by coreutils' timeout(1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace salvo::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with sh -c (stderr merged into stdout), killed after
// `timeout_seconds`.
CommandResult RunCommand(const std::string& command, int timeout_seconds = 30);

// Runs `script` with /usr/bin/python3 (Debian's, with its modules) and `args`.
CommandResult RunPython(std::string_view script, const std::vector<std::string>& args = {},
                        int timeout_seconds = 30);

// Quotes `s` for sh.
std::string ShellQuote(std::string_view s);

}  // namespace salvo::testing
