// imap_bench: FETCH and SEARCH latency over a large bounce mailbox, and the
// memory an IDLE session holds, against the real server and the real
// mailbox (queue::Mailbox in a temporary spool), on loopback.
//
//   imap_bench [--messages=100000] [--idle=1000] [--samples=1000]
//
// Fills INBOX and Hard with `messages` bounces (as the ingester files them),
// serves them on 127.0.0.1 from one ring thread, and drives the server with
// a blocking client from the main thread. Prints one line per figure.
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "engine/imap/imap_options.h"
#include "engine/imap/imap_server.h"
#include "engine/loop/ring.h"
#include "engine/net/socket.h"
#include "fmt/format.h"
#include "queue/mailbox.h"
#include "queue/spool.h"
#include "spdlog/spdlog.h"

namespace salvo::imap {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Heap bytes in use (glibc), in KiB: unlike RSS it does not depend on
// what the allocator kept or returned after earlier phases.
long HeapKb() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<long>((m.uordblks + m.hblkhd) / 1024);
}

std::string Bounce(int n) {
  std::string s = std::to_string(n);
  return "Return-Path: <>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
         "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
         "To: bounces+tok" +
         s +
         "@bounces.salvo.test\r\n"
         "Subject: Undelivered Mail Returned to Sender " +
         s +
         "\r\n"
         "X-Salvo-Category: " +
         std::string(n % 10 == 0 ? "mailbox-full" : "bad-mailbox") +
         "\r\n"
         "X-Salvo-Campaign: campaign-" +
         std::to_string(n % 50) +
         "\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
         "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
         "The mail for user" +
         s +
         "@example.com could not be delivered.\r\n"
         "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
         "mx.example.net\r\n"
         "\r\nFinal-Recipient: rfc822; user" +
         s +
         "@example.com\r\nAction: failed\r\n"
         "Status: 5.1.1\r\n--b--\r\n";
}

void Fill(queue::Mailbox& box, int messages) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0, failed = 0;
  for (int i = 1; i <= messages; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < 512; });
      ++in_flight;
    }
    mailbox::MessageAttributes a{i % 10 == 0 ? "mailbox-full" : "bad-mailbox",
                                 "campaign-" + std::to_string(i % 50),
                                 "user" + std::to_string(i) + "@example.com"};
    box.Deliver(Bounce(i), absl::FromUnixSeconds(1793613600 + i), a, i % 10 == 0 ? "Soft" : "Hard")
        .Then([&](absl::StatusOr<queue::DeliveredUids> r) {
          std::lock_guard<std::mutex> lock(mu);
          --in_flight;
          if (!r.ok()) ++failed;
          cv.notify_all();
        });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  if (failed) std::fprintf(stderr, "fill: %d failed\n", failed);
}

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::perror("connect");
    ReadLine();
  }
  ~Client() { ::close(fd_); }
  void Send(const std::string& s) { (void)!::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  std::string ReadLine() {
    for (;;) {
      size_t lf = buf_.find('\n', pos_);
      if (lf != std::string::npos) {
        std::string line = buf_.substr(pos_, lf + 1 - pos_);
        pos_ = lf + 1;
        if (pos_ > (1 << 20)) {
          buf_.erase(0, pos_);
          pos_ = 0;
        }
        return line;
      }
      char tmp[1 << 16];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return "";
      buf_.append(tmp, n);
    }
  }
  // Sends a command and reads to its tagged answer; returns the bytes read.
  size_t Command(const std::string& command) {
    std::string tag = fmt::format("b{}", ++tags_);
    Send(tag + " " + command + "\r\n");
    size_t bytes = 0;
    for (;;) {
      std::string line = ReadLine();
      if (line.empty()) return bytes;
      bytes += line.size();
      if (line.rfind(tag + " ", 0) == 0) return bytes;
    }
  }

 private:
  int fd_;
  std::string buf_;
  size_t pos_ = 0;
  int tags_ = 0;
};

struct Stats {
  double p50, p99, max;
};
Stats Percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[v.size() * 99 / 100], v.back()};
}

int Main(int argc, char** argv) {
  int messages = 100000, idle = 1000, samples = 1000;
  for (int i = 1; i < argc; ++i) {
    if (std::sscanf(argv[i], "--messages=%d", &messages) == 1) continue;
    if (std::sscanf(argv[i], "--idle=%d", &idle) == 1) continue;
    if (std::sscanf(argv[i], "--samples=%d", &samples) == 1) continue;
    std::fprintf(stderr, "usage: imap_bench [--messages=N] [--idle=N] [--samples=N]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  std::string dir = (std::filesystem::temp_directory_path() / "salvo-imap-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;
  queue::SpoolOptions so;
  so.path = dir + "/spool";
  so.min_free_bytes = 0;
  auto spool_or = queue::Spool::Open(so);
  if (!spool_or.ok()) {
    std::fprintf(stderr, "spool: %s\n", spool_or.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<queue::Spool> spool(std::move(*spool_or));
  auto t0 = Clock::now();
  Fill(spool->mailbox(), messages);
  std::printf("fill: %d bounces (INBOX + category folder) in %.0f ms\n", messages,
              Ms(Clock::now() - t0));

  auto options = std::make_shared<ImapOptions>();
  options->store = std::shared_ptr<mailbox::MailStore>(spool, &spool->mailbox());
  auto hash = smtp::HashPassword("secret", smtp::kMinPbkdf2Iterations);
  options->credentials = *smtp::CredentialStore::Create({{"bounces", *hash, ""}});
  options->allow_plaintext_auth = true;
  std::promise<int> port_promise;
  std::atomic<Ring*> ring_ptr{nullptr};
  std::thread server([&] {
    auto ring = Ring::Create();
    auto listener = Listener::Bind(*SocketAddress::Parse("127.0.0.1:0"));
    ring_ptr = ring->get();
    port_promise.set_value(listener->address().port());
    ImapServer s(options);
    (*ring)->Run(s.Serve(std::move(*listener)));
  });
  int port = port_promise.get_future().get();

  {
    Client c(port);
    c.Command("LOGIN bounces secret");
    auto t = Clock::now();
    c.Command("SELECT INBOX");
    std::printf("SELECT INBOX (%d messages): %.1f ms\n", messages, Ms(Clock::now() - t));
    t = Clock::now();
    size_t bytes = c.Command("FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)");
    std::printf("FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE): %.1f ms, %zu bytes\n",
                Ms(Clock::now() - t), bytes);
    std::mt19937 rng(42);
    std::vector<double> body, header, envelope;
    for (int i = 0; i < samples; ++i) {
      std::string uid = std::to_string(1 + rng() % messages);
      t = Clock::now();
      c.Command("UID FETCH " + uid + " (BODY.PEEK[])");
      body.push_back(Ms(Clock::now() - t));
      t = Clock::now();
      c.Command("UID FETCH " + uid + " (BODY.PEEK[HEADER.FIELDS (SUBJECT X-SALVO-CATEGORY)])");
      header.push_back(Ms(Clock::now() - t));
      t = Clock::now();
      c.Command("UID FETCH " + uid + " (ENVELOPE BODYSTRUCTURE)");
      envelope.push_back(Ms(Clock::now() - t));
    }
    for (auto& [name, v] : {std::pair<const char*, std::vector<double>&>{"BODY.PEEK[]", body},
                            {"BODY.PEEK[HEADER.FIELDS (...)]", header},
                            {"ENVELOPE BODYSTRUCTURE", envelope}}) {
      Stats s = Percentiles(v);
      std::printf("UID FETCH <random> %s: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d samples)\n",
                  name, s.p50, s.p99, s.max, samples);
    }
    for (const char* q :
         {"UNSEEN", "HEADER X-Salvo-Category mailbox-full",
          "HEADER X-Salvo-Campaign campaign-7 SINCE 1-Nov-2026", "UID 50000:50100 FLAGGED"}) {
      std::vector<double> v;
      for (int i = 0; i < 5; ++i) {
        t = Clock::now();
        c.Command(std::string("SEARCH ") + q);
        v.push_back(Ms(Clock::now() - t));
      }
      std::printf("SEARCH %s (metadata only): median %.1f ms over %d messages\n", q,
                  Percentiles(v).p50, messages);
    }
    t = Clock::now();
    c.Command("SEARCH BODY \"user77777@example.com\"");
    std::printf("SEARCH BODY \"user77777@example.com\" (reads every message): %.0f ms\n",
                Ms(Clock::now() - t));
    t = Clock::now();
    c.Command("SEARCH SUBJECT \"Sender 4242\"");
    std::printf("SEARCH SUBJECT (reads every message): %.0f ms\n", Ms(Clock::now() - t));
  }

  // IDLE sessions on a small folder: what one waiting session costs.
  std::string folder = "Complaints";
  long before = HeapKb();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < idle; ++i) {
    auto c = std::make_unique<Client>(port);
    c->Command("LOGIN bounces secret");
    c->Command("SELECT " + folder);
    c->Send("i IDLE\r\n");
    c->ReadLine();
    clients.push_back(std::move(c));
  }
  long after = HeapKb();
  std::printf("%d IDLE sessions (folder %s): heap +%ld KiB, %.1f KiB per session\n", idle,
              folder.c_str(), after - before, double(after - before) / std::max(idle, 1));
  clients.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // A few IDLE sessions on the full INBOX: the sequence map's cost.
  int big = 10;
  before = HeapKb();
  for (int i = 0; i < big; ++i) {
    auto c = std::make_unique<Client>(port);
    c->Command("LOGIN bounces secret");
    c->Command("EXAMINE INBOX");
    c->Send("i IDLE\r\n");
    c->ReadLine();
    clients.push_back(std::move(c));
  }
  after = HeapKb();
  std::printf("%d IDLE sessions (INBOX, %d messages): heap %.1f KiB per session\n", big, messages,
              double(after - before) / big);
  clients.clear();
  if (Ring* r = ring_ptr.load()) r->RequestStop();
  server.join();
  spool.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace salvo::imap

int main(int argc, char** argv) { return salvo::imap::Main(argc, argv); }
