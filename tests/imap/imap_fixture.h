// Test support for the IMAP server: a real bounce mailbox (queue::Mailbox in
// a Spool opened in a fresh temporary directory), the server on its own Ring
// thread on an ephemeral loopback port, and a blocking line client for the
// test thread. Every wait is bounded.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "engine/imap/imap_options.h"
#include "engine/imap/imap_server.h"
#include "engine/loop/ring.h"
#include "engine/net/socket.h"
#include "engine/tls/self_signed.h"
#include "engine/tls/tls_context.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "queue/mailbox.h"
#include "queue/spool.h"
#include "spdlog/spdlog.h"

namespace salvo::imap::testing {

using namespace std::chrono_literals;

inline std::string TempDir(const char* what = "imapd") {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / (std::string("salvo-") + what + "-XXXXXX"))
          .string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

// A bounce message as the ingester files it.
inline std::string BounceMessage(int n, const std::string& category = "bad-mailbox",
                                 const std::string& campaign = "spring") {
  return fmt::format(
      "Return-Path: <>\r\n"
      "Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
      "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
      "To: bounces+tok{0}@bounces.salvo.test\r\n"
      "Subject: Undelivered Mail Returned to Sender {0}\r\n"
      "Message-ID: <bounce{0}@mx.example.net>\r\n"
      "X-Salvo-Category: {1}\r\n"
      "X-Salvo-Campaign: {2}\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b{0}\"\r\n"
      "\r\n"
      "--b{0}\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n"
      "\r\n"
      "The mail for user{0}@example.com could not be delivered.\r\n"
      "--b{0}\r\n"
      "Content-Type: message/delivery-status\r\n"
      "\r\n"
      "Reporting-MTA: dns; mx.example.net\r\n"
      "\r\n"
      "Final-Recipient: rfc822; user{0}@example.com\r\n"
      "Action: failed\r\n"
      "Status: 5.1.1\r\n"
      "--b{0}--\r\n",
      n, category, campaign);
}

// A spool with its mailbox in a temporary directory.
class TestMailbox {
 public:
  TestMailbox() : dir_(TempDir("imap-spool")) {
    queue::SpoolOptions o;
    o.path = dir_ + "/spool";
    o.min_free_bytes = 0;
    o.memtable_bytes = 16 << 20;
    o.block_cache_bytes = 8 << 20;
    auto s = queue::Spool::Open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) spool_ = std::shared_ptr<queue::Spool>(std::move(*s));
  }
  ~TestMailbox() {
    spool_.reset();
    std::filesystem::remove_all(dir_);
  }
  queue::Mailbox& mailbox() { return spool_->mailbox(); }
  std::shared_ptr<mailbox::MailStore> store() {
    return std::shared_ptr<mailbox::MailStore>(spool_, &spool_->mailbox());
  }
  // Files a bounce into INBOX and its category folder (blocking).
  queue::DeliveredUids Deliver(int n, const std::string& folder = "Hard",
                               const std::string& category = "bad-mailbox",
                               const std::string& campaign = "spring") {
    mailbox::MessageAttributes a{category, campaign, "user" + std::to_string(n) + "@example.com"};
    auto r = mailbox()
                 .Deliver(BounceMessage(n, category, campaign),
                          absl::FromUnixSeconds(1793613600 + n), a, folder)
                 .Wait();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : queue::DeliveredUids{};
  }

 private:
  std::string dir_;
  std::shared_ptr<queue::Spool> spool_;
};

struct TestCertificate {
  std::string dir = TempDir("imap-cert");
  std::string cert = dir + "/cert.pem";
  std::string key = dir + "/key.pem";
  std::shared_ptr<TlsContext> context;

  TestCertificate() {
    auto st = GenerateSelfSignedCertificate(cert, key, "localhost", 2);
    EXPECT_TRUE(st.ok()) << st;
    auto ctx = TlsContext::Server({cert, key});
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    if (ctx.ok()) context = std::make_shared<TlsContext>(std::move(*ctx));
  }
  ~TestCertificate() { std::filesystem::remove_all(dir); }
};

// User "bounces" / password "secret" (a cheap hash: tests, not production).
inline std::shared_ptr<smtp::CredentialStore> TestCredentials() {
  auto hash = smtp::HashPassword("secret", smtp::kMinPbkdf2Iterations);
  EXPECT_TRUE(hash.ok());
  auto store = smtp::CredentialStore::Create({{"bounces", *hash, ""}});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *store : nullptr;
}

inline ImapOptions TestOptions(std::shared_ptr<mailbox::MailStore> store) {
  ImapOptions o;
  o.hostname = "imap.salvo.test";
  o.listener_name = "test";
  o.store = std::move(store);
  o.credentials = TestCredentials();
  o.allow_plaintext_auth = true;
  o.limits.auth_failure_delay = 10ms;
  o.limits.max_auth_failure_delay = 50ms;
  o.timeouts.linger = 200ms;
  return o;
}

// The server on its own thread and Ring, listening on 127.0.0.1:<port>.
class ServerThread {
 public:
  explicit ServerThread(ImapOptions options)
      : options_(std::make_shared<const ImapOptions>(std::move(options))) {
    spdlog::set_level(getenv("SALVO_TEST_LOG") ? spdlog::level::debug : spdlog::level::warn);
    std::promise<int> port;
    auto ready = port.get_future();
    thread_ = std::thread([this, p = std::move(port)]() mutable {
      auto ring = Ring::Create();
      if (!ring.ok()) {
        p.set_value(0);
        return;
      }
      ring_ = ring->get();
      auto listener = Listener::Bind(*SocketAddress::Parse("127.0.0.1:0"));
      if (!listener.ok()) {
        p.set_value(0);
        return;
      }
      p.set_value(listener->address().port());
      ImapServer server(options_);
      (*ring)->Run(server.Serve(std::move(*listener)));
      ring_ = nullptr;
    });
    port_ = ready.get();
    EXPECT_NE(port_, 0) << "server did not start";
  }
  ~ServerThread() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    if (Ring* r = ring_.load()) r->RequestStop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::shared_ptr<const ImapOptions> options_;
  std::thread thread_;
  std::atomic<Ring*> ring_{nullptr};
  int port_ = 0;
};

// A blocking client for the test thread.
class Client {
 public:
  Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { Close(); }

  bool Connect(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(n);
    }
    return true;
  }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // One line without CRLF; "" on timeout or close.
  std::string ReadLine(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t lf = buf_.find('\n');
      if (lf != std::string::npos) {
        std::string line = buf_.substr(0, lf);
        buf_.erase(0, lf + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (!Fill(deadline)) return "";
    }
  }
  // Everything up to and including the line starting with `tag ` (joined
  // with "\n"); what was read so far on timeout.
  std::string ReadUntilTagged(const std::string& tag, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string out;
    for (;;) {
      size_t lf = buf_.find('\n');
      if (lf == std::string::npos) {
        if (!Fill(deadline)) return out;
        continue;
      }
      std::string line = buf_.substr(0, lf + 1);
      buf_.erase(0, lf + 1);
      out += line;
      if (line.rfind(tag + " ", 0) == 0) return out;
    }
  }
  // Sends "<tag> <command>\r\n" and reads its whole answer.
  std::string Command(const std::string& tag, const std::string& command) {
    Send(tag + " " + command + "\r\n");
    return ReadUntilTagged(tag);
  }
  std::string ReadAll(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(deadline)) {
    }
    return std::exchange(buf_, std::string());
  }
  bool closed() const { return eof_; }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(tmp, n);
    return true;
  }

  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

}  // namespace salvo::imap::testing
