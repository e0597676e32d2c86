// Shards talk only through Ring::Post(): work posted from shard 0 runs on
// shard 1's thread, in the order it was posted, and answers come back the
// same way; a coroutine can hop to another shard, do I/O on that shard's
// ring, and hop home.
#include <atomic>
#include <coroutine>
#include <future>
#include <thread>

#include "engine/loop/ops.h"
#include "engine/loop/shard.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "gtest/gtest.h"
#include "tests/net/net_fixture.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;

// Resumes the awaiting coroutine on `target`'s thread.
struct HopTo {
  Ring& target;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    target.Post([h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};

// Each shard's entry: records its thread and waits until stop is requested.
class StopWaiter {
 public:
  explicit StopWaiter(Ring& ring) : ring_(ring) {}
  bool await_ready() const noexcept { return ring_.stop_requested(); }
  void await_suspend(std::coroutine_handle<> h) {
    callback_.emplace(ring_, [h] { h.resume(); });
  }
  void await_resume() const noexcept {}

 private:
  Ring& ring_;
  std::optional<Ring::StopCallback> callback_;
};

struct TwoShards {
  std::unique_ptr<ShardSet> set;
  std::thread::id thread[2];
};

TwoShards StartTwoShards() {
  TwoShards s;
  std::promise<void> ready[2];
  auto set = ShardSet::Start(2, [&s, &ready](Ring& ring, int index) -> Task<void> {
    return [](Ring& ring, std::thread::id* tid, std::promise<void>* ready) -> Task<void> {
      *tid = std::this_thread::get_id();
      ready->set_value();
      co_await StopWaiter(ring);
    }(ring, &s.thread[index], &ready[index]);
  });
  EXPECT_TRUE(set.ok()) << set.status();
  if (!set.ok()) return s;
  ready[0].get_future().wait();
  ready[1].get_future().wait();
  s.set = std::move(*set);
  return s;
}

TEST(CrossShard, PostPingPongBetweenTwoShards) {
  TwoShards shards = StartTwoShards();
  ASSERT_NE(shards.set, nullptr);
  Ring& zero = shards.set->ring(0);
  Ring& one = shards.set->ring(1);
  constexpr int kRounds = 1000;
  // Each side's counter is touched only by its own shard.
  int pings_seen_on_one = 0;
  int pongs_seen_on_zero = 0;
  std::atomic<int> wrong_thread{0};
  std::promise<int> finished;
  std::function<void(int)> ping;
  ping = [&](int round) {
    if (std::this_thread::get_id() != shards.thread[0]) wrong_thread++;
    if (round == kRounds) {
      finished.set_value(pongs_seen_on_zero);
      return;
    }
    one.Post([&, round] {
      if (std::this_thread::get_id() != shards.thread[1]) wrong_thread++;
      ++pings_seen_on_one;
      zero.Post([&, round] {
        ++pongs_seen_on_zero;
        ping(round + 1);
      });
    });
  };
  zero.Post([&] { ping(0); });
  auto result = finished.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(result.get(), kRounds);
  shards.set->Stop();
  shards.set->Join();
  EXPECT_EQ(pings_seen_on_one, kRounds);
  EXPECT_EQ(wrong_thread.load(), 0);
}

TEST(CrossShard, PostsFromOneShardArriveInOrder) {
  TwoShards shards = StartTwoShards();
  ASSERT_NE(shards.set, nullptr);
  Ring& one = shards.set->ring(1);
  constexpr int kPosts = 20000;
  int next_expected = 0;  // touched only on shard 1
  int out_of_order = 0;
  std::promise<void> done;
  shards.set->ring(0).Post([&] {
    for (int i = 0; i < kPosts; ++i) {
      one.Post([&, i] {
        if (i != next_expected) ++out_of_order;
        next_expected = i + 1;
        if (i == kPosts - 1) done.set_value();
      });
    }
  });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  shards.set->Stop();
  shards.set->Join();
  EXPECT_EQ(next_expected, kPosts);
  EXPECT_EQ(out_of_order, 0);
}

// A session on shard 0 hands a job to shard 1 (which does I/O on its own
// ring: a loopback round trip) and resumes at home with the answer.
TEST(CrossShard, CoroutineHopsToTheOtherShardForIoAndBack) {
  TwoShards shards = StartTwoShards();
  ASSERT_NE(shards.set, nullptr);
  Ring& zero = shards.set->ring(0);
  Ring& one = shards.set->ring(1);
  constexpr int kHops = 50;
  int hops_done = 0;
  int wrong_thread = 0;
  std::string last_echo;
  std::promise<void> done;
  auto session = [&]() -> Task<void> {
    for (int i = 0; i < kHops; ++i) {
      co_await HopTo{one};
      if (std::this_thread::get_id() != shards.thread[1] || Ring::Current() != &one) {
        ++wrong_thread;
      }
      auto pair = co_await testing::ConnectedPair();
      if (pair.ok()) {
        std::string line = "hop " + std::to_string(i) + "\r\n";
        (void)co_await testing::SendAll(pair->client, line, After(5s));
        LineReader reader(&pair->server, 100);
        auto got = co_await reader.ReadLine(After(5s));
        if (got.ok()) last_echo = std::string(*got);
      }
      co_await HopTo{zero};
      if (std::this_thread::get_id() != shards.thread[0] || Ring::Current() != &zero) {
        ++wrong_thread;
      }
      ++hops_done;
    }
    done.set_value();
  };
  // The session belongs to shard 0's gate and ends there.
  zero.Post([&] { zero.gate().Spawn(testing::Invoke(session)); });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  shards.set->Stop();
  shards.set->Join();
  EXPECT_EQ(hops_done, kHops);
  EXPECT_EQ(wrong_thread, 0);
  EXPECT_EQ(last_echo, "hop 49");
}

}  // namespace
}  // namespace salvo
