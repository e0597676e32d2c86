// Classifying one answer: data, CNAME chains, NODATA, NXDOMAIN, server
// failures, and the TTLs that follow (RFC 2308 negative caching).
#include "dns/rrset.h"

#include <gtest/gtest.h>

#include "tests/dns/wire_builder.h"

namespace salvo::dns {
namespace {

using testing::Bytes;
using testing::Encode;
using testing::WireMessage;

Rrset Interpret(const WireMessage& w, std::string_view name, RrType type, TtlPolicy policy = {}) {
  std::string wire = Encode(w);
  return InterpretAnswer(Bytes(wire), name, type, policy);
}

TEST(InterpretAnswer, MxDataWithSmallestTtl) {
  WireMessage w;
  w.question_name = "example.com";
  w.answers = {testing::MxRecordRr("example.com", 600, 10, "mx1.example.com"),
               testing::MxRecordRr("example.com", 300, 20, "mx2.example.com"),
               testing::ARr("mx1.example.com", 5, "192.0.2.1")};  // not an MX: ignored
  Rrset r = Interpret(w, "example.com", RrType::kMx);
  EXPECT_EQ(r.kind, RrsetKind::kData);
  ASSERT_EQ(r.mx.size(), 2u);
  EXPECT_EQ(r.mx[0], (MxRecord{10, "mx1.example.com"}));
  EXPECT_EQ(r.ttl, 300u);
}

TEST(InterpretAnswer, TtlIsCappedByPolicy) {
  WireMessage w;
  w.question_name = "example.com";
  w.answers = {testing::MxRecordRr("example.com", 7 * 86400, 10, "mx1.example.com")};
  TtlPolicy policy;
  policy.max_ttl = 3600;
  EXPECT_EQ(Interpret(w, "example.com", RrType::kMx, policy).ttl, 3600u);
}

TEST(InterpretAnswer, FollowsCnameChain) {
  WireMessage w;
  w.question_name = "www.example.com";
  w.question_type = RrType::kA;
  w.answers = {testing::CnameRr("www.example.com", 100, "edge.example.net"),
               testing::CnameRr("edge.example.net", 50, "host.example.org"),
               testing::ARr("host.example.org", 200, "192.0.2.9"),
               testing::ARr("host.example.org", 200, "192.0.2.9"),  // duplicate
               testing::ARr("other.example.org", 200, "192.0.2.10")};
  Rrset r = Interpret(w, "www.example.com", RrType::kA);
  EXPECT_EQ(r.kind, RrsetKind::kData);
  EXPECT_EQ(r.canonical_name, "host.example.org");
  ASSERT_EQ(r.addresses.size(), 1u);
  EXPECT_EQ(r.addresses[0].ToString(), "192.0.2.9");
  EXPECT_EQ(r.ttl, 50u);
}

TEST(InterpretAnswer, CnameLoopIsTemporaryFailure) {
  WireMessage w;
  w.question_name = "a.example";
  w.question_type = RrType::kA;
  w.answers = {testing::CnameRr("a.example", 100, "b.example"),
               testing::CnameRr("b.example", 100, "a.example")};
  Rrset r = Interpret(w, "a.example", RrType::kA);
  EXPECT_EQ(r.kind, RrsetKind::kTemporaryFailure);
  EXPECT_NE(r.reason.find("CNAME"), std::string::npos) << r.reason;
}

TEST(InterpretAnswer, NoDataAndNxDomainUseSoaForNegativeTtl) {
  WireMessage w;
  w.question_name = "example.com";
  w.authority = {testing::SoaRr("example.com", 900, 120)};
  Rrset nodata = Interpret(w, "example.com", RrType::kMx);
  EXPECT_EQ(nodata.kind, RrsetKind::kNoData);
  EXPECT_EQ(nodata.ttl, 120u);  // min(SOA TTL 900, MINIMUM 120)

  w.rcode = Rcode::kNxDomain;
  w.authority = {testing::SoaRr("example.com", 60, 3600)};
  Rrset nx = Interpret(w, "example.com", RrType::kMx);
  EXPECT_EQ(nx.kind, RrsetKind::kNxDomain);
  EXPECT_EQ(nx.ttl, 60u);

  w.authority.clear();  // no SOA: the configured default
  EXPECT_EQ(Interpret(w, "example.com", RrType::kMx).ttl, 60u);
  TtlPolicy policy;
  policy.negative_ttl_without_soa = 0;  // RFC 2308 §5 strictly: not cached
  EXPECT_EQ(Interpret(w, "example.com", RrType::kMx, policy).ttl, 0u);
}

TEST(InterpretAnswer, ServerFailuresAreTemporary) {
  WireMessage w;
  w.question_name = "example.com";
  for (Rcode rcode : {Rcode::kServFail, Rcode::kRefused, Rcode::kFormErr, Rcode::kNotImp}) {
    w.rcode = rcode;
    Rrset r = Interpret(w, "example.com", RrType::kMx);
    EXPECT_EQ(r.kind, RrsetKind::kTemporaryFailure);
    EXPECT_NE(r.reason.find(RcodeName(rcode)), std::string::npos) << r.reason;
    EXPECT_EQ(r.ttl, TtlPolicy{}.temporary_failure_ttl);
  }
}

TEST(InterpretAnswer, WrongQuestionTruncatedOrQueryAreTemporary) {
  WireMessage w;
  w.question_name = "other.example";
  w.answers = {testing::MxRecordRr("other.example", 60, 1, "mx.other.example")};
  EXPECT_EQ(Interpret(w, "example.com", RrType::kMx).kind, RrsetKind::kTemporaryFailure);
  EXPECT_EQ(Interpret(w, "other.example", RrType::kA).kind, RrsetKind::kTemporaryFailure);
  w.flags |= 0x0200;  // TC
  EXPECT_EQ(Interpret(w, "other.example", RrType::kMx).reason, "truncated DNS answer");
  w.flags = 0x0100;  // a query, not a response
  EXPECT_EQ(Interpret(w, "other.example", RrType::kMx).kind, RrsetKind::kTemporaryFailure);
}

TEST(InterpretAnswer, GarbageIsTemporary) {
  std::string garbage = "this is not DNS";
  Rrset r = InterpretAnswer(Bytes(garbage), "example.com", RrType::kMx, {});
  EXPECT_EQ(r.kind, RrsetKind::kTemporaryFailure);
  EXPECT_NE(r.reason.find("malformed"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace salvo::dns
