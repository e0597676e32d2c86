// DkimSigningPool: signing off the ring, resuming on the awaiting ring's
// thread; blocking Wait() from plain threads; the destructor finishing queued
// work. Signatures checked by python3-dkim.
#include "engine/dkim/signing_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "engine/loop/gate.h"
#include "engine/loop/task.h"
#include "tests/dkim/test_keys.h"
#include "tests/dkim/verifier.h"
#include "tests/engine/ring_fixture.h"

namespace salvo::dkim {
namespace {

using testing::Ed25519Key;
using testing::Records;
using testing::RsaKey;
using testing::Spec;

std::shared_ptr<const DkimSigner> DualSigner() {
  DkimSignerOptions o;
  o.keys.push_back(Spec(RsaKey()));
  o.keys.push_back(Spec(Ed25519Key()));
  auto signer = DkimSigner::Create(std::move(o));
  EXPECT_TRUE(signer.ok()) << signer.status();
  return signer.ok() ? std::shared_ptr<const DkimSigner>(std::move(*signer)) : nullptr;
}

std::string Message(int i) {
  return "From: news@example.com\r\nTo: r" + std::to_string(i) +
         "@example.net\r\nSubject: pool\r\n\r\nbody " + std::to_string(i) + "\r\n";
}

Task<void> SignOne(DkimSigningPool& pool, int i, std::shared_ptr<const DkimBodyHash> bh,
                   std::thread::id ring_thread, std::vector<std::string>& out, int& done) {
  std::string message = Message(i);
  absl::StatusOr<std::string> sig = co_await pool.Sign(message, bh);
  EXPECT_EQ(std::this_thread::get_id(), ring_thread) << "resumed off the ring";
  EXPECT_TRUE(sig.ok()) << sig.status();
  if (sig.ok()) out[i] = *sig + message;
  ++done;
}

TEST(DkimSigningPoolTest, SignsOffRingAndResumesOnRing) {
  auto signer = DualSigner();
  ASSERT_NE(signer, nullptr);
  DkimSigningPool pool(signer, 2);
  EXPECT_EQ(pool.threads(), 2u);
  constexpr int kMessages = 24;
  std::vector<std::string> signed_messages(kMessages);
  int done = 0;
  salvo::testing::RunOnRing([&]() -> Task<void> {
    Ring* ring = Ring::Current();
    std::thread::id ring_thread = std::this_thread::get_id();
    for (int i = 0; i < kMessages; ++i) {
      ring->gate().Spawn(SignOne(pool, i, nullptr, ring_thread, signed_messages, done));
    }
    co_return;
  }());
  EXPECT_EQ(done, kMessages);
  auto results = testing::VerifyAll(signed_messages, Records({&RsaKey(), &Ed25519Key()}));
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(results[i], (std::vector<bool>{true, true})) << i;
  }
}

TEST(DkimSigningPoolTest, SharedBodyHashAndBlockingWait) {
  auto signer = DualSigner();
  ASSERT_NE(signer, nullptr);
  auto bh = std::make_shared<const DkimBodyHash>(signer->HashBody("body 0\r\n"));
  std::vector<std::string> messages(4);
  {
    DkimSigningPool pool(signer, 1);
    std::vector<std::thread> callers;
    for (int i = 0; i < 4; ++i) {
      callers.emplace_back([&, i] {
        std::string m = "From: news@example.com\r\nTo: w" + std::to_string(i) +
                        "@example.net\r\n\r\nbody 0\r\n";
        auto sig = pool.Sign(m, bh).Wait();
        EXPECT_TRUE(sig.ok()) << sig.status();
        if (sig.ok()) messages[i] = *sig + m;
      });
    }
    for (std::thread& t : callers) t.join();
  }
  auto results = testing::VerifyAll(messages, Records({&RsaKey(), &Ed25519Key()}));
  for (const auto& r : results) EXPECT_EQ(r, (std::vector<bool>{true, true}));
}

TEST(DkimSigningPoolTest, SetSignerSwitchesKeysForLaterOps) {
  DkimSignerOptions only_ed;
  only_ed.keys.push_back(Spec(Ed25519Key()));
  std::shared_ptr<const DkimSigner> ed = std::move(*DkimSigner::Create(std::move(only_ed)));
  DkimSigningPool pool(DualSigner(), 1);
  std::string m = Message(1);
  auto before = pool.Sign(m);  // bound to the dual signer when created
  pool.SetSigner(ed);
  auto after = pool.Sign(m);
  auto dual_sig = std::move(before).Wait();
  auto ed_sig = std::move(after).Wait();
  ASSERT_TRUE(dual_sig.ok() && ed_sig.ok());
  auto results =
      testing::VerifyAll({*dual_sig + m, *ed_sig + m}, Records({&RsaKey(), &Ed25519Key()}));
  EXPECT_EQ(results[0], (std::vector<bool>{true, true}));
  EXPECT_EQ(results[1], (std::vector<bool>{true}));
}

// queued_work(): what the rings consult before batching their wake-ups.
// With one worker and eight callers, about seven rsa2048 signatures wait
// behind the one running, each worth at least ~0.1 ms on any machine here.
TEST(DkimSigningPoolTest, QueuedWorkCountsTheJobsWaitingBehindTheWorkers) {
  DkimSignerOptions only_rsa;
  only_rsa.keys.push_back(Spec(RsaKey()));
  std::shared_ptr<const DkimSigner> rsa = std::move(*DkimSigner::Create(std::move(only_rsa)));
  DkimSigningPool pool(rsa, 1);
  EXPECT_EQ(pool.queued_work(), std::chrono::nanoseconds::zero());
  std::atomic<int> callers_done{0};
  std::atomic<int> signed_ok{0};
  constexpr int kCallers = 8, kEach = 20;
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int i = 0; i < kEach; ++i) {
        std::string m = Message(c * kEach + i);
        if (pool.Sign(m).Wait().ok()) ++signed_ok;
      }
      ++callers_done;
    });
  }
  std::chrono::nanoseconds most{0};
  while (callers_done.load() < kCallers) {
    most = std::max(most, pool.queued_work());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(signed_ok.load(), kCallers * kEach);
  EXPECT_GE(most, std::chrono::microseconds(100));
  EXPECT_EQ(pool.queued_work(), std::chrono::nanoseconds::zero());
}

TEST(DkimSigningPoolTest, ErrorsComeBackAsValues) {
  auto signer = DualSigner();
  ASSERT_NE(signer, nullptr);
  DkimSigningPool pool(signer, 1);
  std::string unknown = "From: a@unknown.example\r\n\r\nb\r\n";
  EXPECT_EQ(pool.Sign(unknown).Wait().status().code(), absl::StatusCode::kNotFound);
  absl::Status on_ring;
  salvo::testing::RunOnRing([&]() -> Task<void> {
    auto sig = co_await pool.Sign(unknown);
    on_ring = sig.status();
  }());
  EXPECT_EQ(on_ring.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace salvo::dkim
