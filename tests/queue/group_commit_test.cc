#include "queue/group_commit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace salvo::queue {
namespace {

// A request that records what the committer did with it.
class Probe final : public WriteRequest {
 public:
  explicit Probe(std::atomic<int>* completed, bool fail_prepare = false, bool needs_space = false)
      : completed_(completed), fail_(fail_prepare), space_(needs_space) {}
  absl::Status Prepare(BatchWriter&) override {
    return fail_ ? absl::InvalidArgumentError("bad") : absl::OkStatus();
  }
  void Apply() override {}
  void Undo() override {}
  void Complete(absl::Status status) override {
    last_status = status;
    completed_->fetch_add(1);
  }
  bool needs_space() const override { return space_; }
  size_t size_hint() const override { return 100; }
  bool sync_may_wait() const override { return may_wait; }
  absl::Status last_status;
  bool may_wait = false;

 private:
  std::atomic<int>* completed_;
  bool fail_;
  bool space_;
};

TEST(GroupCommitter, GroupsConcurrentSubmissionsAndCompletesEachOnce) {
  std::atomic<int> completed{0};
  std::atomic<int> commits{0};
  std::atomic<size_t> largest{0};
  GroupCommitter committer({}, [&](GroupCommitter::Group& group, bool) {
    commits.fetch_add(1);
    largest = std::max(largest.load(), group.size());
    std::this_thread::sleep_for(std::chrono::microseconds(300));  // an fsync
    for (auto& r : group) r->Complete(absl::OkStatus());
  });
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) committer.Submit(std::make_unique<Probe>(&completed));
    });
  }
  for (auto& t : threads) t.join();
  committer.Stop();  // drains
  EXPECT_EQ(completed.load(), kThreads * kEach);
  EXPECT_EQ(committer.requests(), uint64_t{kThreads * kEach});
  EXPECT_EQ(committer.groups(), uint64_t(commits.load()));
  EXPECT_LT(commits.load(), kThreads * kEach);  // requests shared commits
  EXPECT_GT(largest.load(), 1u);
}

TEST(GroupCommitter, CutsGroupsAtTheByteLimit) {
  std::atomic<int> completed{0};
  std::vector<size_t> sizes;
  std::mutex mu;
  std::atomic<bool> release{false};
  GroupCommitter committer({.max_group_bytes = 250}, [&](GroupCommitter::Group& group, bool) {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> lock(mu);
    sizes.push_back(group.size());
    for (auto& r : group) r->Complete(absl::OkStatus());
  });
  for (int i = 0; i < 10; ++i) committer.Submit(std::make_unique<Probe>(&completed));
  release = true;
  committer.Stop();
  EXPECT_EQ(completed.load(), 10);
  for (size_t n : sizes) EXPECT_LE(n, 3u);  // 3 x 100 bytes reaches 250
}

TEST(GroupCommitter, RefusesWhenSaturatedOrStopped) {
  std::atomic<int> completed{0};
  std::atomic<bool> release{false};
  GroupCommitter committer({.max_group_bytes = 100, .max_pending_bytes = 300},
                           [&](GroupCommitter::Group& group, bool) {
                             while (!release.load()) {
                               std::this_thread::sleep_for(std::chrono::milliseconds(1));
                             }
                             for (auto& r : group) r->Complete(absl::OkStatus());
                           });
  for (int i = 0; i < 10; ++i) {
    committer.Submit(std::make_unique<Probe>(&completed, false, /*needs_space=*/true));
  }
  // Some were refused at once, as Unavailable; the first ones are waiting.
  int refused = completed.load();
  EXPECT_GE(refused, 5);
  release = true;
  committer.Stop();
  EXPECT_EQ(completed.load(), 10);
  std::atomic<int> late{0};
  committer.Submit(std::make_unique<Probe>(&late));  // after Stop: refused at once
  EXPECT_EQ(late.load(), 1);
}

// What the committer asked of the log: one entry per group ("sync" or
// "nosync") and one per idle fsync ("SYNC").
struct LogCalls {
  std::mutex mu;
  std::vector<std::string> calls;
  void Add(std::string c) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(std::move(c));
  }
  std::vector<std::string> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return calls;
  }
};

std::unique_ptr<Probe> Outcome(std::atomic<int>* completed) {
  auto p = std::make_unique<Probe>(completed);
  p->may_wait = true;
  return p;
}

void WaitFor(std::atomic<int>& n, int want) {
  for (int i = 0; i < 5000 && n.load() < want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(n.load(), want);
}

TEST(GroupCommitter, WritesOutcomesUnsyncedAndFsyncsThemWhenIdle) {
  std::atomic<int> completed{0};
  LogCalls log;
  GroupCommitter committer(
      {.max_sync_delay = std::chrono::milliseconds(30)},
      [&](GroupCommitter::Group& group, bool sync) {
        log.Add(sync ? "sync" : "nosync");
        for (auto& r : group) r->Complete(absl::OkStatus());
      },
      [&] { log.Add("SYNC"); });
  committer.Submit(Outcome(&completed));
  WaitFor(completed, 1);  // done before any fsync
  EXPECT_EQ(log.Get(), std::vector<std::string>{"nosync"});
  // Nothing else comes: the writer fsyncs on its own within the delay.
  for (int i = 0; i < 5000 && log.Get().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(log.Get(), (std::vector<std::string>{"nosync", "SYNC"}));
  // A request that may not wait (an accept) is fsynced with its group.
  committer.Submit(std::make_unique<Probe>(&completed));
  WaitFor(completed, 2);
  committer.Submit(Outcome(&completed));
  WaitFor(completed, 3);
  committer.Stop();  // fsyncs the last outcome before it returns
  EXPECT_EQ(log.Get(), (std::vector<std::string>{"nosync", "SYNC", "sync", "nosync", "SYNC"}));
  EXPECT_EQ(committer.unsynced_groups(), 2u);
}

TEST(GroupCommitter, AStreamOfOutcomesIsStillFsyncedWithinTheDelay) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kDelay = std::chrono::milliseconds(20);
  std::atomic<int> completed{0};
  std::mutex mu;
  std::vector<std::pair<bool, Clock::time_point>> calls;  // (fsynced, when)
  auto add = [&](bool fsynced) {
    std::lock_guard<std::mutex> lock(mu);
    calls.emplace_back(fsynced, Clock::now());
  };
  GroupCommitter committer(
      {.max_sync_delay = kDelay},
      [&](GroupCommitter::Group& group, bool sync) {
        add(sync);
        for (auto& r : group) r->Complete(absl::OkStatus());
      },
      [&] { add(true); });
  // An outcome every millisecond for 300 ms: the writer does not fall idle
  // for 20 ms, so groups themselves must be fsynced now and then.
  int sent = 0;
  for (auto start = Clock::now(); Clock::now() - start < std::chrono::milliseconds(300); ++sent) {
    committer.Submit(Outcome(&completed));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  committer.Stop();
  EXPECT_EQ(completed.load(), sent);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(calls.empty());
  EXPECT_FALSE(calls.front().first) << "the first outcome waits for its fsync";
  // Every unsynced write is fsynced within the delay (plus generous slack
  // for a loaded machine's scheduling).
  std::optional<Clock::time_point> oldest_unsynced;
  int fsyncs = 0;
  for (const auto& [fsynced, at] : calls) {
    if (!fsynced) {
      if (!oldest_unsynced) oldest_unsynced = at;
      continue;
    }
    ++fsyncs;
    if (oldest_unsynced) {
      EXPECT_LE(at - *oldest_unsynced, kDelay + std::chrono::milliseconds(150));
    }
    oldest_unsynced.reset();
  }
  EXPECT_FALSE(oldest_unsynced.has_value()) << "nothing is left unsynced at the end";
  EXPECT_GE(fsyncs, 2);
}

TEST(GroupCommitter, ZeroDelayFsyncsEveryGroup) {
  std::atomic<int> completed{0};
  LogCalls log;
  GroupCommitter committer(
      {},
      [&](GroupCommitter::Group& group, bool sync) {
        log.Add(sync ? "sync" : "nosync");
        for (auto& r : group) r->Complete(absl::OkStatus());
      },
      [&] { log.Add("SYNC"); });
  committer.Submit(Outcome(&completed));
  WaitFor(completed, 1);
  committer.Stop();
  EXPECT_EQ(log.Get(), std::vector<std::string>{"sync"});
}

TEST(GroupCommitter, OutcomesLingerForCompanyButNotPastAnAccept) {
  std::atomic<int> completed{0};
  std::mutex mu;
  std::vector<size_t> sizes;
  GroupCommitter committer(
      {.max_sync_delay = std::chrono::seconds(10), .max_linger = std::chrono::seconds(10)},
      [&](GroupCommitter::Group& group, bool) {
        {
          std::lock_guard<std::mutex> lock(mu);
          sizes.push_back(group.size());
        }
        for (auto& r : group) r->Complete(absl::OkStatus());
      },
      [] {});
  for (int i = 0; i < 5; ++i) committer.Submit(Outcome(&completed));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(completed.load(), 0) << "outcomes alone wait (up to max_linger) for more";
  committer.Submit(std::make_unique<Probe>(&completed));  // an accept: written at once
  WaitFor(completed, 6);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(sizes, std::vector<size_t>{6}) << "one group: the outcomes went with the accept";
  }
  committer.Submit(Outcome(&completed));
  committer.Stop();  // stopping ends the linger at once
  EXPECT_EQ(completed.load(), 7);
}

TEST(GroupCommitter, ALingeringOutcomeIsWrittenAfterMaxLinger) {
  std::atomic<int> completed{0};
  GroupCommitter committer(
      {.max_sync_delay = std::chrono::seconds(10), .max_linger = std::chrono::milliseconds(5)},
      [&](GroupCommitter::Group& group, bool) {
        for (auto& r : group) r->Complete(absl::OkStatus());
      },
      [] {});
  committer.Submit(Outcome(&completed));
  WaitFor(completed, 1);  // within WaitFor's 5 s: the linger is 5 ms
  committer.Stop();
}

}  // namespace
}  // namespace salvo::queue
