// Runs every ```console example of docs/api.md against a real server, as
// written: "$ cmd" lines are commands (run with sh, the documented address
// 127.0.0.1:8025 replaced by the test server's), the lines after them are the
// expected output, and "..." matches any text. A block preceded by
// <!-- docs-test: keys-required --> runs against a server whose /healthz and
// /metrics need an API key even on loopback. The documented example token is
// the server's key.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/api_routes.h"
#include "api/handlers/unsubscribe_v1.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "queue/spool.h"
#include "tests/api/http_test_server.h"
#include "tests/api/subprocess.h"

namespace salvo::testing {
namespace {

constexpr char kDocToken[] = "s3cr3t-example-token";

struct Example {
  std::string command;
  std::string expected;
  bool keys_required = false;
  int line = 0;
};

std::vector<Example> ReadExamples(const std::string& path) {
  std::ifstream in(path);
  std::vector<Example> out;
  std::string line;
  bool in_block = false, keys_required = false, pending_keys = false, continued = false;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!in_block) {
      if (line.starts_with("<!-- docs-test: keys-required")) pending_keys = true;
      if (line == "```console") {
        in_block = true;
        keys_required = std::exchange(pending_keys, false);
      }
      continue;
    }
    if (line == "```") {
      in_block = false;
      continue;
    }
    if (continued) {
      out.back().command += "\n" + line;
      continued = line.ends_with("\\");
    } else if (line.starts_with("$ ")) {
      out.push_back({line.substr(2), "", keys_required, n});
      continued = line.ends_with("\\");
    } else if (!out.empty()) {
      out.back().expected += line + "\n";
    }
  }
  return out;
}

std::string Normalize(std::string s) {
  std::erase(s, '\r');
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// `expected` with "..." matching any text (newlines included).
bool Matches(std::string_view actual, std::string_view expected) {
  std::vector<std::string_view> parts;
  for (size_t pos = 0;;) {
    size_t dots = expected.find("...", pos);
    parts.push_back(expected.substr(pos, dots == std::string_view::npos ? dots : dots - pos));
    if (dots == std::string_view::npos) break;
    pos = dots + 3;
  }
  if (parts.size() == 1) return actual == expected;
  if (!actual.starts_with(parts.front()) || !actual.ends_with(parts.back())) return false;
  size_t at = parts.front().size();
  size_t limit = actual.size() - parts.back().size();
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    size_t found = actual.find(parts[i], at);
    if (found == std::string_view::npos || found + parts[i].size() > limit) return false;
    at = found + parts[i].size();
  }
  return at <= limit;
}

std::unique_ptr<TestHttpServer> DocServer(MetricsRegistry* metrics, bool keys_required,
                                          queue::Spool* spool) {
  HttpRouter router;
  EXPECT_TRUE(
      api::AddOperationalRoutes(router, {.metrics = metrics, .open_on_loopback = !keys_required})
          .ok());
  EXPECT_TRUE(api::AddSubmissionRoutes(router, spool, nullptr).ok());
  EXPECT_TRUE(api::AddUnsubscribeRoutes(router, spool, "docs-example-verp-secret-0123456789").ok());
  HttpServerOptions options;  // the defaults of an http listener
  options.metrics = metrics;
  options.auth = *ApiKeyAuth::Create({"sha256:" + Sha256Hex(kDocToken)});
  return TestHttpServer::Start(std::move(options), std::move(router));
}

TEST(DocsExamples, MatcherWildcards) {
  EXPECT_TRUE(Matches("abc", "abc"));
  EXPECT_FALSE(Matches("abcd", "abc"));
  EXPECT_TRUE(Matches("a\nxyz\nb", "a...b"));
  EXPECT_TRUE(Matches("{\"v\":\"1.2\",\"u\":3}", "{\"v\":\"...\",\"u\":...}"));
  EXPECT_FALSE(Matches("ab", "a...b...b"));
  EXPECT_TRUE(Matches("anything", "..."));
}

TEST(DocsExamples, ApiMdRunsAsWritten) {
  std::vector<Example> examples = ReadExamples(std::string(SALVO_DOCS_DIR) + "/api.md");
  ASSERT_GE(examples.size(), 12u) << "docs/api.md lost its examples?";
  // The submission examples write to a real spool in a temporary directory.
  std::string dir = (std::filesystem::temp_directory_path() / "salvo-docs-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  queue::SpoolOptions spool_options;
  spool_options.path = dir + "/spool";
  spool_options.min_free_bytes = 0;
  spool_options.memtable_bytes = 4 << 20;
  spool_options.block_cache_bytes = 4 << 20;
  absl::StatusOr<std::unique_ptr<queue::Spool>> spool = queue::Spool::Open(spool_options);
  ASSERT_TRUE(spool.ok()) << spool.status();
  MetricsRegistry open_metrics, keyed_metrics;
  std::unique_ptr<TestHttpServer> open = DocServer(&open_metrics, false, spool->get());
  std::unique_ptr<TestHttpServer> keyed = DocServer(&keyed_metrics, true, spool->get());
  ASSERT_TRUE(open && keyed);
  for (const Example& e : examples) {
    SCOPED_TRACE(fmt::format("docs/api.md:{}: {}", e.line, e.command));
    std::string command = e.command;
    int port = e.keys_required ? keyed->port() : open->port();
    for (size_t at; (at = command.find("127.0.0.1:8025")) != std::string::npos;) {
      command.replace(at, 14, fmt::format("127.0.0.1:{}", port));
    }
    CommandResult r = RunCommand(command);
    std::string actual = Normalize(r.output);
    std::string expected = Normalize(e.expected);
    EXPECT_TRUE(Matches(actual, expected)) << "expected:\n" << expected << "\nactual:\n" << actual;
  }
  open.reset();  // the servers before the spool they write to
  keyed.reset();
  spool->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace salvo::testing
