// The `salvo` binary end to end: version, default-config, check-config on a
// good and a bad file (exit codes and line numbers), usage errors, and
// `salvo serve` started on a temp data dir, reloaded with SIGHUP and stopped
// with SIGTERM / SIGINT.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>

#include "engine/config/default_config.h"
#include "fmt/format.h"
#include "tests/config/salvo_process.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;
using testing::SalvoProcess;

// Generous for ASan builds on a busy 2-core machine; a healthy run takes ms.
constexpr auto kCommandTimeout = 30s;

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/salvo-binary-test-XXXXXX";
    path_ = mkdtemp(name) != nullptr ? name : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, std::string_view text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::trunc) << text;
    return file;
  }

 private:
  std::string path_;
};

// A loopback port that was free a moment ago.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult RunSalvo(const std::vector<std::string>& args) {
  SalvoProcess p(args);
  EXPECT_TRUE(p.started());
  std::optional<int> code = p.WaitForExit(kCommandTimeout);
  EXPECT_TRUE(code.has_value()) << "salvo did not exit; output so far:\n" << p.output();
  return RunResult{code.value_or(-1), p.output()};
}

TEST(SalvoBinary, VersionPrintsProjectVersionAndBuildType) {
  RunResult r = RunSalvo({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.rfind(std::string("salvo ") + SALVO_VERSION + " (", 0), 0u) << r.output;
  EXPECT_NE(r.output.find(SALVO_BUILD_TYPE), std::string::npos) << r.output;
}

TEST(SalvoBinary, DefaultConfigPrintsTheEmbeddedFile) {
  RunResult r = RunSalvo({"default-config"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, std::string(kDefaultConfigToml));
}

TEST(SalvoBinary, CheckConfigAcceptsTheDefault) {
  TempDir dir;
  std::string file = dir.Write("default.toml", kDefaultConfigToml);
  RunResult r = RunSalvo({"check-config", file});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "ok\n");
}

TEST(SalvoBinary, CheckConfigReportsEveryErrorWithItsLine) {
  TempDir dir;
  std::string file = dir.Write("bad.toml",
                               "[server]\n"
                               "shards = 2\n"
                               "log_levle = \"info\"\n"  // 3: typo
                               "[[listener]]\n"
                               "kind = \"smtp\"\n"
                               "address = \"127.0.0.1:99999\"\n"  // 6
                               "[queue]\n"
                               "max_age = 5\n");  // 8
  RunResult r = RunSalvo({"check-config", file});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(file + ":3:1: server.log_levle: unknown key; did you mean "
                                 "\"log_level\"?"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(file + ":6:11: listener[0].address: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(file + ":8:11: queue.max_age: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("3 errors in " + file), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("ok\n"), std::string::npos);
}

TEST(SalvoBinary, CheckConfigReportsSyntaxErrorsAndMissingFiles) {
  TempDir dir;
  std::string file = dir.Write("syntax.toml", "[server]\nshards = = 2\n");
  RunResult r = RunSalvo({"check-config", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(file + ":2:"), std::string::npos) << r.output;

  r = RunSalvo({"check-config", dir.path() + "/missing.toml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("No such file or directory"), std::string::npos) << r.output;
}

TEST(SalvoBinary, UsageErrorsExitWithTwo) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{},
                                               {"frobnicate"},
                                               {"check-config"},
                                               {"serve", "--bogus"},
                                               {"serve", "--config"},
                                               {"check-config", "a.toml", "b.toml"}}) {
    RunResult r = RunSalvo(args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("usage: salvo"), std::string::npos) << r.output;
  }
  RunResult help = RunSalvo({"help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("check-config FILE"), std::string::npos);
}

std::string ServeConfig(const std::string& data_dir, int smtp_port, int http_port,
                        const std::string& log_level = "info") {
  return fmt::format(
      "[server]\n"
      "data_dir = \"{}\"\n"
      "shards = 2\n"
      "log_level = \"{}\"\n"
      "[[listener]]\n"
      "kind = \"smtp\"\n"
      "address = \"127.0.0.1:{}\"\n"
      "[[listener]]\n"
      "kind = \"http\"\n"
      "address = \"127.0.0.1:{}\"\n",
      data_dir, log_level, smtp_port, http_port);
}

TEST(SalvoServe, StartsLogsItsBannerReloadsOnHupAndStopsOnTerm) {
  TempDir dir;
  std::string data_dir = dir.path() + "/data";
  int smtp_port = FreePort();
  int http_port = FreePort();
  std::string config = dir.Write("salvo.toml", ServeConfig(data_dir, smtp_port, http_port));

  SalvoProcess salvo({"serve", "--config", config});
  ASSERT_TRUE(salvo.WaitForOutput("salvo ready", kCommandTimeout)) << salvo.output();
  EXPECT_TRUE(std::filesystem::is_directory(data_dir));
  EXPECT_NE(salvo.output().find("data dir " + data_dir), std::string::npos) << salvo.output();
  EXPECT_NE(salvo.output().find("2 shards"), std::string::npos) << salvo.output();
  EXPECT_NE(salvo.output().find(fmt::format("smtp on 127.0.0.1:{}", smtp_port)), std::string::npos)
      << salvo.output();
  EXPECT_NE(salvo.output().find(fmt::format("http on 127.0.0.1:{}", http_port)), std::string::npos)
      << salvo.output();

  // A good file: reloaded.
  dir.Write("salvo.toml", ServeConfig(data_dir, smtp_port, http_port, "debug"));
  size_t mark = salvo.output().size();
  salvo.Signal(SIGHUP);
  ASSERT_TRUE(salvo.WaitForOutput("config reloaded", kCommandTimeout, mark)) << salvo.output();

  // A broken file: the errors are logged and the running config stays.
  dir.Write("salvo.toml", "[server]\nshards = 2\nlog_level = \"loud\"\n");
  mark = salvo.output().size();
  salvo.Signal(SIGHUP);
  ASSERT_TRUE(salvo.WaitForOutput("config reload failed", kCommandTimeout, mark)) << salvo.output();
  EXPECT_TRUE(salvo.WaitForOutput(config + ":3:13: server.log_level", kCommandTimeout, mark))
      << salvo.output();

  salvo.Signal(SIGTERM);
  std::optional<int> code = salvo.WaitForExit(kCommandTimeout);
  ASSERT_TRUE(code.has_value()) << "salvo did not stop on SIGTERM:\n" << salvo.output();
  EXPECT_EQ(*code, 0) << salvo.output();
  EXPECT_NE(salvo.output().find("received SIGTERM"), std::string::npos);
  EXPECT_NE(salvo.output().find("salvo stopped"), std::string::npos) << salvo.output();
}

TEST(SalvoServe, RunsOnTheBuiltInDefaultAndStopsOnInt) {
  TempDir dir;
  SalvoProcess salvo({"serve"}, dir.path());
  ASSERT_TRUE(salvo.WaitForOutput("salvo ready", kCommandTimeout)) << salvo.output();
  EXPECT_NE(salvo.output().find("(built-in default)"), std::string::npos) << salvo.output();
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() + "/var/salvo"));
  size_t mark = salvo.output().size();
  salvo.Signal(SIGHUP);  // nothing to re-read, but it must not stop the daemon
  ASSERT_TRUE(salvo.WaitForOutput("nothing to reload", kCommandTimeout, mark)) << salvo.output();
  salvo.Signal(SIGINT);
  std::optional<int> code = salvo.WaitForExit(kCommandTimeout);
  ASSERT_TRUE(code.has_value()) << salvo.output();
  EXPECT_EQ(*code, 0) << salvo.output();
  EXPECT_NE(salvo.output().find("received SIGINT"), std::string::npos);
}

TEST(SalvoServe, RefusesToStartOnABadConfig) {
  TempDir dir;
  std::string config = dir.Write("bad.toml", "[dns]\ntries = 0\n");
  RunResult r = RunSalvo({"serve", "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(config + ":2:9: dns.tries"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("salvo ready"), std::string::npos);
}

TEST(SalvoServe, FailsClearlyWhenTheDataDirCannotBeMade) {
  TempDir dir;
  dir.Write("file", "not a directory");
  std::string config =
      dir.Write("salvo.toml", fmt::format("[server]\ndata_dir = \"{}/file/data\"\n", dir.path()));
  RunResult r = RunSalvo({"serve", "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("cannot create data directory"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace salvo
