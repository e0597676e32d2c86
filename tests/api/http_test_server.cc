#include "tests/api/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"

namespace salvo::testing {

std::unique_ptr<TestHttpServer> TestHttpServer::Start(HttpServerOptions options, HttpRouter router,
                                                      int shards) {
  std::unique_ptr<TestHttpServer> t(new TestHttpServer());
  t->server_ = std::make_unique<HttpServer>(std::move(options), std::move(router));
  auto address = SocketAddress::Parse("127.0.0.1:0");
  EXPECT_TRUE(address.ok());
  auto listeners = std::make_shared<std::vector<Listener>>();
  for (int i = 0; i < shards; ++i) {
    absl::StatusOr<Listener> l = Listener::Bind(*address);
    EXPECT_TRUE(l.ok()) << l.status();
    if (!l.ok()) return nullptr;
    if (i == 0) address->set_port(l->address().port());
    listeners->push_back(std::move(*l));
  }
  t->port_ = address->port();
  const HttpServer* server = t->server_.get();
  auto set = ShardSet::Start(shards, [server, listeners](Ring&, int i) {
    return server->Serve(std::move((*listeners)[i]));
  });
  EXPECT_TRUE(set.ok()) << set.status();
  if (!set.ok()) return nullptr;
  t->shards_ = std::move(*set);
  return t;
}

TestHttpServer::~TestHttpServer() { Stop(); }

void TestHttpServer::Stop() {
  if (!shards_) return;
  shards_->Stop();
  shards_->Join();
  shards_.reset();
}

std::string TestHttpServer::Url(std::string_view path, bool https) const {
  return fmt::format("{}://127.0.0.1:{}{}", https ? "https" : "http", port_, path);
}

RawClient::RawClient(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::Send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawClient::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool RawClient::SendByteByByte(std::string_view data, std::chrono::microseconds pause) {
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (char c : data) {
    if (!Send(std::string_view(&c, 1))) return false;
    std::this_thread::sleep_for(pause);
  }
  return true;
}

std::string RawClient::ReadUntilClose(std::chrono::milliseconds timeout, bool* closed) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (closed) *closed = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return out;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string RawClient::ReadResponses(int n, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto complete = [&] {
    size_t pos = 0;
    for (int i = 0; i < n; ++i) {
      size_t end = out.find("\r\n\r\n", pos);
      if (end == std::string::npos) return false;
      size_t cl = out.find("Content-Length: ", pos);
      size_t len = cl != std::string::npos && cl < end
                       ? std::strtoul(out.c_str() + cl + 16, nullptr, 10)
                       : 0;
      pos = end + 4 + len;
      if (pos > out.size()) return false;
    }
    return true;
  };
  while (!complete()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[65536];
    ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

int Count(std::string_view haystack, std::string_view needle) {
  int n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace salvo::testing
