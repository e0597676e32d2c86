// The coroutine face of the spool: awaited on a real Ring, the caller resumes
// on its own ring thread once the write is durable.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "spool_fixture.h"

namespace salvo::queue {
namespace {

using testing::Recipients;
using testing::SampleMessage;
using testing::SpoolTest;

void RunOnRing(Task<void> main) {
  auto ring = Ring::Create();
  ASSERT_TRUE(ring.ok()) << ring.status();
  (*ring)->Run(std::move(main));
}

TEST_F(SpoolTest, CoroutinesResumeOnTheirRingOnceDurable) {
  Open();
  bool ok = false;
  std::thread::id ring_thread, resumed_on;
  RunOnRing([](Spool* spool, bool* ok, std::thread::id* ring_thread,
               std::thread::id* resumed_on) -> Task<void> {
    *ring_thread = std::this_thread::get_id();
    auto m = co_await spool->AcceptMessage(SampleMessage(), Recipients(2));
    *resumed_on = std::this_thread::get_id();
    if (!m.ok()) co_return;
    auto due = spool->TakeDue(10, absl::Now() + absl::Seconds(1));
    if (due.size() != 2) co_return;
    DeliveryOutcome delivered{.kind = DeliveryOutcome::Kind::kDelivered, .response = {.code = 250}};
    auto outcome = co_await spool->RecordOutcome(due[0], std::move(delivered));
    auto rcpt = co_await spool->ReadRecipient(m->id, due[1].id);
    *ok = outcome.ok() && rcpt.ok() && rcpt->address == "user1@example.com";
  }(spool_.get(), &ok, &ring_thread, &resumed_on));
  EXPECT_TRUE(ok);
  EXPECT_EQ(ring_thread, resumed_on);
}

// At namespace scope: g++ 12 miscompiles a function-local constexpr read
// inside a nested coroutine lambda (the loop below then ran zero times).
constexpr int kWriters = 64, kEach = 5;

TEST_F(SpoolTest, ManyCoroutinesOnOneRingShareGroupCommits) {
  Open();
  int done = 0, failed = 0;
  RunOnRing([](Spool* spool, int* done, int* failed) -> Task<void> {
    Ring* ring = Ring::Current();
    for (int w = 0; w < kWriters; ++w) {
      ring->gate().Spawn([](Spool* spool, int* done, int* failed) -> Task<void> {
        for (int i = 0; i < kEach; ++i) {
          auto r = co_await spool->AcceptMessage(SampleMessage(), Recipients(1));
          if (r.ok()) {
            ++*done;
          } else {
            ++*failed;
          }
        }
      }(spool, done, failed));
    }
    co_return;
  }(spool_.get(), &done, &failed));
  EXPECT_EQ(done, kWriters * kEach);
  EXPECT_EQ(failed, 0);
  SpoolStats s = spool_->stats();
  EXPECT_EQ(s.queued, size_t{kWriters * kEach});
  EXPECT_LT(s.groups, s.requests / 4);  // 64 waiting writers: most fsyncs carry many
}

// The spool's writer thread is held (a Then() callback that waits on a latch)
// while a coroutine awaits an accept queued behind it: the ring must go on
// running its other coroutines (here: 20 timer ticks, then the latch is
// opened from the ring), and the awaiting coroutine resumes only after its
// write, on its ring.
struct Latch {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return open; });
  }
};

TEST_F(SpoolTest, TheRingRunsOnWhileItsCoroutineWaitsForTheWriter) {
  Open();
  Latch latch;
  std::atomic<bool> held{false};
  spool_->AcceptMessage(SampleMessage(), Recipients(1)).Then([&](auto r) {
    held = true;
    latch.Wait();  // blocks the writer thread: the test's doing, not the spool's
    EXPECT_TRUE(r.ok());
  });
  for (int i = 0; i < 1000 && !held; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(held);
  int ticks = 0, ticks_when_resumed = -1;
  bool accepted = false;
  std::thread::id ring_thread, resumed_on;
  RunOnRing([](Spool* spool, Latch* latch, int* ticks, int* ticks_when_resumed, bool* accepted,
               std::thread::id* ring_thread, std::thread::id* resumed_on) -> Task<void> {
    *ring_thread = std::this_thread::get_id();
    Ring::Current()->gate().Spawn([](Latch* latch, int* ticks) -> Task<void> {
      for (int i = 0; i < 20; ++i) {
        co_await SleepFor(std::chrono::milliseconds(1));
        ++*ticks;
      }
      latch->Open();
    }(latch, ticks));
    auto r = co_await spool->AcceptMessage(SampleMessage(), Recipients(1));
    *ticks_when_resumed = *ticks;
    *resumed_on = std::this_thread::get_id();
    *accepted = r.ok();
  }(spool_.get(), &latch, &ticks, &ticks_when_resumed, &accepted, &ring_thread, &resumed_on));
  EXPECT_TRUE(accepted);
  EXPECT_EQ(ticks_when_resumed, 20);  // the ring ticked all along; the write came after
  EXPECT_EQ(ring_thread, resumed_on);
  EXPECT_EQ(spool_->stats().queued, 2u);
}

TEST_F(SpoolTest, AnErrorBeforeTheSpoolResumesTheCoroutineToo) {
  Open();
  absl::Status status;
  RunOnRing([](Spool* spool, absl::Status* status) -> Task<void> {
    auto r = co_await spool->AcceptMessage(SampleMessage(), {});  // ready at once
    auto c = co_await spool->CloseCampaign(NewId<ContentId>());   // fails in the writer
    *status = r.ok() ? c : r.status();
  }(spool_.get(), &status));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

}  // namespace
}  // namespace salvo::queue
