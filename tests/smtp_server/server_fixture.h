// Test support for the inbound SMTP server: a RecordingSink (a test-only
// MessageSink that keeps what it is given), a server running on its own
// Ring thread on an ephemeral loopback port, and a blocking SMTP client
// for the test thread. Every wait is bounded.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/base/strings.h"
#include "engine/loop/ops.h"
#include "engine/smtp/reply.h"
#include "engine/smtp/server/message_sink.h"
#include "engine/smtp/server/server_options.h"
#include "engine/smtp/server/smtp_server.h"
#include "gtest/gtest.h"
#include "tests/support/line_client.h"
#include "tests/support/server_thread.h"
#include "tests/support/test_certificate.h"

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

using salvo::testing::TestCertificate;

// Options for tests: fast timeouts and a recording sink.
inline ServerOptions TestOptions(std::shared_ptr<RecordingSink> sink) {
  ServerOptions o;
  salvo::testing::ApplyTestTimings(o);
  o.hostname = "mx.salvo.test";
  o.sink = std::move(sink);
  o.relay.local_domains = {"bounces.salvo.test"};
  return o;
}

// The server on its own thread and Ring, listening on 127.0.0.1:<port>.
using ServerThread = salvo::testing::ServerThread<SmtpServer, ServerOptions>;

// A blocking client for the test thread.
class Client : public salvo::testing::LineClient {
 public:
  // The next complete reply; code 0 on timeout, close or garbage.
  SmtpReply ReadReply(std::chrono::milliseconds timeout = 10s) {
    ReplyParser parser;
    auto deadline = Clock::now() + timeout;
    for (;;) {
      std::optional<std::string> line = NextLine(deadline);
      if (!line) return SmtpReply();
      auto done = parser.Feed(*line);
      if (!done.ok()) return SmtpReply();
      if (*done) return parser.Take();
    }
  }
};

}  // namespace salvo::smtp::testing
