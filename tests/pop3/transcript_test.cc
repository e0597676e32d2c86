// Golden transcripts: tests/transcripts/pop3/<case>.in is sent to a fresh
// server (with a fresh real mailbox) over loopback in one write after the
// greeting (so everything is pipelined), the client half-closes, and the
// server's replies must equal <case>.ref.
//
// .in syntax: each line is sent followed by CRLF; escapes \r \n \t \\ \xHH;
// a line ending in "\c" gets no CRLF; "{apop:<secret>}" is replaced by the
// APOP digest of the greeting's timestamp with that secret. Lines starting
// with "#!" are not sent: "#! text" is a comment, "#!message <text>" adds a
// message (same escapes) to the maildrop before the session, "#!option <name>[=v]"
// sets up the server (see ApplyOption). .ref: the replies with LF line
// endings; the host name, the APOP timestamp and the UIDVALIDITY normalised.
// SALVO_UPDATE_TRANSCRIPTS=1 rewrites the .ref files (review the diff!).
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"
#include "engine/pop3/apop.h"
#include "tests/pop3/pop3_fixture.h"
#include "tests/support/transcript_files.h"

namespace salvo::pop3 {
namespace {

using namespace std::chrono_literals;

const std::string kDir = SALVO_SOURCE_DIR "/tests/transcripts/pop3";

std::string ReadFile(const std::string& path) { return salvo::testing::ReadTranscriptFile(path); }
std::vector<std::string> ListCases() { return salvo::testing::ListTranscriptCases(kDir); }
std::string Unescape(std::string_view line, bool* crlf) {
  return salvo::testing::UnescapeTranscriptLine(line, crlf);
}

// Replaces every "{apop:<secret>}" with the digest for `timestamp`.
std::string SubstituteApop(std::string wire, const std::string& timestamp) {
  for (size_t at; (at = wire.find("{apop:")) != std::string::npos;) {
    size_t end = wire.find('}', at);
    if (end == std::string::npos) break;
    std::string secret = wire.substr(at + 6, end - at - 6);
    wire.replace(at, end - at + 1, ApopDigest(timestamp, secret));
  }
  return wire;
}

void ApplyOption(std::string_view opt, Pop3Options* o, bool* apop) {
  std::pair<std::string, std::string> kv = absl::StrSplit(ToAbsl(opt), absl::MaxSplits('=', 1));
  auto& [name, value] = kv;
  int n = 0;
  bool numeric = absl::SimpleAtoi(value, &n);
  if (name == "apop") {
    *apop = true;
  } else if (name == "keep") {
    o->keep_messages = true;
  } else if (name == "no_plaintext_auth") {
    o->allow_plaintext_auth = false;
  } else if (name == "max_errors" && numeric) {
    o->limits.max_errors = n;
  } else {
    ADD_FAILURE() << "unknown option " << opt;
  }
}

std::string Normalise(const std::string& raw, const std::string& hostname, uint32_t validity) {
  std::string out = absl::StrReplaceAll(
      raw, {{"\r\n", "\n"}, {hostname, "<hostname>"}, {std::to_string(validity) + ".", "<uv>."}});
  // The APOP timestamp "<pid.nonce.time@<hostname>>".
  for (size_t at = 0; (at = out.find("@<hostname>>", at)) != std::string::npos;) {
    size_t lt = out.rfind('<', at);
    out.replace(lt, at + 12 - lt, "<timestamp>");
    at = lt + 11;
  }
  return out;
}

class Transcript : public ::testing::TestWithParam<std::string> {};

TEST_P(Transcript, RepliesMatchTheReference) {
  std::string in_text = ReadFile(kDir + "/" + GetParam() + ".in");
  testing::TestMailbox mb;
  Pop3Options options = testing::TestOptions(mb);
  bool apop = false;
  std::string wire;
  for (absl::string_view line : absl::StrSplit(in_text, '\n')) {
    std::string_view l = ToStd(line);
    bool crlf = true;
    if (l.rfind("#!option ", 0) == 0) {
      ApplyOption(l.substr(9), &options, &apop);
    } else if (l.rfind("#!message ", 0) == 0) {
      mb.Add(Unescape(l.substr(10), &crlf));
    } else if (l.rfind("#!", 0) != 0) {
      wire += Unescape(l, &crlf);
      if (crlf) wire += "\r\n";
    }
  }
  // The file's final newline is not a line of its own.
  if (wire.size() >= 2 && !in_text.empty() && in_text.back() == '\n') wire.resize(wire.size() - 2);
  if (apop) options.apop = std::make_shared<ApopSecrets>(testing::TestUsers());
  testing::ServerThread server(options);
  testing::Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  std::string greeting = c.ReadLine();
  size_t lt = greeting.find('<');
  wire = SubstituteApop(wire, lt == std::string::npos ? "" : greeting.substr(lt));
  std::thread writer([&] {
    c.Send(wire);
    c.ShutdownWrite();
  });
  std::string got =
      Normalise(greeting + "\r\n" + c.ReadAll(20s), options.hostname, mb.uid_validity());
  writer.join();
  std::string ref_path = kDir + "/" + GetParam() + ".ref";
  if (getenv("SALVO_UPDATE_TRANSCRIPTS") != nullptr) {
    std::ofstream(ref_path, std::ios::binary) << got;
  }
  EXPECT_EQ(got, ReadFile(ref_path)) << "input: " << GetParam() << ".in";
}

INSTANTIATE_TEST_SUITE_P(Pop3, Transcript, ::testing::ValuesIn(ListCases()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace salvo::pop3
