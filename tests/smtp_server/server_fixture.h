// Test support for the inbound SMTP server: a RecordingSink (a test-only
// MessageSink that keeps what it is given), a server running on its own
// Ring thread on an ephemeral loopback port, and a blocking SMTP client
// for the test thread. Every wait is bounded.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/base/strings.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "engine/net/socket.h"
#include "engine/smtp/reply.h"
#include "engine/smtp/server/message_sink.h"
#include "engine/smtp/server/server_options.h"
#include "engine/smtp/server/smtp_server.h"
#include "engine/tls/self_signed.h"
#include "engine/tls/tls_context.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp::testing {

using namespace std::chrono_literals;

// Test-only MessageSink: records every message and answers with queue ids
// "Q1", "Q2"... or with `fail_with` when set. Thread-safe (the test thread
// reads while the server's ring thread writes).
class RecordingSink final : public MessageSink {
 public:
  Task<absl::StatusOr<AcceptedMessage>> Accept(InboundMessage message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_with_.ok()) co_return fail_with_;
    messages_.push_back(std::move(message));
    co_return AcceptedMessage{"Q" + std::to_string(messages_.size())};
  }
  std::vector<InboundMessage> messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_.size();
  }
  void set_fail_with(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_with_ = std::move(s);
  }

 private:
  std::mutex mu_;
  std::vector<InboundMessage> messages_;
  absl::Status fail_with_;
};

// Suppresses every recipient whose local part starts with "suppressed".
class PrefixSuppression final : public SuppressionCheck {
 public:
  Task<absl::StatusOr<std::optional<std::string>>> Check(std::string recipient) override {
    if (recipient.rfind("suppressed", 0) == 0) {
      co_return std::optional<std::string>("hard bounce");
    }
    co_return std::optional<std::string>();
  }
};

inline std::string TempDir() {
  char tmpl[] = "/tmp/salvo-smtpd-XXXXXX";
  return mkdtemp(tmpl);
}

// A self-signed certificate for "localhost" (and 127.0.0.1) in a fresh
// temporary directory, and a server TLS context from it.
struct TestCertificate {
  std::string dir = TempDir();
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
};

// Options for tests: fast timeouts and a recording sink.
inline ServerOptions TestOptions(std::shared_ptr<RecordingSink> sink) {
  ServerOptions o;
  o.hostname = "mx.salvo.test";
  o.listener_name = "test";
  o.sink = std::move(sink);
  o.relay.local_domains = {"bounces.salvo.test"};
  o.limits.auth_failure_delay = 10ms;
  o.limits.max_auth_failure_delay = 50ms;
  o.timeouts.linger = 200ms;
  return o;
}

// The server on its own thread and Ring, listening on 127.0.0.1:<port>.
class ServerThread {
 public:
  explicit ServerThread(ServerOptions options)
      : options_(std::make_shared<const ServerOptions>(std::move(options))) {
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
      SmtpServer server(options_);
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
  const ServerOptions& options() const { return *options_; }

 private:
  std::shared_ptr<const ServerOptions> options_;
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
  int fd() const { return fd_; }

  // Sends everything (false if the server closed or reset).
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

  // The next complete reply; code 0 on timeout, close or garbage.
  SmtpReply ReadReply(std::chrono::milliseconds timeout = 10s) {
    ReplyParser parser;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t lf = buf_.find('\n');
      if (lf != std::string::npos) {
        std::string line = buf_.substr(0, lf);
        buf_.erase(0, lf + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto done = parser.Feed(line);
        if (!done.ok()) return SmtpReply();
        if (*done) return parser.Take();
        continue;
      }
      if (!Fill(deadline)) return SmtpReply();
    }
  }

  // Everything until the server closes (or the timeout).
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

}  // namespace salvo::smtp::testing
