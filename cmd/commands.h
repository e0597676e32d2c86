// The subcommands of the `salvo` binary. Each returns the process exit code:
// 0 success, 1 a runtime failure or an invalid config file, 2 a usage error.
#pragma once

#include <optional>
#include <string>

namespace salvo {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// `salvo serve [--config FILE]`: runs the daemon until SIGINT/SIGTERM.
int RunServe(const std::optional<std::string>& config_path);
// `salvo check-config FILE`: every error with its line, or "ok".
int RunCheckConfig(const std::string& path);
// `salvo default-config`: prints the embedded default config.
int RunDefaultConfig();
// `salvo hash-password [--iterations N]`: reads a password from stdin (one
// line) and prints its PBKDF2 hash for a [[user]]'s password_hash.
int RunHashPassword(int iterations);
// `salvo version`: version and build type.
int RunVersion();

}  // namespace salvo
