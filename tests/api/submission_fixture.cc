#include "tests/api/submission_fixture.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/api_routes.h"
#include "api/http/api_key_auth.h"
#include "fmt/format.h"

namespace salvo::testing {

std::string ApiAnswer::Code() const {
  if (json.is_object() && json.contains("error")) return json["error"].value("code", "");
  return "";
}

void SubmissionTest::SetUp() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "salvo-api-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  dir_ = tmpl;
  Start();
}

void SubmissionTest::TearDown() {
  Stop();
  std::filesystem::remove_all(dir_);
}

queue::SpoolOptions SubmissionTest::Options() {
  queue::SpoolOptions o;
  o.path = dir_ + "/spool";
  o.min_free_bytes = 0;
  o.memtable_bytes = 8 << 20;
  o.block_cache_bytes = 4 << 20;
  return o;
}

void SubmissionTest::Start() {
  Stop();
  absl::StatusOr<std::unique_ptr<queue::Spool>> spool = queue::Spool::Open(Options());
  ASSERT_TRUE(spool.ok()) << spool.status();
  spool_ = std::move(*spool);
  metrics_ = std::make_unique<MetricsRegistry>();
  HttpRouter router;
  ASSERT_TRUE(api::AddSubmissionRoutes(
                  router, spool_.get(), [this] { ++kicks_; }, dir_)
                  .ok());
  HttpServerOptions options;
  options.metrics = metrics_.get();
  absl::StatusOr<ApiKeyAuth> auth = ApiKeyAuth::Create({"sha256:" + Sha256Hex(kSubmissionToken)});
  ASSERT_TRUE(auth.ok());
  options.auth = *auth;
  server_ = TestHttpServer::Start(std::move(options), std::move(router));
  ASSERT_NE(server_, nullptr);
}

void SubmissionTest::Stop() {
  server_.reset();  // before the spool: handlers may still await it
  spool_.reset();
}

std::string SubmissionTest::TempFile(std::string_view name, std::string_view content) {
  std::string path = fmt::format("{}/{}", dir_, name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

namespace {

ApiAnswer ParseCurl(const CommandResult& r) {
  ApiAnswer a;
  size_t nl = r.output.rfind('\n');
  if (nl == std::string::npos) {
    a.body = r.output;
    return a;
  }
  a.body = r.output.substr(0, nl);
  a.status = std::atoi(r.output.c_str() + nl + 1);
  a.json = nlohmann::json::parse(a.body, nullptr, false);
  if (a.json.is_discarded()) a.json = nullptr;
  return a;
}

}  // namespace

ApiAnswer SubmissionTest::Request(std::string_view method, std::string_view path,
                                  std::string_view body, std::string_view content_type, bool auth,
                                  std::string_view extra) {
  std::string command =
      fmt::format("curl -sS --max-time 60 -o - -w '\\n%{{http_code}}' -X {} {}", method, extra);
  if (auth) command += fmt::format(" -H 'Authorization: Bearer {}'", kSubmissionToken);
  if (!body.empty()) {
    command += fmt::format(" -H {} --data-binary @{}",
                           ShellQuote(fmt::format("Content-Type: {}", content_type)),
                           ShellQuote(TempFile("request.body", body)));
  }
  command += ' ';
  command += ShellQuote(Url(path));
  return ParseCurl(RunCommand(command, 90));
}

ApiAnswer SubmissionTest::UploadCsvFile(std::string_view route, const std::string& file) {
  std::string command = fmt::format(
      "curl -sS --max-time 120 -o - -w '\\n%{{http_code}}' -H 'Authorization: Bearer {}' "
      "-H 'Content-Type: text/csv' -T {} -X POST {}",
      kSubmissionToken, ShellQuote(file), ShellQuote(Url(route)));
  return ParseCurl(RunCommand(command, 150));
}

std::vector<queue::RecipientId> SubmissionTest::ListRecipients(const std::string& content_id) {
  std::optional<queue::ContentId> id = queue::ContentId::Parse(content_id);
  EXPECT_TRUE(id.has_value()) << content_id;
  if (!id) return {};
  absl::StatusOr<std::vector<queue::RecipientId>> ids = spool_->ListRecipients(*id).Wait();
  EXPECT_TRUE(ids.ok()) << ids.status();
  return ids.ok() ? *ids : std::vector<queue::RecipientId>{};
}

queue::Content SubmissionTest::ReadContent(const std::string& content_id) {
  std::optional<queue::ContentId> id = queue::ContentId::Parse(content_id);
  EXPECT_TRUE(id.has_value()) << content_id;
  absl::StatusOr<queue::Content> c = spool_->ReadContent(id.value_or(queue::ContentId())).Wait();
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : queue::Content{};
}

queue::Recipient SubmissionTest::ReadRecipient(const std::string& content_id,
                                               queue::RecipientId id) {
  std::optional<queue::ContentId> c = queue::ContentId::Parse(content_id);
  absl::StatusOr<queue::Recipient> r =
      spool_->ReadRecipient(c.value_or(queue::ContentId()), id).Wait();
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : queue::Recipient{};
}

long SubmissionTest::ProcStatusKb(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::atol(line.c_str() + field.size() + 1);
    }
  }
  return -1;
}

}  // namespace salvo::testing
