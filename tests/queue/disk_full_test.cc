// A full disk: the spool lives on a small tmpfs the test mounts (as root).
// Accepts must fail with ResourceExhausted, nothing already accepted may be
// harmed, and writes must resume once there is space again.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using testing::Recipients;
using testing::SampleMessage;

// The tmpfs lives in a mount namespace of this process's own, so that it
// disappears with the process even if the test is killed half-way. unshare
// must come while the process has one thread: before any test runs.
class PrivateMounts : public ::testing::Environment {
 public:
  void SetUp() override {
    if (unshare(CLONE_NEWNS) == 0) {
      mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    }  // else the tests mount in the shared namespace and unmount in TearDown
  }
};
[[maybe_unused]] ::testing::Environment* const kPrivateMounts =
    ::testing::AddGlobalTestEnvironment(new PrivateMounts);

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir();
    mnt_ = dir_ + "/mnt";
    std::filesystem::create_directory(mnt_);
    if (mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=48m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs for the full-disk test (" << std::strerror(errno)
                   << "); it needs root";
    }
    mounted_ = true;
  }
  void TearDown() override {
    spool_.reset();
    if (mounted_) umount2(mnt_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(dir_);
  }

  SpoolOptions Options(uint64_t min_free) {
    SpoolOptions o;
    o.path = mnt_ + "/spool";
    o.min_free_bytes = min_free;
    o.memtable_bytes = 4 << 20;
    o.block_cache_bytes = 4 << 20;
    return o;
  }
  void Open(uint64_t min_free) {
    auto s = Spool::Open(Options(min_free));
    ASSERT_TRUE(s.ok()) << s.status();
    spool_ = std::move(*s);
  }
  bool Grow(const char* size) {
    std::string opts = std::string("size=") + size;
    return mount("tmpfs", mnt_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
  }
  // Accepts 10 KB messages until one fails (at most `limit`); returns it.
  absl::Status FillUntilRefused(std::vector<AcceptedMessage>& accepted, int limit) {
    std::string body = "Subject: fill\r\n\r\n";
    uint64_t x = 88172645463325252ULL;
    while (body.size() < (10 << 10)) {  // incompressible, as real bodies mostly are
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      body.push_back(static_cast<char>('A' + x % 58));
    }
    for (int i = 0; i < limit; ++i) {
      auto r = spool_->AcceptMessage(SampleMessage(body), Recipients(2)).Wait();
      if (!r.ok()) return r.status();
      accepted.push_back(*r);
    }
    return absl::OkStatus();
  }
  void ExpectAllPresent(const std::vector<AcceptedMessage>& accepted) {
    for (const auto& m : accepted) {
      auto ids = spool_->ListRecipients(m.id).Wait();
      ASSERT_TRUE(ids.ok()) << ids.status();
      EXPECT_EQ(*ids, m.recipients);
    }
  }

  std::string dir_, mnt_;
  bool mounted_ = false;
  std::unique_ptr<Spool> spool_;
};

TEST_F(DiskFullTest, ARealWriteErrorRefusesAcceptsAndWritesResumeWithSpace) {
  Open(/*min_free=*/0);  // no reserve: RocksDB itself hits ENOSPC
  std::vector<AcceptedMessage> accepted;
  absl::Status refused = FillUntilRefused(accepted, 20000);
  ASSERT_FALSE(refused.ok()) << "the 48 MiB tmpfs never filled";
  // ResourceExhausted: the caller answers 452 / HTTP 507.
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_NE(refused.message().find("disk full"), absl::string_view::npos) << refused;
  EXPECT_GT(accepted.size(), 100u);
  // Refused again while full, with the same clear error; reads still work.
  // (When the failure was a background flush's, which frees its partial file,
  // a few MiB may be free again and the spool may already take a small
  // message: then it must be kept like any other.)
  auto again = spool_->AcceptMessage(SampleMessage(), Recipients(1)).Wait();
  if (again.ok()) {
    accepted.push_back(*again);
  } else {
    EXPECT_TRUE(absl::IsResourceExhausted(again.status())) << again.status();
  }
  ExpectAllPresent(accepted);

  ASSERT_TRUE(Grow("256m"));
  absl::Status resumed = absl::UnknownError("not tried");
  for (int i = 0; i < 100 && !resumed.ok(); ++i) {  // RocksDB resumes in its own time
    auto r = spool_->AcceptMessage(SampleMessage(), Recipients(1)).Wait();
    resumed = r.status();
    if (r.ok()) {
      accepted.push_back(*r);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_TRUE(resumed.ok()) << resumed;
  ASSERT_TRUE(FillUntilRefused(accepted, 50).ok());

  spool_.reset();  // everything acknowledged is still there after a restart
  Open(0);
  ExpectAllPresent(accepted);
  size_t expected = 0;
  for (const auto& m : accepted) expected += m.recipients.size();
  EXPECT_EQ(spool_->recovery().recipients, expected);
  for (const auto& p : spool_->Audit().problems) ADD_FAILURE() << p;
}

// The reserve must hold more than min_free_bytes: RocksDB's flush of the
// memtables and its preallocated WAL files come after the last accept. With
// min_free_bytes alone this failed on tmpfs sizes of 22, 26 and 30 MiB with
// ENOSPC in a background flush, which then failed the outcome writes.
TEST_F(DiskFullTest, TheReserveRefusesAcceptsBeforeTheDiskIsFullButLetsOutcomesThrough) {
  Open(/*min_free=*/12 << 20);
  std::vector<AcceptedMessage> accepted;
  absl::Status refused = FillUntilRefused(accepted, 20000);
  ASSERT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_NE(refused.message().find("reserve"), absl::string_view::npos) << refused;
  EXPECT_GT(accepted.size(), 10u);
  // Delivering frees space; these writes are not refused.
  size_t delivered = 0;
  for (;;) {
    auto due = spool_->TakeDue(1000, absl::Now() + absl::Seconds(1));
    if (due.empty()) break;
    for (const auto& d : due) {
      auto r = spool_->RecordOutcome(d, {.kind = DeliveryOutcome::Kind::kDelivered}).Wait();
      ASSERT_TRUE(r.ok()) << r.status();
    }
    delivered += due.size();
  }
  EXPECT_EQ(delivered, 2 * accepted.size());
  EXPECT_EQ(spool_->stats().queued, 0u);
  for (const auto& p : spool_->Audit().problems) ADD_FAILURE() << p;
}

}  // namespace
}  // namespace salvo::queue
