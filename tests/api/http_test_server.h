// Test helpers: an HttpServer running on real shards (ShardSet) bound to an
// ephemeral loopback port, and a blocking raw-socket client for pipelining
// and hostile peers. Everything is bounded in time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "api/http/http_server.h"
#include "engine/loop/shard.h"

namespace salvo::testing {

class TestHttpServer {
 public:
  // Binds 127.0.0.1:0 (each shard its own SO_REUSEPORT listener on the same
  // port) and serves `router`. Stops and joins the shards on destruction.
  static std::unique_ptr<TestHttpServer> Start(HttpServerOptions options, HttpRouter router,
                                               int shards = 1);
  ~TestHttpServer();

  int port() const { return port_; }
  std::string Url(std::string_view path, bool https = false) const;
  const HttpServer& server() const { return *server_; }
  // Asks every shard to stop and waits for them.
  void Stop();

 private:
  TestHttpServer() = default;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<ShardSet> shards_;
  int port_ = 0;
};

// A blocking TCP client with a receive timeout, for raw protocol tests.
class RawClient {
 public:
  explicit RawClient(int port);
  ~RawClient();
  bool connected() const { return fd_ >= 0; }
  bool Send(std::string_view data);
  // Reads until the peer closes or `timeout` passes; `closed` tells which.
  std::string ReadUntilClose(std::chrono::milliseconds timeout, bool* closed = nullptr);
  // Reads until `n` complete responses (by Content-Length) have arrived.
  std::string ReadResponses(int n, std::chrono::milliseconds timeout);
  void ShutdownWrite();
  // Sends every byte in its own TCP segment, pausing between them.
  bool SendByteByByte(std::string_view data, std::chrono::microseconds pause);

 private:
  int fd_ = -1;
};

// The number of times `needle` occurs in `haystack`.
int Count(std::string_view haystack, std::string_view needle);

}  // namespace salvo::testing
