// kill -9 at random moments: a child process (queue_crash_child) accepts and
// delivers in a loop and reports every acknowledged write; after each kill
// the spool is reopened and must hold every acknowledged recipient exactly
// once (or its delivery), each message whole, and no partial record.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "queue/spool.h"
#include "spool_fixture.h"
#include "tests/queue/crash_driver.h"

namespace salvo::queue {
namespace {

using Clock = std::chrono::steady_clock;

struct Acknowledged {
  std::map<ContentId, int> message_size;        // message -> recipients
  std::map<RecipientId, ContentId> recipients;  // every accepted recipient
  std::set<RecipientId> delivered;
};

void Parse(const std::string& lines, Acknowledged& ack) {
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind, content_text;
    words >> kind >> content_text;
    if (kind == "READY") continue;
    auto content = ContentId::Parse(content_text);
    ASSERT_TRUE(content.has_value()) << line;
    if (kind == "A") {
      int n = 0;
      words >> n;
      ack.message_size[*content] = n;
      std::string id;
      for (int i = 0; i < n; ++i) {
        words >> id;
        ack.recipients[*RecipientId::Parse(id)] = *content;
      }
    } else if (kind == "D") {
      std::string id;
      words >> id;
      ack.delivered.insert(*RecipientId::Parse(id));
    } else {
      FAIL() << "unexpected line: " << line;
    }
  }
}

void CheckSpool(const std::string& path, const Acknowledged& ack) {
  SpoolOptions options;
  options.path = path;
  options.min_free_bytes = 0;
  auto opened = Spool::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Spool& spool = **opened;
  AuditReport audit = spool.Audit();
  for (const auto& p : audit.problems) ADD_FAILURE() << p;
  ASSERT_EQ(spool.recovery().repaired, 0u);
  auto events = spool.ReadEvents(EventId(), 1 << 30).Wait();
  ASSERT_TRUE(events.ok()) << events.status();
  std::set<RecipientId> delivered_events;
  std::map<ContentId, int> delivered_per_message;
  for (const auto& e : *events) {
    if (e.kind != RecipientState::kDelivered) continue;
    EXPECT_TRUE(delivered_events.insert(e.recipient).second) << "delivered twice";
    ++delivered_per_message[e.content];
  }
  std::map<ContentId, std::set<RecipientId>> present;
  for (const auto& [message, n] : ack.message_size) {
    auto ids = spool.ListRecipients(message).Wait();
    ASSERT_TRUE(ids.ok()) << ids.status();
    present[message] = std::set<RecipientId>(ids->begin(), ids->end());
    EXPECT_EQ(ids->size(), present[message].size());
    // A message is whole: what is left plus what was delivered is all of it.
    EXPECT_EQ(static_cast<int>(ids->size()) + delivered_per_message[message], n)
        << message.ToString();
  }
  for (const auto& [id, message] : ack.recipients) {
    bool here = present[message].contains(id);
    bool gone = delivered_events.contains(id);
    EXPECT_NE(here, gone) << id.ToString() << " must be queued or delivered, exactly one";
    if (ack.delivered.contains(id)) {
      EXPECT_TRUE(gone) << id.ToString();
    }
  }
}

TEST(SpoolCrash, AcknowledgedRecipientsSurviveKillNine) {
  std::string dir = testing::MakeTempDir();
  std::string path = dir + "/spool";
  unsigned seed = std::random_device()();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  Acknowledged ack;
  constexpr int kKills = 20;                                 // the issue asks for >= 20
  auto test_end = Clock::now() + std::chrono::seconds(200);  // a guard for loaded machines (ASan)
  int kills = 0;
  long check_ms = 0;
  for (; kills < kKills && Clock::now() < test_end; ++kills) {
    testing::CrashChild child = testing::SpawnCrashChild(CRASH_CHILD_PATH, path);
    std::string out;
    // Wait for READY, then let it run for a random while.
    ASSERT_TRUE(testing::WaitForReady(child, out)) << "child did not start";
    int run_ms = std::uniform_int_distribution<int>(5, 120)(rng);
    testing::ReadUntil(child.out, out, Clock::now() + std::chrono::milliseconds(run_ms));
    int status = testing::KillAndReap(child, out);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child ended by itself (status " << status << ")";
    Parse(out, ack);
    auto check_start = Clock::now();
    CheckSpool(path, ack);
    check_ms +=
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - check_start).count();
    if (HasFatalFailure()) break;
  }
  std::printf("crash test: %d kills, %zu recipients acknowledged, %zu deliveries acknowledged\n",
              kills, ack.recipients.size(), ack.delivered.size());
  std::printf("crash test: %ld ms reopening and checking\n", check_ms);
  EXPECT_GE(kills, 20);
  EXPECT_GT(ack.recipients.size(), 50u);
  EXPECT_GT(ack.delivered.size(), 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace salvo::queue
