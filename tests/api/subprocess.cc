#include "tests/api/subprocess.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "fmt/format.h"
#include "gtest/gtest.h"

namespace salvo::testing {

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

CommandResult RunCommand(const std::string& command, int timeout_seconds) {
  CommandResult r;
  std::string full =
      fmt::format("timeout -k 5 {} sh -c {} 2>&1", timeout_seconds, ShellQuote(command));
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

CommandResult RunPython(std::string_view script, const std::vector<std::string>& args,
                        int timeout_seconds) {
  static int counter = 0;
  std::string path =
      fmt::format("{}/salvo_api_test_{}_{}.py", ::testing::TempDir(), ::getpid(), ++counter);
  std::ofstream(path) << script;
  std::string command = "/usr/bin/python3 " + ShellQuote(path);
  for (const std::string& a : args) command.append(" ").append(ShellQuote(a));
  CommandResult r = RunCommand(command, timeout_seconds);
  std::remove(path.c_str());
  return r;
}

}  // namespace salvo::testing
