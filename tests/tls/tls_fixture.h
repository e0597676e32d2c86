// TlsContextTest: a test certificate per suite, and a server context plus a
// client context that requires it, for the TLS tests that pair the two.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "engine/tls/tls_context.h"
#include "tests/tls/peer_process.h"

namespace salvo::testing {

class TlsContextTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() { certs_ = MakeTestCerts().release(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  void SetUp() override {
    auto server = TlsContext::Server({.cert_chain_file = certs_->cert, .key_file = certs_->key});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ctx_ = std::make_unique<TlsContext>(std::move(*server));
    auto client = TlsContext::Client({.verify = TlsVerify::kRequired, .ca_file = certs_->cert});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ctx_ = std::make_unique<TlsContext>(std::move(*client));
  }

  static inline TestCerts* certs_ = nullptr;
  std::unique_ptr<TlsContext> server_ctx_;
  std::unique_ptr<TlsContext> client_ctx_;
};

}  // namespace salvo::testing
