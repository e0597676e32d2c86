// The wire parser: a real dnsmasq answer with compression, every record type
// dns/ uses, and the malformed messages a hostile server might send.
#include "dns/message.h"

#include <gtest/gtest.h>

#include "tests/dns/wire_builder.h"

namespace salvo::dns {
namespace {

using testing::Bytes;
using testing::Encode;
using testing::FromHex;
using testing::WireMessage;

// dnsmasq 2.90's answer to "MX a.test" (three MX, A/AAAA glue), captured.
constexpr char kDnsmasqMxAnswer[] =
    "cd16858000010003000000030161047465737400000f0001c00c000f000100000007000e0014036d78330161"
    "047465737400c00c000f000100000007000e000a036d78320161047465737400c00c000f000100000007000e"
    "000a036d78310161047465737400c040000100010000000700047f000003c040001c00010000000700100000"
    "0000000000000000000000000001c05a000100010000000700047f000002";

TEST(ParseMessage, RealDnsmasqAnswerWithCompression) {
  std::string wire = FromHex(kDnsmasqMxAnswer);
  auto m = ParseMessage(Bytes(wire));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, 0xcd16);
  EXPECT_TRUE(m->is_response);
  EXPECT_TRUE(m->authoritative);
  EXPECT_EQ(m->rcode, Rcode::kNoError);
  EXPECT_EQ(m->question_name, "a.test");
  EXPECT_EQ(m->question_type, RrType::kMx);
  ASSERT_EQ(m->answers.size(), 3u);
  EXPECT_EQ(m->answers[0].name, "a.test");
  EXPECT_EQ(m->answers[0].type, RrType::kMx);
  EXPECT_EQ(m->answers[0].ttl, 7u);
  EXPECT_EQ(m->answers[0].preference, 20);
  EXPECT_EQ(m->answers[0].target, "mx3.a.test");
  EXPECT_EQ(m->answers[2].target, "mx1.a.test");
}

TEST(ParseMessage, RecordTypes) {
  WireMessage w;
  w.question_name = "Example.COM";
  w.answers = {testing::MxRecordRr("example.com", 60, 5, "MX.Example.com"),
               testing::ARr("mx.example.com", 30, "192.0.2.7"),
               testing::AaaaRr("mx.example.com", 30, "2001:db8::7"),
               testing::CnameRr("www.example.com", 10, "example.com"),
               testing::MxRecordRr("null.example", 60, 0, "")};
  w.authority = {testing::SoaRr("example.com", 900, 300)};
  std::string wire = Encode(w);
  auto m = ParseMessage(Bytes(wire));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->question_name, "example.com");  // lower-cased
  ASSERT_EQ(m->answers.size(), 5u);
  EXPECT_EQ(m->answers[0].target, "mx.example.com");
  EXPECT_EQ(m->answers[1].address.ToString(), "192.0.2.7");
  EXPECT_EQ(m->answers[2].address.ToString(), "2001:db8::7");
  EXPECT_EQ(m->answers[3].target, "example.com");
  EXPECT_EQ(m->answers[4].target, "");  // null MX
  ASSERT_EQ(m->authority.size(), 1u);
  EXPECT_EQ(m->authority[0].soa_minimum, 300u);
  EXPECT_EQ(m->authority[0].ttl, 900u);
}

TEST(ParseMessage, TtlWithHighBitReadsAsZero) {
  WireMessage w;
  w.question_name = "a.example";
  w.answers = {testing::ARr("a.example", 0x80000000u, "192.0.2.1")};
  std::string wire = Encode(w);
  auto m = ParseMessage(Bytes(wire));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->answers[0].ttl, 0u);
}

TEST(ParseMessage, OddLabelBytesAreEscaped) {
  WireMessage w;
  w.question_name = "a.example";
  w.answers = {testing::MxRecordRr("a.example", 60, 1, "x")};
  w.answers[0].rdata = std::string("\0\1\3a.b\0", 7);  // label "a.b" with a dot inside
  std::string wire = Encode(w);
  auto m = ParseMessage(Bytes(wire));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->answers[0].target, "a\\046b");
}

absl::Status ParseHex(std::string_view hex) {
  std::string wire = FromHex(hex);
  return ParseMessage(Bytes(wire)).status();
}

TEST(ParseMessage, EveryTruncationFailsCleanly) {
  std::string wire = FromHex(kDnsmasqMxAnswer);
  for (size_t n = 0; n < wire.size(); ++n) {
    std::string prefix = wire.substr(0, n);
    EXPECT_FALSE(ParseMessage(Bytes(prefix)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(ParseMessage, CompressionLoopsAndForwardPointersAreRejected) {
  // Question name is a pointer to itself (offset 12).
  EXPECT_FALSE(ParseHex("000081800001000000000000c00c000f0001").ok());
  // Question name points forward, into its own type field.
  EXPECT_FALSE(ParseHex("000081800001000000000000c00e000f0001").ok());
  // Answer owner: label then a pointer back to that same label (a loop).
  auto st = ParseHex(
      "000081800001000100000000016100000f0001"
      "0162c013"
      "000f000100000001000301"
      "00");
  EXPECT_FALSE(st.ok());
}

TEST(ParseMessage, HostileHeadersAndLengths) {
  // Two questions.
  EXPECT_FALSE(ParseHex("000081800002000000000000016100000f0001016100000f0001").ok());
  // 65535 answers claimed in a tiny message.
  EXPECT_FALSE(ParseHex("000081800001ffff00000000016100000f0001").ok());
  // RDLENGTH past the end.
  EXPECT_FALSE(ParseHex("000081800001000100000000016100000f0001c00c000100010000000aff00").ok());
  // A record with 5 bytes of RDATA.
  EXPECT_FALSE(
      ParseHex("000081800001000100000000016100000f0001c00c00010001000000000005c000020101").ok());
  // MX whose name runs beyond its RDLENGTH.
  EXPECT_FALSE(ParseHex("000081800001000100000000016100000f0001c00c000f0001000000000003000a03616263"
                        "00")
                   .ok());
  // Reserved label type 0x40.
  EXPECT_FALSE(ParseHex("000081800001000000000000416100000f0001").ok());
  // A name longer than 255 octets (five 63-octet labels).
  std::string name;
  for (int i = 0; i < 5; ++i) name += "3f" + std::string(126, '6');
  EXPECT_FALSE(ParseHex("000081800001000000000000" + name + "00000f0001").ok());
}

TEST(ParseMessage, OversizedButValidMessageParses) {
  WireMessage w;
  w.question_name = "big.example";
  for (int i = 0; i < 2000; ++i) {
    w.answers.push_back(testing::ARr("big.example", 60, "192.0.2." + std::to_string(i % 250)));
  }
  std::string wire = Encode(w);
  ASSERT_GT(wire.size(), 30000u);
  auto m = ParseMessage(Bytes(wire));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->answers.size(), 2000u);
}

}  // namespace
}  // namespace salvo::dns
