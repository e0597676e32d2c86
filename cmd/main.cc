// salvo: the one binary of the Salvo MTA. Its subcommands run the daemon and
// serve as the operator's command-line tool.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/commands.h"
#include "cmd/dkim_command.h"
#include "engine/smtp/server/credentials.h"

namespace {

constexpr char kUsage[] =
    "usage: salvo <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE]    run the MTA (built-in default config without --config);\n"
    "                           SIGHUP reloads FILE, SIGTERM/SIGINT stop\n"
    "  check-config FILE        report every error in FILE with its line, or print \"ok\"\n"
    "  default-config           print the built-in default config (a starting point)\n"
    "  hash-password [--iterations N]\n"
    "                           read a password on stdin, print its hash for [[user]]\n"
    "  dkim keygen --domain D --selector S [--type rsa|ed25519] [--bits N] --out DIR\n"
    "                           write a DKIM key (0600), print its DNS TXT record\n"
    "  version                  print the version and build type\n"
    "  help                     print this text\n";

int Usage(const char* error) {
  if (error != nullptr) std::fprintf(stderr, "salvo: %s\n\n", error);
  std::fputs(kUsage, error != nullptr ? stderr : stdout);
  return error != nullptr ? salvo::kExitUsage : salvo::kExitOk;
}

// Accepts "--config FILE", "--config=FILE" and "-c FILE".
bool TakeConfigFlag(const std::vector<std::string_view>& args, size_t* i,
                    std::optional<std::string>* out) {
  std::string_view a = args[*i];
  if (a.starts_with("--config=")) {
    *out = std::string(a.substr(9));
    return true;
  }
  if ((a == "--config" || a == "-c") && *i + 1 < args.size()) {
    *out = std::string(args[++*i]);
    return true;
  }
  return false;
}

int Serve(const std::vector<std::string_view>& args) {
  std::optional<std::string> config;
  for (size_t i = 1; i < args.size(); ++i) {
    if (!TakeConfigFlag(args, &i, &config)) {
      return Usage(("serve: unexpected argument '" + std::string(args[i]) + "'").c_str());
    }
  }
  if (config && config->empty()) return Usage("serve: --config needs a file name");
  return salvo::RunServe(config);
}

int CheckConfig(const std::vector<std::string_view>& args) {
  std::optional<std::string> file;
  for (size_t i = 1; i < args.size(); ++i) {
    if (TakeConfigFlag(args, &i, &file)) continue;
    if (file || args[i].starts_with("-")) {
      return Usage(("check-config: unexpected argument '" + std::string(args[i]) + "'").c_str());
    }
    file = std::string(args[i]);
  }
  if (!file || file->empty()) return Usage("check-config: which FILE?");
  return salvo::RunCheckConfig(*file);
}

int HashPassword(const std::vector<std::string_view>& args) {
  int iterations = salvo::smtp::kDefaultPbkdf2Iterations;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--iterations" && i + 1 < args.size()) {
      std::string n(args[++i]);
      char* end = nullptr;
      long v = std::strtol(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || v < salvo::smtp::kMinPbkdf2Iterations || v > 100000000) {
        return Usage("hash-password: --iterations must be 1000 to 100000000");
      }
      iterations = static_cast<int>(v);
      continue;
    }
    return Usage(("hash-password: unexpected argument '" + std::string(args[i]) + "'").c_str());
  }
  return salvo::RunHashPassword(iterations);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("no command given");
  std::string_view command = args[0];
  if (command == "serve") return Serve(args);
  if (command == "check-config") return CheckConfig(args);
  if (command == "hash-password") return HashPassword(args);
  if (command == "dkim") return salvo::RunDkim(args);
  if (command == "default-config" && args.size() == 1) return salvo::RunDefaultConfig();
  if ((command == "version" || command == "--version") && args.size() == 1) {
    return salvo::RunVersion();
  }
  if (command == "help" || command == "--help" || command == "-h") return Usage(nullptr);
  return Usage(("unknown command or arguments: '" + std::string(command) + "'").c_str());
}
