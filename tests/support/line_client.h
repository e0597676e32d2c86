// LineClient: the blocking loopback client that the protocol server tests
// (SMTP, POP3, IMAP) drive from the test thread. It connects to
// 127.0.0.1:<port> with TCP_NODELAY, sends whole buffers and reads CRLF (or
// bare LF) terminated lines; every read is bounded by a timeout, so no test
// hangs on a silent server. Each protocol's fixture derives from it and adds
// the reads its replies need (SMTP replies, POP3 bodies, tagged IMAP answers).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace salvo::testing {

class LineClient {
 public:
  LineClient() = default;
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;
  ~LineClient() { Close(); }

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

  // The next line without CRLF; "" with closed() on close, "" on timeout.
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::optional<std::string> line = NextLine(Clock::now() + timeout);
    return line ? std::move(*line) : std::string();
  }
  // Everything until the server closes (or the timeout).
  std::string ReadAll(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = Clock::now() + timeout;
    while (Fill(deadline)) {
    }
    return std::exchange(buf_, std::string());
  }
  bool closed() const { return eof_; }

 protected:
  using Clock = std::chrono::steady_clock;

  // The next line from the connection, without its line end (or with it
  // when `keep_line_end`); nullopt once the server closed or `deadline`
  // passed with no whole line buffered.
  std::optional<std::string> NextLine(Clock::time_point deadline, bool keep_line_end = false) {
    for (;;) {
      size_t lf = buf_.find('\n');
      if (lf != std::string::npos) {
        std::string line = buf_.substr(0, keep_line_end ? lf + 1 : lf);
        buf_.erase(0, lf + 1);
        if (!keep_line_end && !line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (!Fill(deadline)) return std::nullopt;
    }
  }

 private:
  // Reads what arrives before `deadline` into buf_; false on timeout or close.
  bool Fill(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
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

}  // namespace salvo::testing
