// queue_crash_child <spool dir>: the process the crash test kills with
// SIGKILL. It accepts messages (from three threads) and delivers some of the
// due recipients (from a fourth), and prints a line for every acknowledged
// write, after the acknowledgement, in one write(2) each:
//   READY
//   A <message id> <recipient count> <recipient id>...   accepted
//   D <message id> <recipient id>                         delivered
// so the parent knows exactly what the spool promised before it died.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "queue/spool.h"
#include "tests/queue/crash_child_support.h"

namespace salvo::queue {
namespace {

using testing::Say;

void AcceptLoop(Spool& spool, int seed) {
  uint64_t state = 0x9e3779b97f4a7c15ULL * (seed + 1);
  for (int i = 0;; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    int n = 1 + static_cast<int>((state >> 33) % 6);
    std::vector<NewRecipient> rcpts;
    for (int r = 0; r < n; ++r) {
      rcpts.push_back({.address = fmt::format("r{}@d{}.example", r, i % 7),
                       .variables = {{"i", std::to_string(i)}}});
    }
    Message m{.envelope_from = "s@origin.example",
              .content = fmt::format("X-Count: {}\r\n\r\n{}", n, std::string(200 + n * 50, 'x'))};
    auto accepted = spool.AcceptMessage(std::move(m), std::move(rcpts)).Wait();
    if (!accepted.ok()) {
      std::fprintf(stderr, "accept failed: %s\n", accepted.status().ToString().c_str());
      _exit(2);
    }
    std::string line = fmt::format("A {} {}", accepted->id.ToString(), n);
    for (const RecipientId& id : accepted->recipients) {
      line += ' ';
      line += id.ToString();
    }
    Say(line);
  }
}

void DeliverLoop(Spool& spool) {
  for (int round = 0;; ++round) {
    auto due = spool.TakeDue(16, absl::Now() + absl::Seconds(1));
    if (due.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    for (size_t i = 0; i < due.size(); ++i) {
      bool deliver = (round + i) % 3 != 0;  // the rest are deferred, then stay
      DeliveryOutcome outcome{
          .kind = deliver ? DeliveryOutcome::Kind::kDelivered : DeliveryOutcome::Kind::kDeferred,
          .response = {.code = deliver ? 250 : 451, .text = deliver ? "ok" : "later"}};
      auto r = spool.RecordOutcome(due[i], std::move(outcome)).Wait();
      if (!r.ok()) {
        std::fprintf(stderr, "outcome failed: %s\n", r.status().ToString().c_str());
        _exit(2);
      }
      if (deliver) Say(fmt::format("D {} {}", due[i].content.ToString(), due[i].id.ToString()));
    }
  }
}

}  // namespace
}  // namespace salvo::queue

int main(int argc, char** argv) {
  using namespace salvo::queue;
  std::unique_ptr<Spool> spool = salvo::queue::testing::OpenCrashSpool(argc, argv);
  Say("READY");
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back([&, t] { AcceptLoop(*spool, t + getpid()); });
  threads.emplace_back([&] { DeliverLoop(*spool); });
  for (auto& t : threads) t.join();  // never: the parent kills us
  return 0;
}
