// The routes the server tests run against, and a fixture that starts a
// server with them on a real shard with its own metrics registry.
//
//   GET  /healthz, /metrics      the operational routes (open on loopback)
//   POST /echo                   reads the body piece by piece; answers its
//                                size, FNV-1a hash and largest piece (16 MiB)
//   POST /json                   strict JSON {"name": string, "count"?: int}
//   GET  /path/{name}            answers {"name": ..., "target": ...}
//   GET  /open/path/{name}       the same, open to everybody
//   POST /ignore                 answers without reading the body
//   GET  /stream?n=N             N lines "line i\n", streamed
#pragma once

#include <memory>
#include <string>

#include "api/http/http_server.h"
#include "engine/base/metrics.h"
#include "gtest/gtest.h"
#include "tests/api/http_test_server.h"
#include "tests/api/subprocess.h"

namespace salvo::testing {

inline constexpr char kTestToken[] = "salvo-test-token-0123456789";
inline constexpr uint64_t kEchoBodyLimit = 16 << 20;

HttpRouter TestRouter(MetricsRegistry* metrics, bool metrics_open_on_loopback = true);

// FNV-1a 64, as /echo computes it, in hex.
std::string Fnv1a(std::string_view data);

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts the server (replacing a running one).
  void StartServer(HttpLimits limits = {}, int shards = 1,
                   std::shared_ptr<TlsContext> tls = nullptr, bool metrics_open = true);
  std::string Url(std::string_view path, bool https = false) const {
    return server_->Url(path, https);
  }
  // curl -sS with a 10 s cap and `args`.
  CommandResult Curl(const std::string& args);
  std::string AuthHeader() const;
  uint64_t Accepted() const { return server_->server().metrics().connections_accepted.Value(); }
  // Writes `size` bytes of a pattern to a temporary file; returns its path.
  std::string WriteFile(std::string_view name, size_t size, std::string* content = nullptr);

  std::unique_ptr<MetricsRegistry> metrics_ = std::make_unique<MetricsRegistry>();
  std::unique_ptr<TestHttpServer> server_;
};

}  // namespace salvo::testing
