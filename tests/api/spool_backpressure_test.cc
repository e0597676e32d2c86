// Back-pressure: when the spool's writer cannot keep up (here RocksDB's own
// write stall, with flushes paused as a stalled disk would leave them), the
// API answers 503 with Retry-After instead of queueing without bound, and
// every request it answered 202 is in the spool once the disk moves again.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

using namespace std::chrono_literals;

class SpoolBackpressureTest : public SubmissionTest {
 protected:
  queue::SpoolOptions Options() override {
    queue::SpoolOptions o = SubmissionTest::Options();
    o.memtable_bytes = 1 << 20;       // stalls after a few MiB with flushes paused
    o.max_pending_bytes = 256 << 10;  // about four of the 64 KB requests below
    return o;
  }
};

// A 64 KB message body that does not compress.
std::string Filler(uint64_t seed) {
  std::string body;
  uint64_t x = seed * 2654435761u + 88172645463325252ULL;
  while (body.size() < (64 << 10)) {
    for (int i = 0; i < 76; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      body.push_back(static_cast<char>('A' + x % 26));
    }
    body += "\r\n";
  }
  return body;
}

struct Answer {
  int status = 0;
  bool retry_after = false;
  nlohmann::json json;
};

Answer Parse(const std::string& raw) {
  Answer a;
  if (raw.size() > 12 && raw.starts_with("HTTP/1.1 ")) a.status = std::atoi(raw.c_str() + 9);
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return a;
  a.retry_after = raw.substr(0, head_end).find("\r\nRetry-After: 1") != std::string::npos;
  a.json = nlohmann::json::parse(raw.substr(head_end + 4), nullptr, false);
  return a;
}

std::string PostMessage(int n) {
  nlohmann::json body = {{"from", "app@origin.example"},
                         {"to", {fmt::format("rcpt{}@example.com", n)}},
                         {"raw", "Subject: fill\r\n\r\n" + Filler(n)}};
  std::string json = body.dump();
  return fmt::format(
      "POST /v1/messages HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n"
      "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
      kSubmissionToken, json.size(), json);
}

TEST_F(SpoolBackpressureTest, AStalledWriterAnswers503AndKeepsEveryAcceptedMessage) {
  ASSERT_TRUE(spool_->PauseBackgroundWork().ok());
  constexpr int kClients = 12;
  constexpr int kPerClient = 400;  // bounded: 12 x 400 x 64 KB at most
  std::atomic<bool> saw_503{false};
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<std::string> accepted_ids;  // guarded by mu
  std::vector<std::string> problems;      // guarded by mu
  int refused = 0;                        // guarded by mu

  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      RawClient client(server_->port());
      if (!client.connected()) {
        std::lock_guard<std::mutex> lock(mu);
        problems.push_back("cannot connect");
        return;
      }
      for (int i = 0; i < kPerClient && !saw_503.load(); ++i) {
        if (!client.Send(PostMessage(next++))) break;
        Answer a = Parse(client.ReadResponses(1, 60s));
        std::lock_guard<std::mutex> lock(mu);
        if (a.status == 202 && a.json.is_object()) {
          accepted_ids.push_back(a.json.value("id", ""));
        } else if (a.status == 503) {
          ++refused;
          if (!a.retry_after) problems.push_back("503 without Retry-After");
          if (!a.json.is_object() || a.json["error"].value("code", "") != "unavailable") {
            problems.push_back("503 without error code unavailable: " + a.json.dump());
          }
          saw_503 = true;
        } else {
          problems.push_back(fmt::format("unexpected answer {}: {}", a.status, a.json.dump()));
          break;
        }
      }
    });
  }
  auto give_up = std::chrono::steady_clock::now() + 60s;
  while (!saw_503 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(10ms);
  // The clients still waiting on the stalled writer get their 202 now.
  absl::Status resumed = spool_->ContinueBackgroundWork();
  for (auto& t : clients) t.join();
  ASSERT_TRUE(resumed.ok()) << resumed;

  for (const auto& p : problems) ADD_FAILURE() << p;
  EXPECT_TRUE(saw_503) << "no 503 after " << next << " requests";
  EXPECT_GT(refused, 0);
  EXPECT_FALSE(accepted_ids.empty());
  for (const auto& id : accepted_ids) {
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(ListRecipients(id).size(), 1u) << id;
  }
  EXPECT_EQ(spool_->stats().queued, accepted_ids.size());
  // Writes flow again once the disk does.
  ApiAnswer after = PostJson(
      "/v1/messages",
      {{"from", "app@origin.example"}, {"to", {"late@example.com"}}, {"text", "after the stall"}});
  EXPECT_EQ(after.status, 202) << after.body;
}

}  // namespace
}  // namespace salvo::testing
