// Not run by default (DISABLED_): a 1,000,000-row CSV upload through curl to
// a real spool, printing the recipients accepted per second (durable, from
// the first byte sent to the 202) and the process's peak RSS. The command
// and figures are in docs/benchmarks/api.md.
#include <chrono>
#include <cstdio>

#include "fmt/format.h"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

TEST_F(SubmissionTest, DISABLED_MillionRowCsvUpload) {
  constexpr int kRows = 1'000'000;
  nlohmann::json campaign = {{"name", "bench"},
                             {"from", "news@shop.example"},
                             {"subject", "Hi {{first_name}}"},
                             {"text", "Plan {{plan}}"},
                             {"open", true}};
  ApiAnswer a = PostJson("/v1/campaigns", campaign);
  ASSERT_EQ(a.status, 202) << a.body;
  std::string path = dir_ + "/million.csv";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("address,first_name,plan\n", f);
  for (int i = 0; i < kRows; ++i) {
    std::fprintf(f, "user%d@d%d.example.com,Name %d,plan-%d\n", i, i % 997, i, i % 5);
  }
  std::fclose(f);
  long hwm_before = ProcStatusKb("VmHWM");
  auto start = std::chrono::steady_clock::now();
  ApiAnswer up = UploadCsvFile(
      fmt::format("/v1/campaigns/{}/recipients?close=true", a.json["id"].get<std::string>()), path);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(up.status, 202) << up.body;
  EXPECT_EQ(up.json["recipients"], kRows);
  std::printf(
      "%d rows in %.2f s: %.0f recipients/s durable; peak RSS %ld KiB before, %ld KiB after "
      "(spool index %zu KiB)\n",
      kRows, seconds, kRows / seconds, hwm_before, ProcStatusKb("VmHWM"),
      spool_->stats().index_bytes / 1024);
}

}  // namespace
}  // namespace salvo::testing
