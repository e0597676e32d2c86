// Real POP3 clients against the server on loopback, with a real
// queue::Mailbox behind it: Python's poplib (plain, STLS, implicit TLS,
// APOP), curl's pop3:// and pop3s:// (LIST, RETR, DELE), and fetchmail
// downloading the maildrop with --keep and without. Each client runs under
// timeout(1) so a hang fails the test instead of blocking the suite.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/pop3/pop3_fixture.h"

namespace salvo::pop3 {
namespace {

using namespace std::chrono_literals;
using testing::ServerThread;
using testing::TestCertificate;
using testing::TestMailbox;
using testing::TestOptions;

const std::string kPoplib = SALVO_SOURCE_DIR "/tests/pop3/poplib_client.py";

struct ShellResult {
  int status = -1;
  std::string out;
};

// Runs `command` through the shell; stdout is captured, stderr passes through.
ShellResult Shell(const std::string& command) {
  ShellResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool HaveTool(const std::string& tool) {
  return Shell("command -v " + tool + " >/dev/null 2>&1").status == 0;
}

std::string Message(int i) {
  return absl::StrCat(
      "From: mailer-daemon@example.net\r\nTo: bounces@salvo.test\r\nSubject: bounce ", i,
      "\r\n\r\nThe message could not be delivered.\r\n.leading dot\r\n");
}

nlohmann::json Poplib(int port, const std::string& args) {
  ShellResult r =
      Shell(fmt::format("timeout 60 /usr/bin/python3 {} --port {} {}", kPoplib, port, args));
  EXPECT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

TEST(Pop3Interop, PoplibPlainDownloadsAndDeletes) {
  TestMailbox mb;
  for (int i = 1; i <= 3; ++i) mb.Add(Message(i));
  ServerThread server(TestOptions(mb));
  nlohmann::json j = Poplib(server.port(), "--delete");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["stat"][0], 3);
  EXPECT_EQ(j["stat"][1], 3 * Message(1).size());
  ASSERT_EQ(j["messages"].size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(j["messages"][i], Message(i + 1));
  EXPECT_EQ(j["uidl"].size(), 3u);
  std::vector<std::string> capa = j["capa"];
  for (const char* c : {"TOP", "UIDL", "USER", "SASL", "PIPELINING", "RESP-CODES"}) {
    EXPECT_NE(std::find(capa.begin(), capa.end(), c), capa.end()) << c;
  }
  EXPECT_NE(std::string(j["quit"]).find("+OK"), std::string::npos);
  EXPECT_TRUE(mb.View().messages.empty());
}

TEST(Pop3Interop, PoplibStlsKeepsMessagesWithoutDele) {
  TestMailbox mb;
  TestCertificate cert;
  mb.Add(Message(1));
  Pop3Options o = TestOptions(mb);
  o.tls_mode = Pop3TlsMode::kStls;
  o.tls = cert.context;
  o.allow_plaintext_auth = false;  // logins only after STLS
  ServerThread server(o);
  nlohmann::json j = Poplib(server.port(), "--mode stls --cafile " + cert.cert);
  ASSERT_TRUE(j.is_object());
  std::vector<std::string> before = j["capa_before"], after = j["capa"];
  EXPECT_NE(std::find(before.begin(), before.end(), "STLS"), before.end());
  EXPECT_EQ(std::find(before.begin(), before.end(), "USER"), before.end());
  EXPECT_EQ(std::find(after.begin(), after.end(), "STLS"), after.end());
  EXPECT_NE(std::find(after.begin(), after.end(), "USER"), after.end());
  EXPECT_EQ(j["messages"][0], Message(1));
  EXPECT_EQ(j["top_lines"], 4);  // three header lines and the blank line
  mailbox::FolderView v = mb.View();
  ASSERT_EQ(v.messages.size(), 1u);
  EXPECT_EQ(v.messages[0].flags, mailbox::kSeen);
}

TEST(Pop3Interop, PoplibImplicitTlsAndApop) {
  TestMailbox mb;
  TestCertificate cert;
  mb.Add(Message(1));
  mb.Add(Message(2));
  Pop3Options o = TestOptions(mb, /*apop=*/true);
  o.tls_mode = Pop3TlsMode::kImplicit;
  o.tls = cert.context;
  ServerThread server(o);
  nlohmann::json j = Poplib(server.port(), "--mode pop3s --cafile " + cert.cert +
                                               " --user mrose --apop tanstaaf --delete");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["stat"][0], 2);
  EXPECT_EQ(j["messages"][1], Message(2));
  EXPECT_TRUE(mb.View().messages.empty());
}

TEST(Pop3Interop, CurlListsRetrievesAndDeletes) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl not installed";
  TestMailbox mb;
  mb.Add(Message(1));
  mb.Add(Message(2));
  ServerThread server(TestOptions(mb));
  std::string base =
      fmt::format("timeout 60 curl -sS --user alice:wonderland pop3://127.0.0.1:{}", server.port());
  ShellResult list = Shell(base + "/");
  EXPECT_EQ(list.status, 0);
  std::string size = std::to_string(Message(1).size());
  EXPECT_EQ(list.out, "1 " + size + "\r\n2 " + size + "\r\n");
  ShellResult retr = Shell(base + "/2");
  EXPECT_EQ(retr.status, 0);
  EXPECT_EQ(retr.out, Message(2));
  ShellResult dele = Shell(base + "/1 -X DELE -I");
  EXPECT_EQ(dele.status, 0);
  mailbox::FolderView v = mb.View();
  ASSERT_EQ(v.messages.size(), 1u);
  EXPECT_EQ(v.messages[0].flags, mailbox::kSeen);  // message 2, retrieved
}

TEST(Pop3Interop, CurlOverImplicitTlsAndStls) {
  if (!HaveTool("curl")) GTEST_SKIP() << "curl not installed";
  TestMailbox mb;
  TestCertificate cert;
  mb.Add(Message(1));
  Pop3Options o = TestOptions(mb);
  o.tls = cert.context;
  o.allow_plaintext_auth = false;
  o.tls_mode = Pop3TlsMode::kImplicit;
  ServerThread pop3s(o);
  o.tls_mode = Pop3TlsMode::kStls;
  ServerThread pop3(o);
  ShellResult retr = Shell(
      fmt::format("timeout 60 curl -sS --cacert {} --user alice:wonderland pop3s://localhost:{}/1",
                  cert.cert, pop3s.port()));
  EXPECT_EQ(retr.status, 0);
  EXPECT_EQ(retr.out, Message(1));
  ShellResult stls = Shell(fmt::format(
      "timeout 60 curl -sS --ssl-reqd --cacert {} --user alice:wonderland pop3://localhost:{}/",
      cert.cert, pop3.port()));
  EXPECT_EQ(stls.status, 0);
  EXPECT_EQ(stls.out, "1 " + std::to_string(Message(1).size()) + "\r\n");
  // Without TLS the server refuses to take the password.
  ShellResult plain = Shell(fmt::format(
      "timeout 60 curl -sS --user alice:wonderland pop3://127.0.0.1:{}/ 2>/dev/null", pop3.port()));
  EXPECT_NE(plain.status, 0);
}

// fetchmail downloads the maildrop over STLS (verifying the certificate)
// into a BSMTP file: first with --keep (the store is unchanged but for
// \Seen), then without (the store is emptied).
TEST(Pop3Interop, FetchmailKeepThenDownloadAndDelete) {
  if (!HaveTool("fetchmail")) GTEST_SKIP() << "fetchmail not installed (deploy/install-deps.sh)";
  TestMailbox mb;
  TestCertificate cert;
  for (int i = 1; i <= 3; ++i) mb.Add(Message(i));
  Pop3Options o = TestOptions(mb);
  o.tls_mode = Pop3TlsMode::kStls;
  o.tls = cert.context;
  ServerThread server(o);
  const std::string home = mb.dir();
  const std::string rc = home + "/fetchmailrc";
  std::ofstream(rc) << fmt::format(
      "set no syslog\n"
      "poll localhost protocol pop3 port {} timeout 30\n"
      "  user \"alice\" password \"wonderland\" is \"alice\" here\n"
      "  sslcertck sslcertfile \"{}\"\n",
      server.port(), cert.cert);
  ::chmod(rc.c_str(), 0600);
  auto fetch = [&](const std::string& extra, const std::string& out) {
    return Shell(fmt::format(
        "cd {0} && HOME={0} FETCHMAILHOME={0} timeout 90 fetchmail -f {1} -d0 --nosyslog "
        "--pidfile {0}/fetchmail.pid --bsmtp {2} {3} >{0}/fetchmail.log 2>&1; echo $?",
        home, rc, out, extra));
  };
  ShellResult keep = fetch("--keep --all", home + "/keep.bsmtp");
  EXPECT_EQ(keep.out, "0\n") << Shell("cat " + home + "/fetchmail.log").out;
  std::string kept = Shell("cat " + home + "/keep.bsmtp").out;
  EXPECT_EQ(Shell("grep -c '^Subject: bounce' " + home + "/keep.bsmtp").out, "3\n") << kept;
  mailbox::FolderView v = mb.View();
  ASSERT_EQ(v.messages.size(), 3u);
  EXPECT_EQ(v.messages[0].flags, mailbox::kSeen);

  ShellResult take = fetch("--all", home + "/take.bsmtp");
  EXPECT_EQ(take.out, "0\n") << Shell("cat " + home + "/fetchmail.log").out;
  EXPECT_EQ(Shell("grep -c '^Subject: bounce' " + home + "/take.bsmtp").out, "3\n");
  EXPECT_TRUE(mb.View().messages.empty());
  // Nothing left: fetchmail's exit status 1 means "no mail".
  ShellResult empty = fetch("--all", home + "/empty.bsmtp");
  EXPECT_EQ(empty.out, "1\n") << Shell("cat " + home + "/fetchmail.log").out;
}

}  // namespace
}  // namespace salvo::pop3
