// Golden transcripts: tests/transcripts/smtp/<case>.in is sent to a fresh
// server over loopback in one write (so everything is pipelined), the
// client half-closes, and the server's replies must equal <case>.ref.
//
// .in syntax: each line is sent followed by CRLF; escapes \r \n \t \\ \xHH;
// a line ending in "\c" gets no CRLF; lines starting with "#!" are not
// sent: "#! text" is a comment, "#!option <name>[=value]" sets up the
// server (see ApplyOption). .ref: the replies with LF line endings, the
// queue id, host name and dates normalised.
// SALVO_UPDATE_TRANSCRIPTS=1 rewrites the .ref files (review the diff!).
#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/smtp_server/server_fixture.h"
#include "tests/support/transcript_files.h"

namespace salvo::smtp {
namespace {

using namespace std::chrono_literals;
using testing::RecordingSink;

const std::string kDir = SALVO_SOURCE_DIR "/tests/transcripts/smtp";

std::string ReadFile(const std::string& path) { return salvo::testing::ReadTranscriptFile(path); }
std::vector<std::string> ListCases() { return salvo::testing::ListTranscriptCases(kDir); }
std::string Unescape(std::string_view line, bool* crlf) {
  return salvo::testing::UnescapeTranscriptLine(line, crlf);
}

void ApplyOption(std::string_view opt, ServerOptions* o, RecordingSink* sink) {
  std::pair<std::string, std::string> kv = absl::StrSplit(ToAbsl(opt), absl::MaxSplits('=', 1));
  auto& [name, value] = kv;
  uint64_t n = 0;
  bool numeric = absl::SimpleAtoi(value, &n);
  if (name == "users") {
    o->credentials = *CredentialStore::Create({{"alice", *HashPassword("wonderland", 1000), ""}});
    o->allow_plaintext_auth = true;
  } else if (name == "require_auth") {
    o->require_auth = true;
  } else if (name == "max_message_size" && numeric) {
    o->limits.max_message_size = n;
  } else if (name == "max_recipients" && numeric) {
    o->limits.max_recipients = n;
  } else if (name == "max_errors" && numeric) {
    o->limits.max_errors = static_cast<int>(n);
  } else if (name == "max_command_line" && numeric) {
    o->limits.max_command_line = n;
  } else if (name == "bare_newline" && value == "normalize") {
    o->bare_newline = BareNewlinePolicy::kNormalize;
  } else if (name == "relay_network") {
    o->relay.relay_networks.push_back(*NetworkRange::Parse(value));
  } else if (name == "sink_fail" && value == "unavailable") {
    sink->set_fail_with(absl::UnavailableError("spool unavailable"));
  } else if (name == "sink_fail" && value == "resource_exhausted") {
    sink->set_fail_with(absl::ResourceExhaustedError("disk full"));
  } else {
    ADD_FAILURE() << "unknown option " << opt;
  }
}

// Length of an RFC 5322 date ("Sat, 22 Nov 2025 19:30:00 +0000") at `at`, or
// 0. Shape letters: A upper case, a lower case, 9 digit, ± sign.
size_t DateLength(std::string_view s, size_t at) {
  for (std::string_view shape :
       {"Aaa, 99 Aaa 9999 99:99:99 ±9999", "Aaa, 9 Aaa 9999 99:99:99 ±9999"}) {
    if (s.size() - at < shape.size()) continue;
    bool ok = true;
    size_t i = 0;
    for (size_t k = 0; ok && k < shape.size(); ++k, ++i) {
      char c = s[at + i];
      if (shape.substr(k, 2) == "±") {  // a two-byte UTF-8 character in `shape`
        ok = c == '+' || c == '-';
        ++k;
        continue;
      }
      char t = shape[k];
      ok = t == 'A'   ? absl::ascii_isupper(c)
           : t == 'a' ? absl::ascii_islower(c)
           : t == '9' ? absl::ascii_isdigit(c)
                      : c == t;
    }
    if (ok) return i;
  }
  return 0;
}

std::string Normalise(const std::string& raw, const std::string& hostname) {
  std::string out = absl::StrReplaceAll(raw, {{"\r\n", "\n"}, {hostname, "<hostname>"}});
  std::string result;
  static constexpr std::string_view kQueued = "queued as ";
  for (size_t i = 0; i < out.size();) {
    if (std::string_view(out).substr(i, kQueued.size()) == kQueued) {
      result += kQueued;
      result += "<queue-id>";
      i += kQueued.size();
      while (i < out.size() && out[i] != ' ' && out[i] != '\n') ++i;
    } else if (size_t n = DateLength(out, i)) {
      result += "<date>";
      i += n;
    } else {
      result += out[i++];
    }
  }
  return result;
}

TEST(TranscriptNormalise, QueueIdHostNameAndDates) {
  EXPECT_EQ(Normalise("250 2.0.0 Ok: queued as Q12\r\n220 mx.salvo.test ready; "
                      "Sat, 22 Nov 2025 19:30:00 +0000 and Mon, 1 Dec 2025 01:02:03 -0130\r\n",
                      "mx.salvo.test"),
            "250 2.0.0 Ok: queued as <queue-id>\n220 <hostname> ready; <date> and <date>\n");
}

class Transcript : public ::testing::TestWithParam<std::string> {};

TEST_P(Transcript, RepliesMatchTheReference) {
  std::string in_text = ReadFile(kDir + "/" + GetParam() + ".in");
  auto sink = std::make_shared<RecordingSink>();
  ServerOptions options = testing::TestOptions(sink);
  std::string wire;
  for (absl::string_view line : absl::StrSplit(in_text, '\n')) {
    std::string_view l = ToStd(line);
    if (l.rfind("#!option ", 0) == 0) {
      ApplyOption(l.substr(9), &options, sink.get());
      continue;
    }
    if (l.rfind("#!", 0) == 0) continue;
    bool crlf = true;
    wire += Unescape(l, &crlf);
    if (crlf) wire += "\r\n";
  }
  // The file's final newline is not a line of its own.
  if (wire.size() >= 2 && in_text.size() > 0 && in_text.back() == '\n')
    wire.resize(wire.size() - 2);
  testing::ServerThread server(options);
  testing::Client c;
  ASSERT_TRUE(c.Connect(server.port()));
  std::thread writer([&] {
    c.Send(wire);
    c.ShutdownWrite();
  });
  std::string got = Normalise(c.ReadAll(20s), options.hostname);
  writer.join();
  std::string ref_path = kDir + "/" + GetParam() + ".ref";
  if (getenv("SALVO_UPDATE_TRANSCRIPTS") != nullptr) {
    std::ofstream(ref_path, std::ios::binary) << got;
  }
  EXPECT_EQ(got, ReadFile(ref_path)) << "input: " << GetParam() << ".in";
}

INSTANTIATE_TEST_SUITE_P(Smtp, Transcript, ::testing::ValuesIn(ListCases()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace salvo::smtp
