// Self-signed certificate generation and TlsContext loading: the files
// OpenSSL's own tools accept, key permissions, and errors that name the file.
#include "engine/tls/self_signed.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/tls/tls_context.h"
#include "gtest/gtest.h"
#include "tests/tls/peer_process.h"

namespace salvo {
namespace {

using testing::TempDir;

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* f = ::popen((command + " 2>&1").c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  ::pclose(f);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t FileMode(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

TEST(SelfSigned, WritesPairOpenSslAcceptsWithNamesAndPrivateKeyMode) {
  TempDir dir;
  std::string cert = dir.File("c.pem"), key = dir.File("k.pem");
  ASSERT_TRUE(GenerateSelfSignedCertificate(cert, key, "localhost", 30).ok());
  EXPECT_EQ(FileMode(key), 0600);
  EXPECT_EQ(FileMode(cert), 0644);

  std::string text = RunCommand("openssl x509 -noout -text -in " + cert);
  EXPECT_NE(text.find("Subject: CN = localhost"), std::string::npos) << text;
  EXPECT_NE(text.find("DNS:localhost"), std::string::npos) << text;
  EXPECT_NE(text.find("IP Address:127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("IP Address:0:0:0:0:0:0:0:1"), std::string::npos) << text;
  EXPECT_NE(text.find("prime256v1"), std::string::npos) << text;
  // Its own CA file: verifies for its name, not for another.
  EXPECT_NE(RunCommand("openssl verify -CAfile " + cert + " -verify_hostname localhost " + cert)
                .find(": OK"),
            std::string::npos);
  EXPECT_EQ(RunCommand("openssl verify -CAfile " + cert + " -verify_hostname mx.example " + cert)
                .find(": OK"),
            std::string::npos);
  EXPECT_TRUE(TlsContext::Server({.cert_chain_file = cert, .key_file = key}).ok());
}

TEST(SelfSigned, HostNameGetsNoLoopbackAddressAndIpNameIsAnAddress) {
  TempDir dir;
  std::string cert = dir.File("c.pem"), key = dir.File("k.pem");
  ASSERT_TRUE(GenerateSelfSignedCertificate(cert, key, "mx1.salvo.test", 1).ok());
  std::string text = RunCommand("openssl x509 -noout -text -in " + cert);
  EXPECT_NE(text.find("DNS:mx1.salvo.test"), std::string::npos) << text;
  EXPECT_EQ(text.find("IP Address"), std::string::npos) << text;

  ASSERT_TRUE(GenerateSelfSignedCertificate(cert, key, "192.0.2.7", 1).ok());
  text = RunCommand("openssl x509 -noout -text -in " + cert);
  EXPECT_NE(text.find("IP Address:192.0.2.7"), std::string::npos) << text;
  EXPECT_EQ(text.find("DNS:"), std::string::npos) << text;
}

TEST(SelfSigned, RejectsBadArguments) {
  TempDir dir;
  EXPECT_TRUE(
      absl::IsInvalidArgument(GenerateSelfSignedCertificate(dir.File("c"), dir.File("k"), "", 30)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      GenerateSelfSignedCertificate(dir.File("c"), dir.File("k"), "localhost", 0)));
  absl::Status s =
      GenerateSelfSignedCertificate(dir.File("no/such/dir/c"), dir.File("k"), "localhost", 30);
  EXPECT_FALSE(s.ok());
}

TEST(EnsureSelfSigned, GeneratesOnlyWhenBothFilesAreMissing) {
  TempDir dir;
  std::string cert = dir.File("c.pem"), key = dir.File("k.pem");
  auto first = EnsureSelfSigned(cert, key, "localhost", 30);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  std::string cert_text = ReadFile(cert), key_text = ReadFile(key);

  auto second = EnsureSelfSigned(cert, key, "localhost", 30);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(*second);
  EXPECT_EQ(ReadFile(cert), cert_text);
  EXPECT_EQ(ReadFile(key), key_text);

  // A key without its certificate is the operator's: never overwritten.
  ASSERT_EQ(::unlink(cert.c_str()), 0);
  auto third = EnsureSelfSigned(cert, key, "localhost", 30);
  EXPECT_TRUE(absl::IsFailedPrecondition(third.status())) << third.status();
  EXPECT_NE(third.status().message().find(std::string(cert)), absl::string_view::npos);
  EXPECT_EQ(ReadFile(key), key_text);
}

TEST(TlsContext, ServerErrorsNameTheFile) {
  TempDir dir;
  std::string cert = dir.File("c.pem"), key = dir.File("k.pem");
  std::string other_cert = dir.File("o.pem"), other_key = dir.File("ok.pem");
  ASSERT_TRUE(GenerateSelfSignedCertificate(cert, key, "localhost", 30).ok());
  ASSERT_TRUE(GenerateSelfSignedCertificate(other_cert, other_key, "other", 30).ok());

  auto missing = TlsContext::Server({.cert_chain_file = dir.File("nope.pem"), .key_file = key});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.pem"), absl::string_view::npos)
      << missing.status();
  EXPECT_NE(missing.status().message().find("No such file"), absl::string_view::npos)
      << missing.status();

  auto not_a_key = TlsContext::Server({.cert_chain_file = cert, .key_file = cert});
  ASSERT_FALSE(not_a_key.ok());
  EXPECT_NE(not_a_key.status().message().find("private key " + cert), absl::string_view::npos)
      << not_a_key.status();

  auto mismatch = TlsContext::Server({.cert_chain_file = cert, .key_file = other_key});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find(other_key), absl::string_view::npos)
      << mismatch.status();
  EXPECT_NE(mismatch.status().message().find("mismatch"), absl::string_view::npos)
      << mismatch.status();

  EXPECT_TRUE(absl::IsInvalidArgument(TlsContext::Server({}).status()));
}

TEST(TlsContext, ClientCaFileErrorsNameTheFile) {
  TempDir dir;
  auto bad = TlsContext::Client({.verify = TlsVerify::kRequired, .ca_file = dir.File("ca.pem")});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(dir.File("ca.pem")), absl::string_view::npos)
      << bad.status();
  // The system store and "off" need no file.
  EXPECT_TRUE(TlsContext::Client({.verify = TlsVerify::kRequired}).ok());
  EXPECT_TRUE(TlsContext::Client({.verify = TlsVerify::kOff, .ca_file = "/nonexistent"}).ok());
}

}  // namespace
}  // namespace salvo
