// A fixture for the submission routes: a real Spool in a temporary
// directory, the routes of AddSubmissionRoutes() served on a real shard
// bound to loopback, and curl as the client (Python's http.client and
// urllib in the tests that use them).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "api/http/http_server.h"
#include "engine/base/metrics.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "queue/spool.h"
#include "tests/api/http_test_server.h"
#include "tests/api/subprocess.h"

namespace salvo::testing {

inline constexpr char kSubmissionToken[] = "salvo-submission-token-42";

struct ApiAnswer {
  int status = 0;
  std::string body;
  nlohmann::json json;       // null unless the body is JSON
  std::string Code() const;  // error.code, or ""
};

class SubmissionTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  virtual queue::SpoolOptions Options();
  // (Re)starts the spool and the server.
  void Start();
  void Stop();

  std::string Url(std::string_view path) const { return server_->Url(path); }
  // curl with the API key (unless `auth` is false); the body from a file.
  ApiAnswer Request(std::string_view method, std::string_view path, std::string_view body = "",
                    std::string_view content_type = "application/json", bool auth = true,
                    std::string_view extra = "");
  ApiAnswer PostJson(std::string_view path, const nlohmann::json& body) {
    return Request("POST", path, body.dump());
  }
  // curl uploading the file at `path` as text/csv.
  ApiAnswer UploadCsvFile(std::string_view route, const std::string& file);
  std::string TempFile(std::string_view name, std::string_view content);

  // Blocking spool reads (the test thread is no ring thread).
  std::vector<queue::RecipientId> ListRecipients(const std::string& content_id);
  queue::Content ReadContent(const std::string& content_id);
  queue::Recipient ReadRecipient(const std::string& content_id, queue::RecipientId id);
  // VmRSS / VmHWM of this process, in KiB.
  static long ProcStatusKb(std::string_view field);

  std::string dir_;
  std::unique_ptr<queue::Spool> spool_;
  std::unique_ptr<MetricsRegistry> metrics_;
  std::unique_ptr<TestHttpServer> server_;
  std::atomic<int> kicks_{0};
};

}  // namespace salvo::testing
