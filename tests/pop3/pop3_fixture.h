// Test support for the POP3 server: a real bounce mailbox (queue::Mailbox
// in a Spool in a fresh temporary directory), the server on its own Ring
// thread on an ephemeral loopback port, and a blocking line client for the
// test thread. Every wait is bounded.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pop3/pop3_options.h"
#include "engine/pop3/pop3_server.h"
#include "gtest/gtest.h"
#include "queue/mailbox.h"
#include "queue/spool.h"
#include "tests/support/line_client.h"
#include "tests/support/server_thread.h"
#include "tests/support/test_certificate.h"

namespace salvo::pop3::testing {

using namespace std::chrono_literals;

using salvo::testing::TestCertificate;

inline std::string TempDir() { return salvo::testing::TempDir("pop3"); }

// One Spool (with its bounce mailbox) for the whole test binary, in a
// temporary directory: opening and closing RocksDB costs most of a second
// here, so tests share it and each gets a folder of its own (TestMailbox).
class SharedSpool : public ::testing::Environment {
 public:
  static queue::Spool& Get();
  void TearDown() override {
    spool_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

 private:
  void Open() {
    dir_ = TempDir();
    queue::SpoolOptions o;
    o.path = dir_ + "/spool";
    o.min_free_bytes = 0;
    o.memtable_bytes = 8 << 20;
    o.block_cache_bytes = 8 << 20;
    auto spool = queue::Spool::Open(std::move(o));
    if (!spool.ok()) {
      ADD_FAILURE() << spool.status();
      std::abort();
    }
    spool_ = std::move(*spool);
  }
  std::string dir_;
  std::unique_ptr<queue::Spool> spool_;
};

// Registered before main() runs; gtest owns it and calls TearDown at the end.
inline SharedSpool* const shared_spool =
    static_cast<SharedSpool*>(::testing::AddGlobalTestEnvironment(new SharedSpool));

inline queue::Spool& SharedSpool::Get() {
  if (!shared_spool->spool_) shared_spool->Open();
  return *shared_spool->spool_;
}

// A fresh folder of the shared bounce mailbox, which the test's server
// serves as its maildrop (Pop3Options::folder); deleted at the end.
class TestMailbox {
 public:
  TestMailbox() {
    static std::atomic<int> counter{0};
    folder_ = "Test" + std::to_string(++counter) + "-" + std::to_string(::getpid());
    auto st = mailbox().CreateFolder(folder_).Wait();
    EXPECT_TRUE(st.ok()) << st;
  }
  ~TestMailbox() {
    auto st = mailbox().DeleteFolder(folder_).Wait();
    EXPECT_TRUE(st.ok()) << st;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The store as the server sees it (does not own the spool).
  std::shared_ptr<mailbox::MailStore> store() {
    return std::shared_ptr<mailbox::MailStore>(std::shared_ptr<void>(), &mailbox());
  }
  queue::Mailbox& mailbox() { return SharedSpool::Get().mailbox(); }
  const std::string& folder() const { return folder_; }
  // A scratch directory for the test (certificates, client files).
  const std::string& dir() const { return dir_; }

  // Appends to the test's folder; returns the UID.
  uint32_t Add(std::string content, uint8_t flags = 0) {
    auto uid =
        mailbox()
            .Append(folder_, std::move(content), flags, absl::Now(), mailbox::MessageAttributes{})
            .Wait();
    EXPECT_TRUE(uid.ok()) << uid.status();
    return uid.ok() ? *uid : 0;
  }
  mailbox::FolderView View() {
    auto v = mailbox().View(folder_, false);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : mailbox::FolderView{};
  }
  uint32_t uid_validity() { return View().status.uid_validity; }

 private:
  std::string folder_;
  std::string dir_ = TempDir();
};

// Users: alice/wonderland (no APOP secret), mrose/rose-pw with the APOP
// secret "tanstaaf" (RFC 1939's example).
inline std::vector<smtp::UserAccount> TestUsers() {
  std::string a = *smtp::HashPassword("wonderland", 1000);
  std::string m = *smtp::HashPassword("rose-pw", 1000);
  return {{"alice", a, ""}, {"mrose", m, "tanstaaf"}};
}

// Options for tests serving `mb`'s folder: fast delays, plaintext logins on loopback, a private
// lock table, APOP only when asked.
inline Pop3Options TestOptions(TestMailbox& mb, bool apop = false) {
  Pop3Options o;
  salvo::testing::ApplyTestTimings(o);
  o.hostname = "pop.salvo.test";
  o.store = mb.store();
  o.folder = mb.folder();
  o.credentials = *smtp::CredentialStore::Create(TestUsers());
  if (apop) o.apop = std::make_shared<ApopSecrets>(TestUsers());
  o.allow_plaintext_auth = true;
  o.locks = std::make_shared<MaildropLocks>();
  return o;
}

// The server on its own thread and Ring, listening on 127.0.0.1:<port>.
using ServerThread = salvo::testing::ServerThread<Pop3Server, Pop3Options>;

// A blocking line client for the test thread.
class Client : public salvo::testing::LineClient {
 public:
  bool SendLine(std::string_view line) { return Send(std::string(line) + "\r\n"); }

  // The body of a multi-line response (after its +OK line), un-stuffed, with
  // CRLF line ends; nullopt if it did not end with ".".
  std::optional<std::string> ReadBody(std::chrono::milliseconds timeout = 10s) {
    std::string body;
    for (int i = 0; i < 10000000; ++i) {
      std::string line = ReadLine(timeout);
      if (line == ".") return body;
      if (line.empty() && closed()) return std::nullopt;
      if (!line.empty() && line[0] == '.') line.erase(0, 1);
      body += line + "\r\n";
    }
    return std::nullopt;
  }
  // Sends `command` and returns its one-line reply.
  std::string Command(std::string_view command) {
    SendLine(command);
    return ReadLine();
  }
  // True once the server closed the connection (within the timeout).
  bool WaitClosed(std::chrono::milliseconds timeout = 10s) {
    ReadAll(timeout);
    return closed();
  }
};

// Logs in as alice with USER/PASS; true on +OK.
inline bool LoginAlice(Client& c) {
  if (c.ReadLine().rfind("+OK", 0) != 0) return false;
  if (c.Command("USER alice").rfind("+OK", 0) != 0) return false;
  return c.Command("PASS wonderland").rfind("+OK", 0) == 0;
}

}  // namespace salvo::pop3::testing
