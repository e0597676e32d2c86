// kill -9 and campaign counters: a child (queue_campaign_crash_child) adds
// recipients, records outcomes and pauses/resumes/cancels; after each kill
// the spool is reopened, and every campaign's counters must agree exactly
// with what the spool holds — its event index (written in the same atomic
// batch as each counter change) and its recipients still queued — and be
// at least what the child saw acknowledged. The child also records bounces
// for delivered recipients (RecordCampaignFeedback): the bounced counter
// must match the feedback events, and every recipient acknowledged as
// delivered must still be attributable (its attribution record, written in
// the outcome's batch, survived the kill).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "queue/spool.h"
#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using Clock = std::chrono::steady_clock;

struct Seen {
  uint64_t added = 0;
  uint64_t outcomes[4] = {0, 0, 0, 0};  // delivered, deferred, failed, suppressed
  uint64_t bounced = 0;
  std::vector<RecipientId> delivered;  // the last few acknowledged as delivered
};

// Runs the child for a while, kills it, and returns its whole lines.
std::string RunAndKill(const std::string& path, int run_ms) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    execl(CAMPAIGN_CRASH_CHILD_PATH, CAMPAIGN_CRASH_CHILD_PATH, path.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  auto read_until = [&](Clock::time_point deadline) {
    while (Clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 10) <= 0) continue;
      char chunk[65536];
      ssize_t n = read(fds[0], chunk, sizeof(chunk));
      if (n <= 0) return;
      out.append(chunk, n);
    }
  };
  auto ready_by = Clock::now() + std::chrono::seconds(20);
  while (out.find("C ") == std::string::npos && Clock::now() < ready_by) {
    read_until(Clock::now() + std::chrono::milliseconds(10));
  }
  read_until(Clock::now() + std::chrono::milliseconds(run_ms));
  kill(pid, SIGKILL);
  read_until(Clock::now() + std::chrono::seconds(5));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "child ended by itself (status " << status << ")";
  out.resize(out.rfind('\n') + 1);
  return out;
}

void Parse(const std::string& lines, std::map<ContentId, Seen>& seen) {
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind, id_text;
    words >> kind >> id_text;
    if (kind == "READY") continue;
    std::optional<ContentId> id = ContentId::Parse(id_text);
    ASSERT_TRUE(id.has_value()) << line;
    if (kind == "D" || kind == "F") {
      std::string rcpt;
      words >> rcpt;
      std::optional<RecipientId> r = RecipientId::Parse(rcpt);
      ASSERT_TRUE(r.has_value()) << line;
      Seen& s = seen[*id];
      if (kind == "F") ++s.bounced;
      if (kind == "D") s.delivered.push_back(*r);
      if (s.delivered.size() > 8) s.delivered.erase(s.delivered.begin());
      continue;
    }
    int n = 0;
    words >> n;
    if (kind == "C") seen[*id];
    if (kind == "A") seen[*id].added += n;
    if (kind == "O") ++seen[*id].outcomes[n];
  }
}

void CheckCounters(const std::string& path, std::map<ContentId, Seen>& seen) {
  SpoolOptions options;
  options.path = path;
  options.min_free_bytes = 0;
  auto opened = Spool::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Spool& spool = **opened;
  // A cancel the kill interrupted is finished at open, in the background:
  // let it end before the audit, which reads the column families one by one.
  auto settle_by = Clock::now() + std::chrono::seconds(20);
  for (bool busy = true; busy && Clock::now() < settle_by;) {
    busy = false;
    for (const auto& [id, s] : seen) {
      auto info = spool.GetCampaign(id);
      auto left = spool.ListRecipients(id).Wait();
      if (info.ok() && info->cancelled && left.ok() && !left->empty()) busy = true;
    }
    if (busy) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  AuditReport audit = spool.Audit();
  for (const auto& p : audit.problems) ADD_FAILURE() << p;
  for (auto& [id, s] : seen) {
    SCOPED_TRACE(id.ToString());
    // Acknowledged deliveries are attributable after the kill.
    for (RecipientId r : s.delivered) {
      CampaignFeedback complaint{.recipient = r, .kind = FeedbackKind::kComplained};
      auto recorded = spool.RecordCampaignFeedback(complaint).Wait();
      ASSERT_TRUE(recorded.ok()) << r.ToString() << ": " << recorded.status();
      EXPECT_EQ(recorded->campaign, id);
    }
    s.delivered.clear();
    auto info = spool.GetCampaign(id);
    ASSERT_TRUE(info.ok()) << info.status();
    const CampaignCounters& c = info->counters;
    auto report = spool.ReportCampaign(id).Wait();
    ASSERT_TRUE(report.ok()) << report.status();
    const OutcomeCounts& o = report->outcomes;
    EXPECT_EQ(c.delivered, o.delivered);
    EXPECT_EQ(c.deferrals, o.deferred);
    EXPECT_EQ(c.failed, o.failed);
    EXPECT_EQ(c.suppressed, o.suppressed);
    EXPECT_EQ(c.cancelled, o.cancelled);
    EXPECT_EQ(c.expired, o.expired);
    EXPECT_EQ(c.bounced, report->feedback.bounced);
    EXPECT_EQ(c.complained, report->feedback.complained);
    EXPECT_GE(c.bounced, s.bounced);
    auto left = spool.ListRecipients(id).Wait();
    ASSERT_TRUE(left.ok());
    EXPECT_EQ(c.accepted, c.finals() + left->size());
    EXPECT_LE(c.deferred, left->size());
    EXPECT_GE(c.accepted, s.added);
    EXPECT_GE(c.delivered, s.outcomes[0]);
    EXPECT_GE(c.deferrals, s.outcomes[1]);
    EXPECT_GE(c.failed, s.outcomes[2]);
    EXPECT_GE(c.suppressed, s.outcomes[3]);
  }
}

TEST(CampaignCrash, CountersAgreeWithTheSpoolAfterKillNine) {
  std::string dir = testing::MakeTempDir();
  std::string path = dir + "/spool";
  unsigned seed = std::random_device()();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::map<ContentId, Seen> seen;
  uint64_t outcomes = 0;
  auto test_end = Clock::now() + std::chrono::seconds(100);
  int kills = 0;
  for (; kills < 8 && Clock::now() < test_end; ++kills) {
    std::string out = RunAndKill(path, std::uniform_int_distribution<int>(20, 150)(rng));
    Parse(out, seen);
    CheckCounters(path, seen);
    if (HasFailure()) break;
  }
  for (const auto& [id, s] : seen) {
    outcomes += s.outcomes[0] + s.outcomes[1] + s.outcomes[2] + s.outcomes[3];
  }
  std::printf("campaign crash test: %d kills, %zu campaigns, %llu outcomes acknowledged\n", kills,
              seen.size(), static_cast<unsigned long long>(outcomes));
  EXPECT_GE(kills, 4);
  EXPECT_GT(outcomes, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace salvo::queue
