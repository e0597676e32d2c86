// Test support for the POP3 server: a real bounce mailbox (queue::Mailbox
// in a Spool in a fresh temporary directory), the server on its own Ring
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
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/loop/ring.h"
#include "engine/net/socket.h"
#include "engine/pop3/pop3_options.h"
#include "engine/pop3/pop3_server.h"
#include "engine/tls/self_signed.h"
#include "engine/tls/tls_context.h"
#include "gtest/gtest.h"
#include "queue/mailbox.h"
#include "queue/spool.h"
#include "spdlog/spdlog.h"

namespace salvo::pop3::testing {

using namespace std::chrono_literals;

inline std::string TempDir() {
  char tmpl[] = "/tmp/salvo-pop3-XXXXXX";
  return mkdtemp(tmpl);
}

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

// A self-signed certificate for "localhost" (and 127.0.0.1) and a server
// TLS context from it.
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
  ~TestCertificate() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
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
  o.hostname = "pop.salvo.test";
  o.listener_name = "test";
  o.store = mb.store();
  o.folder = mb.folder();
  o.credentials = *smtp::CredentialStore::Create(TestUsers());
  if (apop) o.apop = std::make_shared<ApopSecrets>(TestUsers());
  o.allow_plaintext_auth = true;
  o.limits.auth_failure_delay = 10ms;
  o.limits.max_auth_failure_delay = 50ms;
  o.timeouts.linger = 200ms;
  o.locks = std::make_shared<MaildropLocks>();
  return o;
}

// The server on its own thread and Ring, listening on 127.0.0.1:<port>.
class ServerThread {
 public:
  explicit ServerThread(Pop3Options options)
      : options_(std::make_shared<const Pop3Options>(std::move(options))) {
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
      Pop3Server server(options_);
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
  const Pop3Options& options() const { return *options_; }

 private:
  std::shared_ptr<const Pop3Options> options_;
  std::thread thread_;
  std::atomic<Ring*> ring_{nullptr};
  int port_ = 0;
};

// A blocking line client for the test thread.
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
  bool SendLine(std::string_view line) { return Send(std::string(line) + "\r\n"); }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // The next line without CRLF; "" with closed() on close or timeout.
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
      if (!Fill(deadline)) return std::string();
    }
  }
  // The body of a multi-line response (after its +OK line), un-stuffed, with
  // CRLF line ends; nullopt if it did not end with ".".
  std::optional<std::string> ReadBody(std::chrono::milliseconds timeout = 10s) {
    std::string body;
    for (int i = 0; i < 10000000; ++i) {
      std::string line = ReadLine(timeout);
      if (line == ".") return body;
      if (line.empty() && eof_) return std::nullopt;
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
  // Everything until the server closes (or the timeout).
  std::string ReadAll(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(deadline)) {
    }
    return std::exchange(buf_, std::string());
  }
  bool closed() const { return eof_; }
  // True once the server closed the connection (within the timeout).
  bool WaitClosed(std::chrono::milliseconds timeout = 10s) {
    ReadAll(timeout);
    return eof_;
  }

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

// Logs in as alice with USER/PASS; true on +OK.
inline bool LoginAlice(Client& c) {
  if (c.ReadLine().rfind("+OK", 0) != 0) return false;
  if (c.Command("USER alice").rfind("+OK", 0) != 0) return false;
  return c.Command("PASS wonderland").rfind("+OK", 0) == 0;
}

}  // namespace salvo::pop3::testing
