#include "cmd/commands.h"

#include <cstdio>

#include "cmd/daemon.h"
#include "engine/base/strings.h"
#include "engine/config/config_loader.h"
#include "engine/config/default_config.h"
#include "engine/loop/shard.h"
#include "engine/smtp/server/credentials.h"
#include "fmt/format.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace {

constexpr std::string_view kBuiltInName = "<built-in default config>";

// Logs go to stderr, so that stdout stays for command output.
void UseStderrLogger() { spdlog::set_default_logger(spdlog::stderr_color_mt("salvo")); }

}  // namespace

int RunServe(const std::optional<std::string>& config_path) {
  // Before any thread exists, so that every thread inherits the mask and
  // only WaitForSignal() sees SIGINT, SIGTERM and SIGHUP.
  if (BlockTerminationSignals() != 0) {
    std::fprintf(stderr, "salvo: cannot block termination signals\n");
    return kExitFailure;
  }
  UseStderrLogger();
  ConfigParseResult loaded =
      config_path ? LoadConfigFile(*config_path) : ParseConfig(kDefaultConfigToml, kBuiltInName);
  if (!loaded.ok()) {
    std::fputs(loaded.ErrorReport(config_path ? *config_path : std::string(kBuiltInName)).c_str(),
               stderr);
    spdlog::critical("invalid config; not starting");
    return kExitFailure;
  }
  Daemon daemon(std::move(loaded.config), config_path.value_or(""));
  if (absl::Status s = daemon.Start(); !s.ok()) {
    spdlog::critical("cannot start: {}", ToStd(s.message()));
    return kExitFailure;
  }
  daemon.Run();
  daemon.Stop();
  spdlog::info("salvo stopped");
  return kExitOk;
}

int RunCheckConfig(const std::string& path) {
  ConfigParseResult result = LoadConfigFile(path);
  if (!result.ok()) {
    std::fputs(result.ErrorReport(path).c_str(), stderr);
    std::fprintf(stderr, "%zu error%s in %s\n", result.errors.size(),
                 result.errors.size() == 1 ? "" : "s", path.c_str());
    return kExitFailure;
  }
  std::puts("ok");
  return kExitOk;
}

int RunDefaultConfig() {
  std::fwrite(kDefaultConfigToml.data(), 1, kDefaultConfigToml.size(), stdout);
  return kExitOk;
}

int RunHashPassword(int iterations) {
  std::string password;
  constexpr size_t kMaxPassword = 1024;
  for (int c; (c = std::getchar()) != EOF && c != '\n';) {
    if (password.size() == kMaxPassword) {
      std::fprintf(stderr, "salvo: password longer than %zu bytes\n", kMaxPassword);
      return kExitFailure;
    }
    password += static_cast<char>(c);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    std::fputs("salvo: hash-password reads the password from stdin; got nothing\n", stderr);
    return kExitFailure;
  }
  absl::StatusOr<std::string> hash = smtp::HashPassword(password, iterations);
  if (!hash.ok()) {
    std::fprintf(stderr, "salvo: %s\n", std::string(ToStd(hash.status().message())).c_str());
    return kExitFailure;
  }
  std::puts(hash->c_str());
  return kExitOk;
}

int RunVersion() {
  std::string build = SALVO_BUILD_TYPE;
#ifdef SALVO_SANITIZED
  build += ", ASan+UBSan";
#endif
  std::printf("salvo %s (%s)\n", SALVO_VERSION, build.c_str());
  return kExitOk;
}

}  // namespace salvo
