// kill -9 the mailbox at random moments: a child (queue_mailbox_crash_child)
// files bounces and changes flags in a loop and reports every acknowledged
// change; after each kill the spool is reopened and must hold every
// acknowledged message with its content and flags, no acknowledged-expunged
// one, counts that match the messages, and no orphan record or content.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "queue/mailbox.h"
#include "spool_fixture.h"
#include "tests/queue/crash_driver.h"

namespace salvo::queue {
namespace {

using Clock = std::chrono::steady_clock;

// Keep in sync with mailbox_crash_child.cc.
std::string Content(int thread, int n) {
  return "Subject: bounce " + std::to_string(thread) + "/" + std::to_string(n) + "\r\n\r\n" +
         std::string(100 + (n * 37 + thread) % 3000, 'a' + (n % 26)) + "\r\n";
}

struct Acknowledged {
  std::map<uint32_t, std::pair<int, int>> inbox;               // uid -> (thread, n)
  std::map<std::pair<std::string, uint32_t>, uint32_t> filed;  // (category, uid) -> inbox uid
  std::set<uint32_t> seen;
  std::set<std::pair<std::string, uint32_t>> expunging;  // may or may not be gone
  std::set<std::pair<std::string, uint32_t>> expunged;
};

void Parse(const std::string& lines, Acknowledged& ack) {
  std::istringstream in(lines);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream w(line);
    std::string kind;
    w >> kind;
    if (kind == "READY") continue;
    if (kind == "A") {
      uint32_t inbox_uid = 0, folder_uid = 0;
      std::string category;
      int thread = 0, n = 0;
      w >> inbox_uid >> category >> folder_uid >> thread >> n;
      EXPECT_FALSE(ack.inbox.contains(inbox_uid)) << "INBOX UID handed out twice: " << line;
      ack.inbox[inbox_uid] = {thread, n};
      ack.filed[{category, folder_uid}] = inbox_uid;
    } else if (kind == "S") {
      uint32_t uid = 0;
      w >> uid;
      ack.seen.insert(uid);
    } else if (kind == "P") {
      std::string category;
      uint32_t uid = 0;
      w >> category >> uid;
      ack.expunging.insert({category, uid});
    } else if (kind == "E") {
      std::string category;
      uint32_t uid = 0;
      w >> category >> uid;
      ack.expunged.insert({category, uid});
    } else {
      ADD_FAILURE() << "unexpected line: " << line;
    }
  }
}

void CheckMailbox(const std::string& path, const Acknowledged& ack, std::mt19937& rng) {
  SpoolOptions options;
  options.path = path;
  options.min_free_bytes = 0;
  auto opened = Spool::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Mailbox& box = (*opened)->mailbox();
  MailboxAudit audit = box.Audit();
  for (const auto& p : audit.problems) ADD_FAILURE() << p;
  std::map<std::string, std::map<uint32_t, mailbox::MessageMeta>> folders;
  for (const char* name : {"INBOX", "Hard", "Soft", "Complaints"}) {
    auto view = box.View(name, false);
    ASSERT_TRUE(view.ok()) << view.status();
    uint32_t unseen = 0;
    uint64_t bytes = 0;
    for (const auto& m : view->messages) {
      folders[name][m.uid] = m;
      unseen += (m.flags & mailbox::kSeen) ? 0 : 1;
      bytes += m.size;
      EXPECT_LT(m.uid, view->status.uid_next);
    }
    EXPECT_EQ(view->status.messages, view->messages.size());
    EXPECT_EQ(view->status.unseen, unseen);
    EXPECT_EQ(view->status.total_bytes, bytes);
  }
  for (const auto& [uid, origin] : ack.inbox) {
    auto it = folders["INBOX"].find(uid);
    ASSERT_NE(it, folders["INBOX"].end()) << "acknowledged INBOX UID " << uid << " lost";
    EXPECT_EQ(it->second.size, Content(origin.first, origin.second).size());
    if (ack.seen.contains(uid)) {
      EXPECT_TRUE(it->second.flags & mailbox::kSeen) << uid;
    }
  }
  for (const auto& [key, inbox_uid] : ack.filed) {
    bool present = folders[key.first].contains(key.second);
    if (ack.expunged.contains(key)) {
      EXPECT_FALSE(present) << key.first << " " << key.second << " came back";
    } else if (!ack.expunging.contains(key)) {
      EXPECT_TRUE(present) << key.first << " " << key.second << " lost";
    }
  }
  // Contents: a sample of the acknowledged ones, read back whole.
  std::vector<uint32_t> uids;
  for (const auto& [uid, origin] : ack.inbox) uids.push_back(uid);
  std::shuffle(uids.begin(), uids.end(), rng);
  if (uids.size() > 50) uids.resize(50);
  for (uint32_t uid : uids) {
    auto content = box.Read("INBOX", uid).Wait();
    ASSERT_TRUE(content.ok()) << content.status();
    const auto& origin = ack.inbox.at(uid);
    EXPECT_EQ(*content, Content(origin.first, origin.second)) << uid;
  }
}

TEST(MailboxCrash, AcknowledgedChangesSurviveKillNine) {
  std::string dir = testing::MakeTempDir();
  std::string path = dir + "/spool";
  unsigned seed = std::random_device()();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  Acknowledged ack;
  constexpr int kKills = 8;
  auto test_end = Clock::now() + std::chrono::seconds(90);
  int kills = 0;
  for (; kills < kKills && Clock::now() < test_end; ++kills) {
    testing::CrashChild child = testing::SpawnCrashChild(MAILBOX_CRASH_CHILD_PATH, path);
    std::string out;
    ASSERT_TRUE(testing::WaitForReady(child, out)) << "child did not start";
    int run_ms = std::uniform_int_distribution<int>(20, 150)(rng);
    testing::ReadUntil(child.out, out, Clock::now() + std::chrono::milliseconds(run_ms));
    // On a loaded machine a synced write can take tens of ms: let each run
    // acknowledge a few deliveries (up to 5 s), then kill at a random moment.
    auto progress_by = Clock::now() + std::chrono::seconds(5);
    auto delivered = [&out] {
      size_t n = 0;
      for (size_t at = out.find("\nA "); at != std::string::npos; at = out.find("\nA ", at + 1))
        ++n;
      return n;
    };
    while (delivered() < 5 && Clock::now() < progress_by) {
      if (!testing::ReadUntil(child.out, out, Clock::now() + std::chrono::milliseconds(10))) break;
    }
    testing::ReadUntil(
        child.out, out,
        Clock::now() + std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(rng)));
    int status = testing::KillAndReap(child, out);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child ended by itself (status " << status << ")";
    Parse(out, ack);
    CheckMailbox(path, ack, rng);
    if (HasFatalFailure()) break;
  }
  std::printf("mailbox crash test: %d kills, %zu deliveries acknowledged\n", kills,
              ack.inbox.size());
  EXPECT_GE(kills, 4);
  EXPECT_GT(ack.inbox.size(), 20u);
  EXPECT_FALSE(ack.expunged.empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace salvo::queue
