// ServerThread<Server, Options>: one protocol server (SmtpServer,
// Pop3Server, ImapServer) on its own thread and Ring, accepting on an
// ephemeral port of 127.0.0.1, for tests that talk to it over loopback.
// The constructor returns once the port is known (port() is 0, with a test
// failure, if the ring or the listener could not be made); Stop() and the
// destructor ask the ring to stop and join the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "engine/loop/ring.h"
#include "engine/net/socket.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"

namespace salvo::testing {

// What the server tests share in their options: the listener's name and
// short auth-failure delays and linger, so that tests stay fast.
template <typename Options>
void ApplyTestTimings(Options& o) {
  o.listener_name = "test";
  o.limits.auth_failure_delay = std::chrono::milliseconds(10);
  o.limits.max_auth_failure_delay = std::chrono::milliseconds(50);
  o.timeouts.linger = std::chrono::milliseconds(200);
}

template <typename Server, typename Options>
class ServerThread {
 public:
  explicit ServerThread(Options options)
      : options_(std::make_shared<const Options>(std::move(options))) {
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
      Server server(options_);
      (*ring)->Run(server.Serve(std::move(*listener)));
      ring_ = nullptr;
    });
    port_ = ready.get();
    EXPECT_NE(port_, 0) << "server did not start";
  }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;
  ~ServerThread() { Stop(); }

  void Stop() {
    if (!thread_.joinable()) return;
    if (Ring* r = ring_.load()) r->RequestStop();
    thread_.join();
  }
  int port() const { return port_; }
  const Options& options() const { return *options_; }

 private:
  std::shared_ptr<const Options> options_;
  std::thread thread_;
  std::atomic<Ring*> ring_{nullptr};
  int port_ = 0;
};

}  // namespace salvo::testing
