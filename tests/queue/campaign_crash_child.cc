// queue_campaign_crash_child <spool dir>: killed with SIGKILL by
// campaign_crash_test. It creates a campaign, adds recipients to it in
// batches (one thread), records outcomes of every kind for the due ones
// (another thread: delivered, deferred, failed, suppressed), and pauses,
// resumes and finally cancels now and then (a third). It prints a line after
// each acknowledged write, in one write(2) each:
//   READY
//   C <campaign id>              created
//   A <campaign id> <n>          n recipients added
//   O <campaign id> <kind>       an outcome recorded
//   D <campaign id> <recipient>  ... and it was `delivered` (its attribution
//                                record is durable now)
//   F <campaign id> <recipient>  a bounce recorded for a delivered one
//                                (every other one), RecordCampaignFeedback
// so the parent knows the least that each campaign's counters must show.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
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

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s failed: %s\n", what, s.ToString().c_str());
  _exit(2);
}

void AddLoop(Spool& spool, CampaignId id) {
  for (int i = 0;; ++i) {
    int n = 1 + i % 7;
    std::vector<NewRecipient> rcpts;
    for (int r = 0; r < n; ++r) {
      rcpts.push_back({.address = fmt::format("r{}.{}@d{}.example", i, r, (i + r) % 5)});
    }
    auto added = spool.AddCampaignRecipients(id, std::move(rcpts)).Wait();
    if (!added.ok() && absl::IsFailedPrecondition(added.status())) return;  // cancelled
    Check(added.status(), "add");
    Say(fmt::format("A {} {}", id.ToString(), n));
  }
}

void DeliverLoop(Spool& spool) {
  using K = DeliveryOutcome::Kind;
  for (int round = 0;; ++round) {
    auto due = spool.TakeDue(16, absl::Now() + absl::Minutes(30));
    if (due.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    for (size_t i = 0; i < due.size(); ++i) {
      int pick = static_cast<int>((round + i) % 4);
      DeliveryOutcome o{.kind = pick == 0   ? K::kDelivered
                                : pick == 1 ? K::kDeferred
                                            : K::kFailed,
                        .response = {.code = pick == 0   ? 250
                                             : pick == 1 ? 451
                                                         : 550}};
      if (pick == 3) o.reason = "suppressed";
      auto r = spool.RecordOutcome(due[i], std::move(o)).Wait();
      Check(r.status(), "outcome");
      Say(fmt::format("O {} {}", due[i].content.ToString(), pick));
      if (pick != 0) continue;
      Say(fmt::format("D {} {}", due[i].content.ToString(), due[i].id.ToString()));
      if ((round / 4) % 2 != 0) continue;
      CampaignFeedback bounce{.recipient = due[i].id,
                              .kind = FeedbackKind::kBounced,
                              .category = "bad-mailbox",
                              .address = "x@d.example"};
      Check(spool.RecordCampaignFeedback(std::move(bounce)).Wait().status(), "feedback");
      Say(fmt::format("F {} {}", due[i].content.ToString(), due[i].id.ToString()));
    }
  }
}

void ControlLoop(Spool& spool, CampaignId id) {
  for (int i = 0;; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(7));
    CampaignControl c = i % 2 == 0 ? CampaignControl::kPause : CampaignControl::kResume;
    if (i == 9) c = CampaignControl::kCancel;
    Check(spool.ControlCampaign(id, c).Wait().status(), "control");
    if (c == CampaignControl::kCancel) return;
  }
}

}  // namespace
}  // namespace salvo::queue

int main(int argc, char** argv) {
  using namespace salvo::queue;
  spdlog::set_level(spdlog::level::warn);  // before the spool opens: its info logs are noise here
  std::unique_ptr<Spool> spool = salvo::queue::testing::OpenCrashSpool(argc, argv);
  Say("READY");
  Campaign c;
  c.settings.name = "crash";
  c.message_template.text = std::string("x");  // not = "x": g++ 12 -Wrestrict false positive
  auto id = spool->CreateCampaign(std::move(c)).Wait();
  Check(id.status(), "create");
  Say(fmt::format("C {}", id->ToString()));
  std::vector<std::thread> threads;
  threads.emplace_back([&] { AddLoop(*spool, *id); });
  threads.emplace_back([&] { DeliverLoop(*spool); });
  threads.emplace_back([&] { ControlLoop(*spool, *id); });
  for (auto& t : threads) t.join();  // never: the parent kills us
  return 0;
}
