// The bounce mailbox (queue::Mailbox) on a real spool in a temporary
// directory: messages, flags, copies, folders, persistence across reopen,
// \Recent, watchers, Deliver's shared content, concurrency and limits.
#include "queue/mailbox.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using mailbox::FlagOp;
using mailbox::FolderEvent;
using mailbox::kDeleted;
using mailbox::kFlagged;
using mailbox::kSeen;
using mailbox::MessageAttributes;

std::string Body(int i) {
  return fmt::format("From: mailer-daemon@example.net\r\nSubject: bounce {}\r\n\r\nbody {}\r\n", i,
                     i);
}

MessageAttributes Attrs(int i) {
  return {.category = "bad-mailbox",
          .campaign = fmt::format("c{}", i % 3),
          .recipient = fmt::format("user{}@example.com", i)};
}

class MailboxTest : public testing::SpoolTest {
 protected:
  void SetUp() override {
    SpoolTest::SetUp();
    Open();
  }
  void TearDown() override {
    if (spool_) ExpectAudited();
    SpoolTest::TearDown();
  }
  Mailbox& mb() { return spool_->mailbox(); }

  uint32_t Append(const std::string& folder, int i, uint8_t flags = 0) {
    auto r =
        mb().Append(folder, Body(i), flags, absl::FromUnixSeconds(1700000000 + i), Attrs(i)).Wait();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : 0;
  }
  std::vector<uint32_t> Uids(const std::string& folder) {
    auto v = mb().View(folder, false);
    EXPECT_TRUE(v.ok()) << v.status();
    std::vector<uint32_t> out;
    if (v.ok()) {
      for (const auto& m : v->messages) out.push_back(m.uid);
    }
    return out;
  }
  mailbox::FolderStatus StatusOf(const std::string& folder) {
    auto s = mb().Status(folder);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : mailbox::FolderStatus{};
  }
  std::string ReadOf(const std::string& folder, uint32_t uid) {
    auto r = mb().Read(folder, uid).Wait();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }
  void ExpectAudited() {
    MailboxAudit audit = mb().Audit();
    for (const auto& p : audit.problems) ADD_FAILURE() << p;
  }
};

TEST_F(MailboxTest, SystemFoldersExistAndAreProtected) {
  auto folders = mb().ListFolders();
  std::map<std::string, bool> system;
  for (const auto& f : folders) system[f.name] = f.system;
  for (const char* name : {"INBOX", "Hard", "Soft", "Complaints", "AutoReplies", "Unparsed"}) {
    EXPECT_TRUE(system[name]) << name;
  }
  EXPECT_EQ(folders.size(), 6u);
  EXPECT_EQ(mb().DeleteFolder("INBOX").Wait().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mb().DeleteFolder("Hard").Wait().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mb().RenameFolder("inbox", "Old").Wait().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mb().RenameFolder("Soft", "Softer").Wait().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(mb().DeleteFolder("Nope").Wait().code(), absl::StatusCode::kNotFound);
  // INBOX in any case; distinct UIDVALIDITYs.
  EXPECT_EQ(StatusOf("iNbOx").name, "INBOX");
  std::set<uint32_t> validities;
  for (const auto& f : folders) validities.insert(StatusOf(f.name).uid_validity);
  EXPECT_EQ(validities.size(), folders.size());
  // Reopening creates nothing new.
  uint32_t inbox_validity = StatusOf("INBOX").uid_validity;
  Reopen();
  EXPECT_EQ(mb().ListFolders().size(), 6u);
  EXPECT_EQ(StatusOf("INBOX").uid_validity, inbox_validity);
}

TEST_F(MailboxTest, AppendReadView) {
  EXPECT_EQ(Append("INBOX", 1), 1u);
  EXPECT_EQ(Append("INBOX", 2, kSeen), 2u);
  EXPECT_EQ(Append("INBOX", 3), 3u);
  auto view = mb().View("INBOX", false);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->messages.size(), 3u);
  EXPECT_EQ(view->messages[1].uid, 2u);
  EXPECT_EQ(view->messages[1].flags, kSeen);
  EXPECT_EQ(view->messages[1].size, Body(2).size());
  EXPECT_EQ(view->messages[1].internal_date, absl::FromUnixSeconds(1700000002));
  EXPECT_EQ(view->messages[1].attributes, Attrs(2));
  EXPECT_EQ(view->status.messages, 3u);
  EXPECT_EQ(view->status.unseen, 2u);
  EXPECT_EQ(view->status.uid_next, 4u);
  EXPECT_EQ(view->status.total_bytes, Body(1).size() + Body(2).size() + Body(3).size());
  EXPECT_EQ(ReadOf("INBOX", 3), Body(3));
  EXPECT_EQ(mb().Read("INBOX", 9).Wait().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(mb().Read("Nope", 1).Wait().status().code(), absl::StatusCode::kNotFound);
  auto missing = mb().Append("Nope", "x", 0, absl::Now(), {}).Wait();
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(ReadOf("INBOX", 2), Body(2));
  EXPECT_EQ(StatusOf("INBOX").messages, 3u);
  EXPECT_EQ(StatusOf("INBOX").unseen, 2u);
}

TEST_F(MailboxTest, StoreFlags) {
  for (int i = 1; i <= 3; ++i) Append("INBOX", i);
  auto add = mb().StoreFlags("INBOX", {2, 1, 99, 1}, FlagOp::kAdd, kSeen | kFlagged).Wait();
  ASSERT_TRUE(add.ok()) << add.status();
  ASSERT_EQ(add->size(), 2u);  // 99 skipped, 1 once
  EXPECT_EQ((*add)[0].uid, 1u);
  EXPECT_EQ((*add)[0].flags, kSeen | kFlagged);
  EXPECT_EQ(StatusOf("INBOX").unseen, 1u);
  auto remove = mb().StoreFlags("INBOX", {1}, FlagOp::kRemove, kFlagged).Wait();
  ASSERT_TRUE(remove.ok());
  EXPECT_EQ((*remove)[0].flags, kSeen);
  auto set = mb().StoreFlags("INBOX", {3}, FlagOp::kSet, kDeleted | 0x80).Wait();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)[0].flags, kDeleted);  // unknown bits dropped
  EXPECT_EQ(mb().StoreFlags("Nope", {1}, FlagOp::kAdd, kSeen).Wait().status().code(),
            absl::StatusCode::kNotFound);
  Reopen();
  auto view = mb().View("INBOX", false);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->messages[0].flags, kSeen);
  EXPECT_EQ(view->messages[1].flags, kSeen | kFlagged);
  EXPECT_EQ(view->messages[2].flags, kDeleted);
  EXPECT_EQ(view->status.unseen, 1u);
}

TEST_F(MailboxTest, CopySharesContentAndReportsCopyUid) {
  for (int i = 1; i <= 3; ++i) Append("INBOX", i);
  Append("Hard", 10);
  auto copy = mb().Copy("INBOX", {3, 1, 42}, "Hard").Wait();
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(copy->target_uid_validity, StatusOf("Hard").uid_validity);
  EXPECT_EQ(copy->source_uids, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(copy->target_uids, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(mb().stats().blobs, 4u);  // no new content
  EXPECT_EQ(mb().stats().messages, 6u);
  EXPECT_EQ(ReadOf("Hard", 3), Body(3));
  EXPECT_EQ(Uids("INBOX"), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(mb().Copy("INBOX", {1}, "Nope").Wait().status().code(), absl::StatusCode::kNotFound);
  auto none = mb().Copy("INBOX", {77}, "Soft").Wait();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->target_uids.empty());
}

TEST_F(MailboxTest, MoveRemovesFromSource) {
  for (int i = 1; i <= 3; ++i) Append("INBOX", i, kSeen);
  auto move = mb().Move("INBOX", {2, 3}, "Soft").Wait();
  ASSERT_TRUE(move.ok()) << move.status();
  EXPECT_EQ(move->source_uids, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(move->target_uids, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(Uids("INBOX"), (std::vector<uint32_t>{1}));
  EXPECT_EQ(Uids("Soft"), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(ReadOf("Soft", 2), Body(3));
  EXPECT_EQ(mb().stats().blobs, 3u);
  auto view = mb().View("Soft", false);
  EXPECT_EQ(view->messages[0].flags, kSeen);  // flags travel
  Reopen();
  EXPECT_EQ(Uids("INBOX"), (std::vector<uint32_t>{1}));
  EXPECT_EQ(ReadOf("Soft", 1), Body(2));
}

TEST_F(MailboxTest, ExpungeAllOrUidSubset) {
  for (int i = 1; i <= 5; ++i) Append("INBOX", i);
  ASSERT_TRUE(mb().StoreFlags("INBOX", {1, 2, 4}, FlagOp::kAdd, kDeleted).Wait().ok());
  auto some = mb().Expunge("INBOX", std::vector<uint32_t>{4, 3}).Wait();
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(*some, (std::vector<uint32_t>{4}));  // 3 is not \Deleted
  auto all = mb().Expunge("INBOX", std::nullopt).Wait();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(Uids("INBOX"), (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(mb().stats().blobs, 2u);
  EXPECT_EQ(StatusOf("INBOX").uid_next, 6u);
  EXPECT_EQ(Append("INBOX", 6), 6u);  // never reused
  auto nothing = mb().Expunge("INBOX", std::nullopt).Wait();
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
}

TEST_F(MailboxTest, CreateDeleteRenameFolders) {
  for (const char* name : {"a", "a/b", "a/b/c", "ab"}) {
    ASSERT_TRUE(mb().CreateFolder(name).Wait().ok()) << name;
  }
  EXPECT_EQ(mb().CreateFolder("a").Wait().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(mb().CreateFolder("inbox").Wait().code(), absl::StatusCode::kAlreadyExists);
  for (std::string bad : {std::string(""), std::string("x*"), std::string("x%"),
                          std::string("a\x01"), std::string("/a"), std::string("a//b"),
                          std::string("a/"), std::string("\xff\xfe"), std::string(201, 'n')}) {
    EXPECT_EQ(mb().CreateFolder(bad).Wait().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  Append("a/b", 1);
  uint32_t validity = StatusOf("a/b").uid_validity;
  ASSERT_TRUE(mb().RenameFolder("a", "z").Wait().ok());
  std::set<std::string> names;
  for (const auto& f : mb().ListFolders()) names.insert(f.name);
  for (const char* name : {"z", "z/b", "z/b/c", "ab"}) EXPECT_TRUE(names.contains(name)) << name;
  for (const char* name : {"a", "a/b", "a/b/c"}) EXPECT_FALSE(names.contains(name)) << name;
  EXPECT_EQ(ReadOf("z/b", 1), Body(1));
  EXPECT_EQ(StatusOf("z/b").uid_validity, validity);
  EXPECT_EQ(mb().RenameFolder("z", "ab").Wait().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(mb().RenameFolder("z", "INBOX").Wait().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(mb().RenameFolder("nope", "x").Wait().code(), absl::StatusCode::kNotFound);
  // Deleting takes the messages and, with the last reference, the content.
  EXPECT_EQ(mb().stats().blobs, 1u);
  ASSERT_TRUE(mb().DeleteFolder("z/b").Wait().ok());
  EXPECT_EQ(mb().stats().blobs, 0u);
  EXPECT_EQ(mb().Status("z/b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(mb().Status("z/b/c").ok());  // children stay
  // A re-created name is a new folder.
  ASSERT_TRUE(mb().CreateFolder("z/b").Wait().ok());
  EXPECT_GT(StatusOf("z/b").uid_validity, validity);
  EXPECT_EQ(StatusOf("z/b").uid_next, 1u);
  // Subscriptions persist.
  ASSERT_TRUE(mb().SetSubscribed("ab", true).Wait().ok());
  Reopen();
  names.clear();
  for (const auto& f : mb().ListFolders()) {
    names.insert(f.name);
    if (f.name == "ab") {
      EXPECT_TRUE(f.subscribed);
    }
    if (f.name == "z") {
      EXPECT_FALSE(f.subscribed);
    }
  }
  EXPECT_EQ(names.size(), 6u + 4u);
  EXPECT_TRUE(names.contains("z/b/c"));
  MailboxAudit audit = mb().Audit();
  EXPECT_EQ(audit.blobs, 0u);
}

TEST_F(MailboxTest, FolderLimit) {
  // All at once: they share group commits, so the limit must hold across the
  // tentative creations of one group too.
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, created = 0, refused = 0;
  constexpr int kTries = mailbox::kMaxFolders + 10;
  for (int i = 0; i < kTries; ++i) {
    mb().CreateFolder(fmt::format("f{}", i)).Then([&](absl::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      if (s.ok()) ++created;
      if (s.code() == absl::StatusCode::kResourceExhausted) ++refused;
      cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done == kTries; }));
  EXPECT_EQ(created, static_cast<int>(mailbox::kMaxFolders) - 6);
  EXPECT_EQ(refused, kTries - created);
  EXPECT_EQ(mb().ListFolders().size(), mailbox::kMaxFolders);
}

TEST_F(MailboxTest, UidValidityAndUidNextSurviveReopen) {
  ASSERT_TRUE(mb().CreateFolder("Kept").Wait().ok());
  for (int i = 1; i <= 3; ++i) Append("Kept", i, kDeleted);
  ASSERT_TRUE(mb().Expunge("Kept", std::nullopt).Wait().ok());
  auto before = StatusOf("Kept");
  EXPECT_EQ(before.uid_next, 4u);
  EXPECT_EQ(before.messages, 0u);
  Reopen();
  auto after = StatusOf("Kept");
  EXPECT_EQ(after.uid_validity, before.uid_validity);
  EXPECT_EQ(after.uid_next, 4u);
  EXPECT_EQ(Append("Kept", 4), 4u);
  // Deleted and re-created after a restart: still a new UIDVALIDITY.
  ASSERT_TRUE(mb().DeleteFolder("Kept").Wait().ok());
  Reopen();
  ASSERT_TRUE(mb().CreateFolder("Kept").Wait().ok());
  EXPECT_GT(StatusOf("Kept").uid_validity, before.uid_validity);
  EXPECT_EQ(StatusOf("Kept").uid_next, 1u);
}

TEST_F(MailboxTest, RecentIsClaimedOnce) {
  Append("INBOX", 1);
  Append("INBOX", 2);
  EXPECT_EQ(StatusOf("INBOX").recent, 2u);
  auto examine = mb().View("INBOX", false);
  EXPECT_FALSE(examine->messages[0].recent);
  EXPECT_EQ(StatusOf("INBOX").recent, 2u);
  auto first = mb().View("INBOX", true);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->messages[0].recent && first->messages[1].recent);
  EXPECT_EQ(first->status.recent, 2u);
  EXPECT_EQ(StatusOf("INBOX").recent, 0u);
  Append("INBOX", 3);
  // A flag change keeps \Recent.
  ASSERT_TRUE(mb().StoreFlags("INBOX", {3}, FlagOp::kAdd, kSeen).Wait().ok());
  auto second = mb().View("INBOX", true);
  EXPECT_FALSE(second->messages[0].recent);
  EXPECT_TRUE(second->messages[2].recent);
  Append("INBOX", 4);
  Reopen();  // documented: nothing is recent after a restart
  EXPECT_EQ(StatusOf("INBOX").recent, 0u);
}

TEST_F(MailboxTest, WatchersSeeDurableChangesAndNothingAfterUnwatch) {
  std::mutex mu;
  std::vector<FolderEvent> events;
  std::vector<uint32_t> messages_seen;  // Status inside the callback: already applied
  Mailbox* box = &mb();
  uint64_t h = mb().Watch("inbox", [&](const FolderEvent& e) {
    auto s = box->Status("INBOX");
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    messages_seen.push_back(s.ok() ? s->messages : 999);
  });
  int other = 0;
  uint64_t h2 = mb().Watch("Hard", [&](const FolderEvent&) { ++other; });
  Append("INBOX", 1);
  Append("INBOX", 2);
  ASSERT_TRUE(mb().StoreFlags("INBOX", {1}, FlagOp::kAdd, kDeleted).Wait().ok());
  ASSERT_TRUE(mb().StoreFlags("INBOX", {1}, FlagOp::kAdd, kDeleted).Wait().ok());  // no change
  ASSERT_TRUE(mb().Expunge("INBOX", std::nullopt).Wait().ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].kind, FolderEvent::Kind::kAppended);
    EXPECT_EQ(events[0].folder, "INBOX");
    ASSERT_EQ(events[0].appended.size(), 1u);
    EXPECT_EQ(events[0].appended[0].uid, 1u);
    EXPECT_EQ(events[0].appended[0].attributes, Attrs(1));
    EXPECT_EQ(messages_seen[0], 1u);
    EXPECT_EQ(messages_seen[1], 2u);
    EXPECT_EQ(events[2].kind, FolderEvent::Kind::kFlags);
    EXPECT_EQ(events[2].flags[0].flags, kDeleted);
    EXPECT_EQ(events[3].kind, FolderEvent::Kind::kExpunged);
    EXPECT_EQ(events[3].expunged, (std::vector<uint32_t>{1}));
    EXPECT_EQ(messages_seen[3], 1u);
  }
  EXPECT_EQ(other, 0);
  mb().Unwatch(h);
  Append("INBOX", 3);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(events.size(), 4u);
  }
  mb().Unwatch(h2);
  mb().Unwatch(h2);  // twice: harmless
}

TEST_F(MailboxTest, WatcherMayUnwatchItselfAndUnwatchWaitsForACallback) {
  Mailbox* box = &mb();
  std::atomic<int> calls{0};
  uint64_t self = 0;
  self = mb().Watch("INBOX", [&](const FolderEvent&) {
    ++calls;
    box->Unwatch(self);
  });
  Append("INBOX", 1);
  Append("INBOX", 2);
  EXPECT_EQ(calls.load(), 1);
  // Unwatch from another thread while appends run: after it returns, the
  // callback never runs again (its state is destroyed right after).
  for (int round = 0; round < 20; ++round) {
    auto alive = std::make_shared<std::atomic<bool>>(true);
    std::atomic<int> after{0};
    uint64_t h = mb().Watch("INBOX", [alive, &after](const FolderEvent&) {
      if (!alive->load()) ++after;
    });
    std::thread writer([&] { Append("INBOX", 100 + round); });
    std::this_thread::sleep_for(std::chrono::microseconds(200 * (round % 5)));
    mb().Unwatch(h);
    alive->store(false);
    writer.join();
    EXPECT_EQ(after.load(), 0);
  }
}

TEST_F(MailboxTest, DeliverFilesIntoInboxAndCategorySharingContent) {
  auto d = mb().Deliver(Body(1), absl::FromUnixSeconds(1700000001), Attrs(1), "Hard").Wait();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->inbox_uid, 1u);
  EXPECT_EQ(d->folder_uid, 1u);
  auto d2 = mb().Deliver(Body(2), absl::Now(), Attrs(2), "Hard").Wait();
  ASSERT_TRUE(d2.ok());
  EXPECT_EQ(d2->inbox_uid, 2u);
  EXPECT_EQ(d2->folder_uid, 2u);
  auto inbox_only = mb().Deliver(Body(3), absl::Now(), Attrs(3), "").Wait();
  ASSERT_TRUE(inbox_only.ok());
  EXPECT_EQ(inbox_only->folder_uid, 0u);
  EXPECT_EQ(mb().Deliver("x", absl::Now(), {}, "Nope").Wait().status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusOf("INBOX").messages, 3u);  // the refused one wrote nothing
  EXPECT_EQ(mb().stats().blobs, 3u);
  EXPECT_EQ(mb().stats().messages, 5u);
  // Expunging the INBOX copy keeps the category copy's bytes.
  ASSERT_TRUE(mb().StoreFlags("INBOX", {1}, FlagOp::kAdd, kDeleted).Wait().ok());
  ASSERT_TRUE(mb().Expunge("INBOX", std::nullopt).Wait().ok());
  EXPECT_EQ(mb().stats().blobs, 3u);
  Reopen();
  EXPECT_EQ(ReadOf("Hard", 1), Body(1));
  EXPECT_EQ(mb().stats().blobs, 3u);
  // The last reference goes: so does the content, on disk too.
  ASSERT_TRUE(mb().StoreFlags("Hard", {1}, FlagOp::kAdd, kDeleted).Wait().ok());
  ASSERT_TRUE(mb().Expunge("Hard", std::nullopt).Wait().ok());
  EXPECT_EQ(mb().stats().blobs, 2u);
  Reopen();
  EXPECT_EQ(mb().stats().blobs, 2u);
  EXPECT_EQ(mb().Audit().blobs, 2u);
}

TEST_F(MailboxTest, OversizeAppendIsRefused) {
  mb().set_max_message_bytes(1000);
  auto big = mb().Append("INBOX", std::string(1001, 'x'), 0, absl::Now(), {}).Wait();
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  auto big2 = mb().Deliver(std::string(1001, 'x'), absl::Now(), {}, "Hard").Wait();
  EXPECT_EQ(big2.status().code(), absl::StatusCode::kResourceExhausted);
  auto fits = mb().Append("INBOX", std::string(1000, 'x'), 0, absl::Now(), {}).Wait();
  EXPECT_TRUE(fits.ok());
  EXPECT_EQ(StatusOf("INBOX").messages, 1u);
}

TEST_F(MailboxTest, DiskFullRefusesGrowthButNotCleanup) {
  Append("INBOX", 1);
  Append("INBOX", 2);
  spool_.reset();
  SpoolOptions full = Options();
  full.min_free_bytes = uint64_t{1} << 62;  // more than any disk: "full"
  Open(full);
  auto append = mb().Append("INBOX", Body(3), 0, absl::Now(), {}).Wait();
  EXPECT_EQ(append.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(mb().Deliver(Body(3), absl::Now(), {}, "Hard").Wait().status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(mb().CreateFolder("New").Wait().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusOf("INBOX").messages, 2u);  // nothing changed
  EXPECT_EQ(StatusOf("INBOX").uid_next, 3u);
  // Flags and expunges (which free space) still go through.
  ASSERT_TRUE(mb().StoreFlags("INBOX", {1}, FlagOp::kAdd, kDeleted).Wait().ok());
  auto gone = mb().Expunge("INBOX", std::nullopt).Wait();
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(*gone, (std::vector<uint32_t>{1}));
  Reopen();  // with room again
  EXPECT_EQ(Append("INBOX", 3), 3u);
}

// At namespace scope (g++ 12 and constexpr locals in coroutine lambdas).
constexpr int kThreads = 4, kPerThread = 60;

TEST_F(MailboxTest, ConcurrentAppendsAndFlagsStayConsistent) {
  ASSERT_TRUE(mb().CreateFolder("Busy").Wait().ok());
  std::vector<std::thread> threads;
  std::vector<std::vector<uint32_t>> uids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string folder = i % 2 ? "Busy" : "INBOX";
        auto r = mb().Append(folder, Body(i), 0, absl::Now(), Attrs(i)).Wait();
        if (!r.ok()) continue;
        if (folder == "INBOX") uids[t].push_back(*r);
        if (i % 3 == 0) {
          // Flags on this thread's message, and a copy, racing the others.
          auto f = mb().StoreFlags(folder, {*r}, FlagOp::kAdd, kSeen).Wait();
          EXPECT_TRUE(f.ok()) << f.status();
        }
        if (i % 10 == 0) {
          auto c = mb().Copy(folder, {*r}, "Soft").Wait();
          EXPECT_TRUE(c.ok()) << c.status();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint32_t> all;
  for (const auto& v : uids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads} * kPerThread / 2);  // every UID distinct
  auto inbox = StatusOf("INBOX"), busy = StatusOf("Busy"), soft = StatusOf("Soft");
  EXPECT_EQ(inbox.messages + busy.messages, uint32_t{kThreads} * kPerThread);
  EXPECT_EQ(soft.messages, uint32_t{kThreads} * 6);
  EXPECT_EQ(inbox.uid_next, inbox.messages + 1);
  uint32_t seen = 0;
  for (const char* f : {"INBOX", "Busy"}) {
    auto view = mb().View(f, false);
    ASSERT_TRUE(view.ok());
    for (const auto& m : view->messages) seen += (m.flags & kSeen) ? 1 : 0;
  }
  EXPECT_EQ(seen, uint32_t{kThreads} * 20);
  EXPECT_EQ(inbox.unseen + busy.unseen, uint32_t{kThreads} * kPerThread - seen);
  EXPECT_EQ(mb().stats().blobs, size_t{kThreads} * kPerThread);
  ExpectAudited();
  Reopen();
  EXPECT_EQ(StatusOf("INBOX").messages, inbox.messages);
  EXPECT_EQ(StatusOf("INBOX").unseen, inbox.unseen);
  EXPECT_EQ(StatusOf("Soft").messages, soft.messages);
}

void RunOnRing(Task<void> main) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  (*ring)->Run(std::move(main));
}

TEST_F(MailboxTest, CoroutinesResumeOnTheirRing) {
  bool ok = false;
  std::thread::id ring_thread, resumed_on;
  RunOnRing([](Mailbox* box, bool* ok, std::thread::id* ring_thread,
               std::thread::id* resumed_on) -> Task<void> {
    *ring_thread = std::this_thread::get_id();
    MessageAttributes attrs = Attrs(1);
    auto uid = co_await box->Append("INBOX", Body(1), 0, absl::Now(), std::move(attrs));
    *resumed_on = std::this_thread::get_id();
    if (!uid.ok()) co_return;
    auto content = co_await box->Read("INBOX", *uid);
    std::vector<uint32_t> uids{*uid};
    auto flags = co_await box->StoreFlags("INBOX", std::move(uids), FlagOp::kAdd, kSeen);
    *ok = content.ok() && *content == Body(1) && flags.ok() && flags->size() == 1;
  }(&mb(), &ok, &ring_thread, &resumed_on));
  EXPECT_TRUE(ok);
  EXPECT_EQ(ring_thread, resumed_on);
}

}  // namespace
}  // namespace salvo::queue
