// Real IMAP clients against the server on loopback, over a real bounce
// mailbox: Python's imaplib (plain, STARTTLS, implicit TLS, IDLE while a
// bounce is filed), curl's imap://, and mbsync (isync) syncing the mailbox
// into a local Maildir.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/imap/imap_fixture.h"

namespace salvo::imap {
namespace {

using namespace std::chrono_literals;
using testing::ServerThread;
using testing::TestMailbox;
using testing::TestOptions;

const std::string kScript = SALVO_SOURCE_DIR "/tests/imap/imaplib_client.py";

// Runs a shell command (bounded by `timeout`), returning its exit status and
// stdout+stderr.
std::pair<int, std::string> RunTool(const std::string& command, int timeout_s = 60) {
  std::string full = "timeout " + std::to_string(timeout_s) + " " + command + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

bool HaveTool(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 3; ++i) box_.Deliver(i);
    box_.Deliver(4, "Soft", "mailbox-full", "autumn");
  }
  TestMailbox box_;
  testing::TestCertificate cert_;
};

TEST_F(InteropTest, ImaplibPlain) {
  ServerThread server(TestOptions(box_.store()));
  auto [rc, out] =
      RunTool("/usr/bin/python3 " + kScript + " plain " + std::to_string(server.port()));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("ALL OK"), std::string::npos) << out;
}

TEST_F(InteropTest, ImaplibStartTls) {
  ImapOptions o = TestOptions(box_.store());
  o.allow_plaintext_auth = false;
  o.tls = cert_.context;
  ServerThread server(std::move(o));
  auto [rc, out] = RunTool("/usr/bin/python3 " + kScript + " starttls " +
                           std::to_string(server.port()) + " " + cert_.cert);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("ALL OK"), std::string::npos) << out;
}

TEST_F(InteropTest, ImaplibImplicitTls) {
  ImapOptions o = TestOptions(box_.store());
  o.allow_plaintext_auth = false;
  o.tls_mode = ImapTlsMode::kImplicit;
  o.tls = cert_.context;
  ServerThread server(std::move(o));
  auto [rc, out] = RunTool("/usr/bin/python3 " + kScript + " tls " + std::to_string(server.port()) +
                           " " + cert_.cert);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("ALL OK"), std::string::npos) << out;
}

// Runs the script's IDLE mode and files a bounce once it is idling.
void IdleWhileFiling(TestMailbox& box, const std::string& args) {
  FILE* p = popen(("timeout 60 /usr/bin/python3 " + kScript + " " + args + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  // The script prints IDLING once the server said "+ idling".
  std::string out;
  char line[4096];
  while (fgets(line, sizeof line, p) != nullptr) {
    out += line;
    if (out.find("IDLING") != std::string::npos) break;
  }
  box.Deliver(5);
  while (fgets(line, sizeof line, p) != nullptr) out += line;
  int st = pclose(p);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << out;
  EXPECT_NE(out.find("PUSHED 4 EXISTS"), std::string::npos) << out;
}

TEST_F(InteropTest, ImaplibIdleSeesABounceFiledMeanwhile) {
  ServerThread server(TestOptions(box_.store()));
  IdleWhileFiling(box_, "idle " + std::to_string(server.port()));
}

TEST_F(InteropTest, ImaplibIdleOverImplicitTls) {
  ImapOptions o = TestOptions(box_.store());
  o.tls_mode = ImapTlsMode::kImplicit;
  o.tls = cert_.context;
  ServerThread server(std::move(o));
  IdleWhileFiling(box_, "idle-tls " + std::to_string(server.port()) + " " + cert_.cert);
}

TEST_F(InteropTest, CurlImap) {
  if (!HaveTool("/usr/bin/curl")) GTEST_SKIP() << "curl not installed";
  ServerThread server(TestOptions(box_.store()));
  std::string base = "imap://127.0.0.1:" + std::to_string(server.port());
  auto [rc, out] = RunTool("/usr/bin/curl -sS -u bounces:secret '" + base + "/'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"/\" Hard"), std::string::npos) << out;
  std::tie(rc, out) = RunTool("/usr/bin/curl -sS -u bounces:secret '" + base + "/Hard;UID=2'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Subject: Undelivered Mail Returned to Sender 2"), std::string::npos) << out;
  std::tie(rc, out) = RunTool("/usr/bin/curl -sS -u bounces:secret '" + base +
                              "/INBOX?HEADER%20X-Salvo-Campaign%20autumn'");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("* SEARCH 4"), std::string::npos) << out;
}

TEST_F(InteropTest, MbsyncSyncsTheMailbox) {
  if (!HaveTool("/usr/bin/mbsync")) GTEST_SKIP() << "isync (mbsync) not installed";
  ServerThread server(TestOptions(box_.store()));
  std::string dir = testing::TempDir("imap-mbsync");
  std::filesystem::create_directories(dir + "/mail");
  std::string rc_path = dir + "/mbsyncrc";
  std::ofstream(rc_path) << "IMAPAccount salvo\n"
                            "Host 127.0.0.1\n"
                            "Port "
                         << server.port()
                         << "\n"
                            "User bounces\n"
                            "Pass secret\n"
                            "SSLType None\n"
                            "AuthMechs LOGIN\n"
                            "\n"
                            "IMAPStore remote\n"
                            "Account salvo\n"
                            "\n"
                            "MaildirStore local\n"
                            "Path "
                         << dir
                         << "/mail/\n"
                            "Inbox "
                         << dir
                         << "/mail/INBOX\n"
                            "SubFolders Verbatim\n"
                            "\n"
                            "Channel bounces\n"
                            "Far :remote:\n"
                            "Near :local:\n"
                            "Patterns *\n"
                            "Create Near\n"
                            "Sync Pull\n"
                            "SyncState *\n";
  auto [rc, out] = RunTool("/usr/bin/mbsync -c " + rc_path + " -a");
  EXPECT_EQ(rc, 0) << out;
  auto [r2, listing] =
      RunTool("find " + dir + "/mail -type f -path '*/new/*' -o -type f -path '*/cur/*'");
  (void)r2;
  size_t files = std::count(listing.begin(), listing.end(), '\n');
  EXPECT_EQ(files, 8u) << out << listing;  // 4 in INBOX, 3 in Hard, 1 in Soft
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace salvo::imap
