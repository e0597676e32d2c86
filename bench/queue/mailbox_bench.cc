// mailbox_bench [messages] [threads] [dir]: the bounce mailbox on a real
// spool. Files `messages` bounces (Deliver: INBOX + a category folder) from
// `threads` threads (durable, group-committed), then measures View of the
// full INBOX, Read of random messages, StoreFlags, and the index rebuild at
// reopen. Prints one line per figure.
#include <fmt/format.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "queue/mailbox.h"
#include "queue/spool.h"
#include "spdlog/spdlog.h"

namespace salvo::queue {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string Bounce(int n) {
  std::string body =
      "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.net\r\nSubject: "
      "Undelivered Mail Returned to Sender\r\n\r\n";
  body +=
      fmt::format("<user{}@example.com>: host mx.example.com said: 550 5.1.1 User unknown\r\n", n);
  body.append(2500, 'x');  // a typical DSN is 2-6 KB
  body += "\r\n";
  return body;
}

std::unique_ptr<Spool> OpenSpool(const std::string& path) {
  SpoolOptions options;
  options.path = path;
  options.min_free_bytes = 0;
  auto spool = Spool::Open(options);
  if (!spool.ok()) {
    std::fprintf(stderr, "open: %s\n", spool.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*spool);
}

void Fill(Mailbox& box, int messages, int threads) {
  const char* categories[] = {"Hard", "Soft", "Complaints", "AutoReplies"};
  std::atomic<int> next{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int n = next++; n < messages; n = next++) {
        mailbox::MessageAttributes attrs{.category = "bad-mailbox",
                                         .campaign = fmt::format("c{}", n % 17),
                                         .recipient = fmt::format("user{}@example.com", n)};
        auto d = box.Deliver(Bounce(n), absl::Now(), std::move(attrs), categories[n % 4]).Wait();
        if (!d.ok()) {
          std::fprintf(stderr, "deliver: %s\n", d.status().ToString().c_str());
          std::exit(1);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  double s = Seconds(start);
  std::printf(
      "deliver: %d messages (INBOX + category, durable) from %d threads in %.2f s: %.0f/s\n",
      messages, threads, s, messages / s);
}

void Measure(Mailbox& box, int messages) {
  constexpr int kViews = 20;
  auto start = Clock::now();
  size_t seen = 0;
  for (int i = 0; i < kViews; ++i) seen += box.View("INBOX", i == 0)->messages.size();
  std::printf("view: INBOX of %zu messages: %.2f ms each\n", seen / kViews,
              Seconds(start) * 1000 / kViews);
  start = Clock::now();
  for (int i = 0; i < 100000; ++i) {
    if (!box.Status("Hard").ok()) std::exit(1);
  }
  std::printf("status: %.2f us each\n", Seconds(start) * 1e6 / 100000);
  std::mt19937 rng(42);
  constexpr int kReads = 20000;
  uint64_t bytes = 0;
  start = Clock::now();
  for (int i = 0; i < kReads; ++i) {
    uint32_t uid = 1 + rng() % messages;
    auto r = box.Read("INBOX", uid).Wait();
    if (!r.ok()) std::exit(1);
    bytes += r->size();
  }
  double s = Seconds(start);
  std::printf(
      "read: %d random messages (one at a time) in %.2f s: %.0f/s, %.1f us each, %.1f MB/s\n",
      kReads, s, kReads / s, s * 1e6 / kReads, bytes / s / 1e6);
  constexpr int kStores = 2000;
  start = Clock::now();
  for (int i = 0; i < kStores; ++i) {
    std::vector<uint32_t> uids{1 + static_cast<uint32_t>(rng() % messages)};
    if (!box.StoreFlags("INBOX", std::move(uids), mailbox::FlagOp::kAdd, mailbox::kSeen)
             .Wait()
             .ok()) {
      std::exit(1);
    }
  }
  s = Seconds(start);
  std::printf("store flags: %d single-message stores (durable, one at a time): %.0f/s\n", kStores,
              kStores / s);
}

}  // namespace
}  // namespace salvo::queue

int main(int argc, char** argv) {
  using namespace salvo::queue;
  int messages = argc > 1 ? std::atoi(argv[1]) : 100000;
  int threads = argc > 2 ? std::atoi(argv[2]) : 16;
  std::string dir = argc > 3 ? argv[3] : "";
  bool temp = dir.empty();
  if (temp) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mailbox-bench-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
  }
  spdlog::set_level(spdlog::level::warn);
  std::string path = dir + "/spool";
  {
    auto spool = OpenSpool(path);
    Fill(spool->mailbox(), messages, threads);
    Measure(spool->mailbox(), messages);
  }
  auto start = Clock::now();
  auto spool = OpenSpool(path);
  MailboxStats stats = spool->mailbox().stats();
  std::printf("reopen: index of %zu messages (%zu contents) rebuilt with the spool in %.0f ms\n",
              stats.messages, stats.blobs, Seconds(start) * 1000);
  spool.reset();
  if (temp) std::filesystem::remove_all(dir);
  return 0;
}
