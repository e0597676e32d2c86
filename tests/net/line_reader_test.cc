// LineReader over real loopback sockets: lines split at every byte position,
// a peer that sends one byte per send, line endings (CRLF, bare LF, bare CR),
// NUL and 8-bit bytes, pipelining, ReadExactly mixed with ReadLine, end of
// stream between and inside lines, and the line-length limit.
#include "engine/net/line_reader.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"
#include "tests/net/net_fixture.h"

namespace salvo {
namespace {

using namespace std::chrono_literals;

using testing::Bytes;
using testing::ConnectedPair;
using testing::CountingStream;
using testing::RunOnRing;
using testing::SendAll;
using testing::SendInLockstep;

// What a reader saw: the lines it returned, then the status that ended it.
struct Transcript {
  std::vector<std::string> lines;
  absl::Status end;
  size_t reads = 0;  // ReadSome calls that returned data or end of stream
};

// Reads lines until an error (end of stream included).
Task<void> ReadAllLines(LineReader& reader, Transcript* out, size_t max_lines = 1000) {
  for (size_t i = 0; i < max_lines; ++i) {
    auto line = co_await reader.ReadLine(After(5s));
    if (!line.ok()) {
      out->end = line.status();
      co_return;
    }
    out->lines.emplace_back(*line);
  }
}

// Sends `chunks` in lockstep with the reader, then closes the sending side,
// and returns what a LineReader (limit `max_line`) made of it.
Transcript ReadChunks(std::vector<std::string> chunks, size_t max_line = 1000) {
  Transcript t;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    CountingStream seen(&pair->server);
    LineReader reader(&seen, max_line);
    absl::Status sent;
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      sent = co_await SendInLockstep(pair->client, seen, chunks, After(5s));
      co_await pair->client.ShutdownWrite(After(1s));
    });
    co_await ReadAllLines(reader, &t);
    co_await peers.Join();
    t.reads = seen.reads();
    EXPECT_TRUE(sent.ok()) << sent;
  }());
  return t;
}

TEST(LineReader, LinesSplitAtEveryBytePosition) {
  const std::string input = "EHLO mx.example.org\r\nMAIL FROM:<bounce@example.net>\r\n";
  for (size_t split = 1; split < input.size(); ++split) {
    SCOPED_TRACE(split);
    Transcript t = ReadChunks({input.substr(0, split), input.substr(split)});
    EXPECT_EQ(t.lines,
              (std::vector<std::string>{"EHLO mx.example.org", "MAIL FROM:<bounce@example.net>"}));
    EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
    EXPECT_EQ(t.reads, 3u);  // two chunks, then the end of stream
  }
}

TEST(LineReader, PeerSendingOneBytePerSend) {
  const std::string input =
      "RCPT TO:<a@example.com>\r\n"
      "\r\n"
      "bare LF\n"
      "CR\rinside\r\n"
      "x\n";
  Transcript t = ReadChunks(Bytes(input));
  EXPECT_EQ(t.lines, (std::vector<std::string>{"RCPT TO:<a@example.com>", "", "bare LF",
                                               "CR\rinside", "x"}));
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
  EXPECT_EQ(t.reads, input.size() + 1);  // one read per byte, proving the lockstep
}

TEST(LineReader, CrlfAndBareLfEndLinesAndOnlyOneCrIsStripped) {
  Transcript t = ReadChunks({"crlf\r\nlf\ntwo-cr\r\r\n\r\n\n"});
  EXPECT_EQ(t.lines, (std::vector<std::string>{"crlf", "lf", "two-cr\r", "", ""}));
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, BareCrIsPartOfTheLine) {
  Transcript t = ReadChunks({"DATA\r", "more\r", "\n", "\rlead\r\n"});
  EXPECT_EQ(t.lines, (std::vector<std::string>{"DATA\rmore", "\rlead"}));
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, NulAndEightBitBytesPassThrough) {
  std::string line1("a\0b", 3);
  std::string line2 = "caf\xc3\xa9 \xff\xfe\x80";
  std::string all;
  for (int c = 0; c < 256; ++c) {
    if (c != '\n') all.push_back(static_cast<char>(c));
  }
  all.pop_back();  // 0xff last would be fine; drop it so the line does not end in CR
  Transcript t = ReadChunks(Bytes(line1 + "\r\n" + line2 + "\n" + all + "\r\n"));
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(t.lines[0], line1);
  EXPECT_EQ(t.lines[1], line2);
  EXPECT_EQ(t.lines[2], all);
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, PipelinedLinesInOneSegmentNeedOneRead) {
  std::string input;
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    expected.push_back("RCPT TO:<user" + std::to_string(i) + "@example.com>");
    input += expected.back() + "\r\n";
  }
  ASSERT_LT(input.size(), 16384u);  // one provided receive buffer
  Transcript t = ReadChunks({input});
  EXPECT_EQ(t.lines, expected);
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
  EXPECT_EQ(t.reads, 2u);  // the segment, then the end of stream
}

TEST(LineReader, BufferedReportsPipelinedBytes) {
  RunOnRing([]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    LineReader reader(&pair->server, 100);
    CO_ASSERT_OK(co_await SendAll(pair->client, "STARTTLS\r\nEHLO evil\r\n", After(5s)));
    auto line = co_await reader.ReadLine(After(5s));
    CO_ASSERT_OK(line);
    EXPECT_EQ(*line, "STARTTLS");
    // A session must refuse to switch to TLS with plaintext pipelined behind.
    EXPECT_EQ(reader.buffered(), 11u);
    EXPECT_EQ(reader.buffered_data(), "EHLO evil\r\n");
    reader.Clear();
    EXPECT_EQ(reader.buffered(), 0u);
  }());
}

// Line, 12 exact bytes, line, 3 exact bytes, line, 0 bytes; stops at the
// first error.
Task<void> ReadBdatTranscript(LineReader& reader, std::vector<std::string>* got) {
  auto line = co_await reader.ReadLine(After(5s));
  if (!line.ok()) co_return;
  got->emplace_back(*line);
  for (size_t n = 12; n > 0; n = n == 12 ? 3 : 0) {  // 12 bytes, then 3
    auto chunk = co_await reader.ReadExactly(n, After(5s));
    if (!chunk.ok()) co_return;
    got->emplace_back(*chunk);
    line = co_await reader.ReadLine(After(5s));
    if (!line.ok()) co_return;
    got->emplace_back(*line);
  }
  auto empty = co_await reader.ReadExactly(0, After(5s));
  if (empty.ok()) got->emplace_back(*empty);
}

// SMTP BDAT / IMAP literal style: a line, exact bytes (which may hold line
// endings), a line again, with the boundaries falling anywhere.
TEST(LineReader, ReadExactlyMixedWithReadLine) {
  const std::string input = "BDAT 12\r\nline1\r\nline\nBDAT 3 LAST\r\n\r\n.QUIT\r\n";
  for (size_t split = 1; split < input.size(); ++split) {
    SCOPED_TRACE(split);
    std::vector<std::string> got;
    RunOnRing([&]() -> Task<void> {
      auto pair = co_await ConnectedPair();
      CO_ASSERT_OK(pair);
      CountingStream seen(&pair->server);
      LineReader reader(&seen, 100);
      testing::Peers peers;
      std::vector<std::string> chunks = {input.substr(0, split), input.substr(split)};
      peers.SpawnCall([&]() -> Task<void> {
        (void)co_await SendInLockstep(pair->client, seen, chunks, After(5s));
      });
      co_await ReadBdatTranscript(reader, &got);
      co_await peers.Join();
    }());
    EXPECT_EQ(got, (std::vector<std::string>{"BDAT 12", "line1\r\nline\n", "BDAT 3 LAST", "\r\n.",
                                             "QUIT", ""}));
  }
}

TEST(LineReader, EndOfStreamBetweenLinesIsEndOfStream) {
  Transcript t = ReadChunks({"QUIT\r\n"});
  EXPECT_EQ(t.lines, std::vector<std::string>{"QUIT"});
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, EndOfStreamMidLineIsAnErrorNotEndOfStream) {
  Transcript t = ReadChunks({"HELO a\r\nMAIL FR"});
  EXPECT_EQ(t.lines, std::vector<std::string>{"HELO a"});
  EXPECT_TRUE(absl::IsOutOfRange(t.end)) << t.end;
  EXPECT_FALSE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, EndOfStreamMidReadExactlyIsAnError) {
  absl::Status end;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    LineReader reader(&pair->server, 100);
    CO_ASSERT_OK(co_await SendAll(pair->client, "only five", After(5s)));
    CO_ASSERT_OK(co_await pair->client.ShutdownWrite(After(1s)));
    end = (co_await reader.ReadExactly(100, After(5s))).status();
  }());
  EXPECT_TRUE(absl::IsOutOfRange(end)) << end;
  EXPECT_FALSE(IsEndOfStream(end)) << end;
}

TEST(LineReader, LineOfExactlyTheLimitIsAccepted) {
  const std::string at_limit(64, 'a');
  for (const auto& chunks : {std::vector<std::string>{at_limit + "\r\n"}, Bytes(at_limit + "\r\n"),
                             Bytes(at_limit + "\n")}) {
    Transcript t = ReadChunks(chunks, 64);
    EXPECT_EQ(t.lines, std::vector<std::string>{at_limit});
    EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
  }
}

// Reads lines, recording ResourceExhausted as "<too long>" and carrying on.
Transcript ReadChunksThroughLongLines(std::vector<std::string> chunks, size_t max_line) {
  Transcript t;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    CountingStream seen(&pair->server);
    LineReader reader(&seen, max_line);
    testing::Peers peers;
    peers.SpawnCall([&]() -> Task<void> {
      (void)co_await SendInLockstep(pair->client, seen, chunks, After(5s));
      co_await pair->client.ShutdownWrite(After(1s));
    });
    for (int i = 0; i < 100; ++i) {
      auto line = co_await reader.ReadLine(After(5s));
      if (absl::IsResourceExhausted(line.status())) {
        t.lines.push_back("<too long>");
        // The reader never holds much more than one line and one receive buffer.
        EXPECT_LE(reader.buffered(), max_line + 16384);
        continue;
      }
      if (!line.ok()) {
        t.end = line.status();
        break;
      }
      t.lines.emplace_back(*line);
    }
    co_await peers.Join();
  }());
  return t;
}

TEST(LineReader, OverlongLineInOneSegmentThenNextLine) {
  Transcript t = ReadChunksThroughLongLines({std::string(65, 'x').append("\r\nNOOP\r\n")}, 64);
  EXPECT_EQ(t.lines, (std::vector<std::string>{"<too long>", "NOOP"}));
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, OverlongLineByOneCharacterIsRejected) {
  // 65 characters before CRLF, one byte at a time: the reader must not
  // mistake the CR for part of an allowed line.
  Transcript t = ReadChunksThroughLongLines(Bytes(std::string(65, 'x').append("\r\nNOOP\r\n")), 64);
  EXPECT_EQ(t.lines, (std::vector<std::string>{"<too long>", "NOOP"}));
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, OverlongLineAcrossManyReadsResynchronisesAtNextLf) {
  // A megabyte without LF in 8 KB chunks, the LF in a later chunk with the
  // next command after it, then a second monster and a final line.
  std::vector<std::string> chunks;
  for (int i = 0; i < 128; ++i) chunks.emplace_back(8192, static_cast<char>('A' + i % 26));
  chunks.push_back("tail of the monster\r\nRSET\r\n");
  for (int i = 0; i < 4; ++i) chunks.emplace_back(1000, 'z');
  chunks.push_back("\nQUIT\r\n");
  Transcript t = ReadChunksThroughLongLines(chunks, 1000);
  EXPECT_EQ(t.lines, (std::vector<std::string>{"<too long>", "RSET", "<too long>", "QUIT"}));
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, OverlongLineWithLfAsTheVeryNextByte) {
  // The limit is crossed exactly when the buffer is full; the LF follows in
  // a read of its own.
  Transcript t = ReadChunksThroughLongLines({std::string(66, 'x'), "\n", "NOOP\n"}, 64);
  EXPECT_EQ(t.lines, (std::vector<std::string>{"<too long>", "NOOP"}));
  EXPECT_TRUE(IsEndOfStream(t.end)) << t.end;
}

TEST(LineReader, DeadlineMidLineThenRetryReturnsTheWholeLine) {
  std::vector<std::string> got;
  absl::Status first;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    LineReader reader(&pair->server, 100);
    CO_ASSERT_OK(co_await SendAll(pair->client, "MAIL FROM:<a@exa", After(5s)));
    first = (co_await reader.ReadLine(After(50ms))).status();
    CO_ASSERT_OK(co_await SendAll(pair->client, "mple.com>\r\n", After(5s)));
    auto line = co_await reader.ReadLine(After(5s));
    CO_ASSERT_OK(line);
    got.emplace_back(*line);
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(first)) << first;
  EXPECT_EQ(got, std::vector<std::string>{"MAIL FROM:<a@example.com>"});
}

// With two 16-byte provided buffers and eight peers sending at once, most
// receives find no free buffer (ENOBUFS) and take Socket::ReadSome's
// fallback into the reader's own memory, and lines span many buffers:
// every byte must still arrive, in order, on the right connection.
TEST(LineReader, ExhaustedProvidedBuffersStillDeliverEveryLine) {
  constexpr int kConnections = 8;
  constexpr int kLines = 200;
  std::vector<int> good(kConnections, 0);
  RingOptions tiny;
  tiny.recv_buffers = 2;
  tiny.recv_buffer_size = 16;
  RunOnRing(
      [&]() -> Task<void> {
        std::vector<testing::SocketPair> pairs;
        for (int c = 0; c < kConnections; ++c) {
          auto pair = co_await ConnectedPair();
          CO_ASSERT_OK(pair);
          pairs.push_back(std::move(*pair));
        }
        testing::Peers peers;
        for (int c = 0; c < kConnections; ++c) {
          peers.SpawnCall([&, c]() -> Task<void> {
            LineReader reader(&pairs[c].server, 200);
            for (int i = 0; i < kLines; ++i) {
              auto line = co_await reader.ReadLine(After(10s));
              if (!line.ok()) co_return;
              std::string want = "conn " + std::to_string(c) + " line " + std::to_string(i) +
                                 " padding to cross buffers";
              if (*line != want) co_return;
              ++good[c];
            }
          });
        }
        for (int c = 0; c < kConnections; ++c) {
          std::string all;
          for (int i = 0; i < kLines; ++i) {
            all += "conn " + std::to_string(c) + " line " + std::to_string(i) +
                   " padding to cross buffers\r\n";
          }
          peers.SpawnCall([&, c, all]() -> Task<void> {
            (void)co_await SendAll(pairs[c].client, all, After(10s));
          });
        }
        co_await peers.Join();
      }(),
      tiny);
  for (int c = 0; c < kConnections; ++c) EXPECT_EQ(good[c], kLines) << "connection " << c;
}

// Clear() drops buffered input (e.g. plaintext pipelined before STARTTLS).
// A line whose first bytes were scanned before a deadline must not make the
// reader skip line endings in the data that comes after Clear().
TEST(LineReader, ClearAfterPartialLineForgetsHowFarItScanned) {
  std::vector<std::string> got;
  RunOnRing([&]() -> Task<void> {
    auto pair = co_await ConnectedPair();
    CO_ASSERT_OK(pair);
    LineReader reader(&pair->server, 100);
    CO_ASSERT_OK(co_await SendAll(pair->client, "abcdefgh", After(5s)));
    auto partial = co_await reader.ReadLine(After(50ms));
    EXPECT_TRUE(absl::IsDeadlineExceeded(partial.status())) << partial.status();
    reader.Clear();
    CO_ASSERT_OK(co_await SendAll(pair->client, "x\r\nyyyyyy\r\n", After(5s)));
    for (int i = 0; i < 2; ++i) {
      auto line = co_await reader.ReadLine(After(2s));
      CO_ASSERT_OK(line);
      got.emplace_back(*line);
    }
  }());
  EXPECT_EQ(got, (std::vector<std::string>{"x", "yyyyyy"}));
}

}  // namespace
}  // namespace salvo
