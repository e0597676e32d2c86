// `salvo dkim keygen`: the key file (mode 0600, never overwritten), the TXT
// record printed, and that a signer loading that file produces signatures
// python3-dkim verifies against that very record.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "cmd/dkim_command.h"
#include "engine/dkim/dkim_signer.h"
#include "tests/dkim/verifier.h"

namespace salvo {
namespace {

struct CommandRun {
  int code;
  std::string out;
  std::string err;
};

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

CommandRun Dkim(std::vector<std::string_view> args) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  int code = RunDkim(args, out, err);
  return {code, ReadAll(out), ReadAll(err)};
}

// The quoted strings of a zone line, in order.
std::vector<std::string> QuotedStrings(const std::string& line) {
  std::vector<std::string> out;
  size_t open = 0;
  while ((open = line.find('"', open)) != std::string::npos) {
    size_t close = line.find('"', open + 1);
    if (close == std::string::npos) break;
    out.push_back(line.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return out;
}

class KeygenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/salvo-keygen-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(KeygenTest, RsaAndEd25519KeysVerify) {
  std::string out_dir = dir_ + "/keys";
  for (const char* type : {"rsa", "ed25519"}) {
    std::string selector = std::string("k") + type;
    CommandRun r = Dkim({"dkim", "keygen", "--domain", "example.com", "--selector", selector,
                         "--type", type, "--out", out_dir});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.starts_with(selector + "._domainkey.example.com. IN TXT (")) << r.out;
    std::string txt;
    for (const std::string& piece : QuotedStrings(r.out)) {
      EXPECT_LE(piece.size(), 255u) << "TXT string over 255 octets";
      txt += piece;
    }
    EXPECT_TRUE(txt.starts_with(std::string("v=DKIM1; k=") + type + "; p=")) << txt;
    EXPECT_NE(r.err.find("[[dkim.key]]"), std::string::npos);

    std::string path = out_dir + "/example.com." + selector + ".pem";
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    dkim::DkimSignerOptions o;
    o.keys.push_back({"example.com", selector, path, "", std::nullopt});
    auto signer = dkim::DkimSigner::Create(std::move(o));
    ASSERT_TRUE(signer.ok()) << signer.status();
    std::string m = "From: a@example.com\r\nSubject: keygen\r\n\r\nhello\r\n";
    auto sig = (*signer)->Sign(m);
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_EQ(dkim::testing::Verify(*sig + m, {{selector + "._domainkey.example.com.", txt}}),
              std::vector<bool>{true})
        << type;
  }
}

TEST_F(KeygenTest, RefusesToOverwriteAndBadUsage) {
  std::vector<std::string_view> args = {"dkim", "keygen", "--domain", "example.com", "--selector",
                                        "s1",   "--type", "ed25519",  "--out",       dir_};
  ASSERT_EQ(Dkim(args).code, 0);
  CommandRun again = Dkim(args);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("File exists"), std::string::npos) << again.err;

  EXPECT_EQ(Dkim({"dkim"}).code, 2);
  EXPECT_EQ(Dkim({"dkim", "keygen", "--selector", "s", "--out", dir_}).code, 2);
  EXPECT_EQ(Dkim({"dkim", "keygen", "--domain", "a b", "--selector", "s", "--out", dir_}).code, 2);
  EXPECT_EQ(Dkim({"dkim", "keygen", "--domain", "x.org", "--selector", "s", "--type", "dsa",
                  "--out", dir_})
                .code,
            2);
  EXPECT_EQ(Dkim({"dkim", "keygen", "--domain", "x.org", "--selector", "s"}).code, 2);
}

}  // namespace
}  // namespace salvo
