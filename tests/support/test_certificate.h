// Scratch directories and a TLS server certificate for tests: TempDir makes
// a fresh directory under the system temporary directory; TestCertificate
// writes a self-signed certificate for "localhost" (and 127.0.0.1) into one,
// builds a server TlsContext from it, and removes the directory when it goes.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "engine/tls/self_signed.h"
#include "engine/tls/tls_context.h"
#include "gtest/gtest.h"

namespace salvo::testing {

// A new directory named salvo-<what>-XXXXXX; the caller removes it.
inline std::string TempDir(std::string_view what) {
  std::string name = "salvo-" + std::string(what) + "-XXXXXX";
  std::string tmpl = (std::filesystem::temp_directory_path() / name).string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

struct TestCertificate {
  explicit TestCertificate(std::string_view what = "cert") : dir(TempDir(what)) {
    auto st = GenerateSelfSignedCertificate(cert, key, "localhost", 2);
    EXPECT_TRUE(st.ok()) << st;
    auto ctx = TlsContext::Server({cert, key});
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    if (ctx.ok()) context = std::make_shared<TlsContext>(std::move(*ctx));
  }
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;
  ~TestCertificate() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string dir;
  std::string cert = dir + "/cert.pem";
  std::string key = dir + "/key.pem";
  std::shared_ptr<TlsContext> context;
};

}  // namespace salvo::testing
