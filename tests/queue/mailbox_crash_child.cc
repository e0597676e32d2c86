// queue_mailbox_crash_child <spool dir>: the process the mailbox crash test
// kills with SIGKILL. Three threads file bounces (Deliver into INBOX and a
// category folder), mark some \Seen and expunge some category copies, and
// print a line for every acknowledged change, after the acknowledgement, in
// one write(2) each:
//   READY
//   A <inbox uid> <category> <category uid> <thread> <n>   delivered
//   S <inbox uid>                                           \Seen stored
//   P <category> <category uid>                             about to be expunged
//   E <category> <category uid>                             expunged
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "queue/mailbox.h"
#include "tests/queue/crash_child_support.h"

namespace salvo::queue {
namespace {

using testing::Say;

// Keep in sync with mailbox_crash_test.cc.
std::string Content(int thread, int n) {
  return "Subject: bounce " + std::to_string(thread) + "/" + std::to_string(n) + "\r\n\r\n" +
         std::string(100 + (n * 37 + thread) % 3000, 'a' + (n % 26)) + "\r\n";
}

void Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s failed: %s\n", what, s.ToString().c_str());
  _exit(2);
}

void FileLoop(Mailbox& box, int thread) {
  const char* categories[] = {"Hard", "Soft", "Complaints"};
  for (int n = 0;; ++n) {
    std::string category = categories[n % 3];
    mailbox::MessageAttributes attrs{.category = category,
                                     .recipient = fmt::format("r{}@example.com", n)};
    auto d = box.Deliver(Content(thread, n), absl::Now(), std::move(attrs), category).Wait();
    if (!d.ok()) Fail("deliver", d.status());
    Say("A " + std::to_string(d->inbox_uid) + " " + category + " " + std::to_string(d->folder_uid) +
        " " + std::to_string(thread) + " " + std::to_string(n));
    if (n % 3 == 0) {
      auto f =
          box.StoreFlags("INBOX", {d->inbox_uid}, mailbox::FlagOp::kAdd, mailbox::kSeen).Wait();
      if (!f.ok()) Fail("flags", f.status());
      Say("S " + std::to_string(d->inbox_uid));
    }
    if (n % 4 == 1) {
      Say("P " + category + " " + std::to_string(d->folder_uid));  // may be gone from here on
      auto f = box.StoreFlags(category, {d->folder_uid}, mailbox::FlagOp::kAdd, mailbox::kDeleted)
                   .Wait();
      if (!f.ok()) Fail("flags", f.status());
      auto e = box.Expunge(category, std::vector<uint32_t>{d->folder_uid}).Wait();
      if (!e.ok()) Fail("expunge", e.status());
      Say("E " + category + " " + std::to_string(d->folder_uid));
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
  for (int t = 0; t < 3; ++t) threads.emplace_back([&, t] { FileLoop(spool->mailbox(), t); });
  for (auto& t : threads) t.join();  // never: the parent kills us
  return 0;
}
