// Golden transcripts: tests/transcripts/imap/<case>.in is sent to a fresh
// server (over a fresh mailbox) on loopback in one write, so everything is
// pipelined; the client half-closes and the server's responses must equal
// <case>.ref.
//
// .in syntax: each line is sent followed by CRLF; escapes \r \n \t \\ \xHH;
// a line ending in "\c" gets no CRLF; lines starting with "#!" are not sent:
// "#! text" is a comment, "#!option <name>[=value]" sets up the server:
// bounces=N (N bounces filed into INBOX and Hard before the server starts),
// max_line=N, max_literal=N, max_bad=N, no_plaintext_auth.
// .ref: the responses with LF line endings; UIDVALIDITY values are
// normalised to <uidvalidity>.
// SALVO_UPDATE_TRANSCRIPTS=1 rewrites the .ref files (review the diff!).
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"
#include "gtest/gtest.h"
#include "tests/imap/imap_fixture.h"
#include "tests/support/transcript_files.h"

namespace salvo::imap {
namespace {

using namespace std::chrono_literals;

const std::string kDir = SALVO_SOURCE_DIR "/tests/transcripts/imap";

std::string ReadFile(const std::string& path) { return salvo::testing::ReadTranscriptFile(path); }
std::vector<std::string> ListCases() { return salvo::testing::ListTranscriptCases(kDir); }
std::string Unescape(std::string_view line, bool* crlf) {
  return salvo::testing::UnescapeTranscriptLine(line, crlf, salvo::testing::UnknownEscape::kKeep);
}

std::string Normalize(std::string text) {
  text = absl::StrReplaceAll(text, {{"\r\n", "\n"}});
  text = std::regex_replace(text, std::regex("UIDVALIDITY \\d+"), "UIDVALIDITY <uidvalidity>");
  text = std::regex_replace(text, std::regex("(APPENDUID|COPYUID) \\d+"), "$1 <uidvalidity>");
  return text;
}

class TranscriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TranscriptTest, MatchesReference) {
  const std::string name = GetParam();
  std::string in = ReadFile(kDir + "/" + name + ".in");
  testing::TestMailbox box;
  ImapOptions o = testing::TestOptions(box.store());
  std::string wire;
  for (absl::string_view raw : absl::StrSplit(in, '\n')) {
    std::string_view line = ToStd(raw);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("#!option ", 0) == 0) {
      std::string opt(line.substr(9));
      std::string key = opt.substr(0, opt.find('='));
      std::string value = opt.find('=') == std::string::npos ? "" : opt.substr(opt.find('=') + 1);
      size_t n = 0;
      (void)absl::SimpleAtoi(value, &n);
      if (key == "bounces") {
        for (size_t i = 1; i <= n; ++i) box.Deliver(static_cast<int>(i));
      } else if (key == "max_line") {
        o.limits.max_line = n;
      } else if (key == "max_literal") {
        o.limits.max_literal = n;
      } else if (key == "max_bad") {
        o.limits.max_bad_commands = static_cast<int>(n);
      } else if (key == "no_plaintext_auth") {
        o.allow_plaintext_auth = false;
      } else {
        ADD_FAILURE() << "unknown option " << key;
      }
      continue;
    }
    if (line.rfind("#!", 0) == 0) continue;
    if (line.empty() && raw.data() + raw.size() == in.data() + in.size()) break;
    bool crlf = true;
    wire += Unescape(line, &crlf);
    if (crlf) wire += "\r\n";
  }
  testing::ServerThread server(std::move(o));
  testing::Client client;
  ASSERT_TRUE(client.Connect(server.port()));
  ASSERT_TRUE(client.Send(wire));
  client.ShutdownWrite();
  std::string got = Normalize(client.ReadAll(20s));
  const std::string ref_path = kDir + "/" + name + ".ref";
  if (getenv("SALVO_UPDATE_TRANSCRIPTS")) {
    std::ofstream(ref_path, std::ios::binary) << got;
    GTEST_SKIP() << "updated " << ref_path;
  }
  EXPECT_EQ(got, ReadFile(ref_path)) << name;
}

INSTANTIATE_TEST_SUITE_P(Imap, TranscriptTest, ::testing::ValuesIn(ListCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace salvo::imap
