#include "queue/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
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
  absl::Status last_status;

 private:
  std::atomic<int>* completed_;
  bool fail_;
  bool space_;
};

TEST(GroupCommitter, GroupsConcurrentSubmissionsAndCompletesEachOnce) {
  std::atomic<int> completed{0};
  std::atomic<int> commits{0};
  std::atomic<size_t> largest{0};
  GroupCommitter committer({}, [&](GroupCommitter::Group& group) {
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
  GroupCommitter committer({.max_group_bytes = 250}, [&](GroupCommitter::Group& group) {
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
                           [&](GroupCommitter::Group& group) {
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

}  // namespace
}  // namespace salvo::queue
