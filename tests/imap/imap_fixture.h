// Test support for the IMAP server: a real bounce mailbox (queue::Mailbox in
// a Spool opened in a fresh temporary directory), the server on its own Ring
// thread on an ephemeral loopback port, and a blocking line client for the
// test thread. Every wait is bounded.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "engine/imap/imap_options.h"
#include "engine/imap/imap_server.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "queue/mailbox.h"
#include "queue/spool.h"
#include "tests/support/line_client.h"
#include "tests/support/server_thread.h"
#include "tests/support/test_certificate.h"

namespace salvo::imap::testing {

using namespace std::chrono_literals;

using salvo::testing::TempDir;
using salvo::testing::TestCertificate;

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
  salvo::testing::ApplyTestTimings(o);
  o.hostname = "imap.salvo.test";
  o.store = std::move(store);
  o.credentials = TestCredentials();
  o.allow_plaintext_auth = true;
  return o;
}

// The server on its own thread and Ring, listening on 127.0.0.1:<port>.
using ServerThread = salvo::testing::ServerThread<ImapServer, ImapOptions>;

// A blocking client for the test thread.
class Client : public salvo::testing::LineClient {
 public:
  // Everything up to and including the line starting with `tag ` (joined
  // with "\n"); what was read so far on timeout.
  std::string ReadUntilTagged(const std::string& tag, std::chrono::milliseconds timeout = 10s) {
    auto deadline = Clock::now() + timeout;
    std::string out;
    for (;;) {
      std::optional<std::string> line = NextLine(deadline, /*keep_line_end=*/true);
      if (!line) return out;
      out += *line;
      if (line->rfind(tag + " ", 0) == 0) return out;
    }
  }
  // Sends "<tag> <command>\r\n" and reads its whole answer.
  std::string Command(const std::string& tag, const std::string& command) {
    Send(tag + " " + command + "\r\n");
    return ReadUntilTagged(tag);
  }
};

}  // namespace salvo::imap::testing
