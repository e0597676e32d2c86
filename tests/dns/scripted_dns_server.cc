#include "tests/dns/scripted_dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace salvo::dns::testing {

namespace {

// Binds UDP and TCP sockets to the same free loopback port.
bool BindPair(int* udp, int* tcp, int* port) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(u, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        getsockname(u, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close(u);
      continue;
    }
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(t, reinterpret_cast<sockaddr*>(&addr), len) == 0 && listen(t, 16) == 0) {
      *udp = u;
      *tcp = t;
      *port = ntohs(addr.sin_port);
      return true;
    }
    close(t);
    close(u);
  }
  return false;
}

void SendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += n;
  }
}

}  // namespace

ScriptedDnsServer::ScriptedDnsServer(Handler handler) : handler_(std::move(handler)) {
  if (!BindPair(&fd_, &tcp_fd_, &port_)) {
    std::perror("ScriptedDnsServer: socket/bind");
    std::abort();
  }
  thread_ = std::thread([this] { Serve(); });
}

ScriptedDnsServer::~ScriptedDnsServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
  close(tcp_fd_);
}

int ScriptedDnsServer::QueryCount(const std::string& name, RrType type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find({name, type});
  return it == counts_.end() ? 0 : it->second;
}

int ScriptedDnsServer::TotalQueries() const {
  std::lock_guard<std::mutex> lock(mu_);
  int total = 0;
  for (const auto& [key, n] : counts_) total += n;
  return total;
}

std::vector<std::string> ScriptedDnsServer::Handle(const char* data, size_t len, bool tcp) {
  auto parsed = ParseMessage({reinterpret_cast<const uint8_t*>(data), len});
  if (!parsed.ok()) return {};
  ReceivedQuery query{parsed->id, parsed->question_name, parsed->question_type,
                      std::string(data, len), tcp};
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[{query.name, query.type}];
  }
  return handler_(query);
}

// Reads what arrived on a TCP connection and answers every complete query;
// false when the connection is done.
bool ScriptedDnsServer::ServeTcp(int fd, std::string& buffer) {
  char buf[65536];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  if (n <= 0) return false;
  buffer.append(buf, n);
  while (buffer.size() >= 2) {
    size_t len = static_cast<uint8_t>(buffer[0]) << 8 | static_cast<uint8_t>(buffer[1]);
    if (buffer.size() < 2 + len) break;
    for (const std::string& reply : Handle(buffer.data() + 2, len, true)) {
      if (std::string_view(reply).substr(0, kRawTcp.size()) == kRawTcp) {
        SendAll(fd, reply.substr(kRawTcp.size()));
        return false;  // raw replies end the connection
      }
      std::string framed;
      framed.push_back(static_cast<char>(reply.size() >> 8));
      framed.push_back(static_cast<char>(reply.size() & 0xFF));
      SendAll(fd, framed + reply);
    }
    buffer.erase(0, 2 + len);
  }
  return true;
}

void ScriptedDnsServer::Serve() {
  std::vector<char> storage(65536);
  char* buf = storage.data();
  std::vector<std::pair<int, std::string>> conns;  // TCP connections and their input
  while (!stop_) {
    std::vector<pollfd> fds = {{fd_, POLLIN, 0}, {tcp_fd_, POLLIN, 0}};
    for (auto& c : conns) fds.push_back({c.first, POLLIN, 0});
    if (poll(fds.data(), fds.size(), 50) <= 0) continue;  // wake up regularly to see stop_
    if (fds[0].revents & POLLIN) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof(from);
      ssize_t n =
          recvfrom(fd_, buf, storage.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n > 0) {
        for (const std::string& reply : Handle(buf, n, false)) {
          sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      int c = accept4(tcp_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) conns.emplace_back(c, std::string());
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& conn = conns[i - 2];
      if (!ServeTcp(conn.first, conn.second)) {
        close(conn.first);
        conn.first = -1;
      }
    }
    std::erase_if(conns, [](const auto& c) { return c.first < 0; });
  }
  for (auto& c : conns) close(c.first);
}

}  // namespace salvo::dns::testing
