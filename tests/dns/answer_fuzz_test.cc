// Randomized mutation of valid answers through the parser, the classifier
// and MX planning: whatever the bytes, no crash (ASan/UBSan build), a
// classification that holds together, and a bounded run.
#include <gtest/gtest.h>

#include <random>

#include "dns/mx_set.h"
#include "dns/rrset.h"
#include "tests/dns/wire_builder.h"

namespace salvo::dns {
namespace {

using testing::Bytes;
using testing::Encode;
using testing::WireMessage;

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  WireMessage mx;
  mx.question_name = "example.com";
  mx.answers = {testing::MxRecordRr("example.com", 300, 10, "mx1.example.com"),
                testing::MxRecordRr("example.com", 300, 20, "mx2.example.com")};
  mx.additional = {testing::ARr("mx1.example.com", 300, "192.0.2.1")};
  seeds.push_back(Encode(mx));
  WireMessage cname;
  cname.question_name = "www.example.com";
  cname.question_type = RrType::kA;
  cname.answers = {testing::CnameRr("www.example.com", 60, "host.example.com"),
                   testing::ARr("host.example.com", 60, "192.0.2.2")};
  seeds.push_back(Encode(cname));
  WireMessage aaaa;
  aaaa.question_name = "host.example.com";
  aaaa.question_type = RrType::kAaaa;
  aaaa.answers = {testing::AaaaRr("host.example.com", 60, "2001:db8::2")};
  seeds.push_back(Encode(aaaa));
  WireMessage nx;
  nx.question_name = "nx.example.com";
  nx.rcode = Rcode::kNxDomain;
  nx.authority = {testing::SoaRr("example.com", 60, 30)};
  seeds.push_back(Encode(nx));
  WireMessage null_mx;
  null_mx.question_name = "example.org";
  null_mx.answers = {testing::MxRecordRr("example.org", 300, 0, "")};
  seeds.push_back(Encode(null_mx));
  return seeds;
}

std::string Mutate(std::string wire, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> op_dist(0, 5);
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !wire.empty(); ++e) {
    size_t at = rng() % wire.size();
    switch (op_dist(rng)) {
      case 0:  // flip a bit
        wire[at] = static_cast<char>(wire[at] ^ (1 << (rng() % 8)));
        break;
      case 1:  // random byte
        wire[at] = static_cast<char>(rng());
        break;
      case 2:  // cut short
        wire.resize(at);
        break;
      case 3:  // compression pointer anywhere
        wire[at] = static_cast<char>(0xC0 | (rng() % 2));
        if (at + 1 < wire.size()) wire[at + 1] = static_cast<char>(rng());
        break;
      case 4:  // duplicate a slice
        wire.insert(at, wire.substr(rng() % wire.size(), rng() % 32));
        break;
      case 5:  // bump a count or length field
        if (at + 1 < wire.size()) wire[at + 1] = static_cast<char>(wire[at + 1] + 1 + rng() % 3);
        break;
    }
  }
  return wire;
}

TEST(AnswerFuzz, MutatedAnswersNeverCrash) {
  constexpr int kIterations = 30'000;
  std::mt19937_64 rng(20240601);
  std::vector<std::string> seeds = Seeds();
  const std::pair<const char*, RrType> questions[] = {{"example.com", RrType::kMx},
                                                      {"www.example.com", RrType::kA},
                                                      {"host.example.com", RrType::kAaaa},
                                                      {"nx.example.com", RrType::kMx},
                                                      {"example.org", RrType::kMx}};
  int parsed = 0;
  for (int i = 0; i < kIterations; ++i) {
    size_t s = rng() % seeds.size();
    std::string wire = Mutate(seeds[s], rng);
    auto [name, type] = questions[s];
    Rrset r = InterpretAnswer(Bytes(wire), name, type, TtlPolicy{});
    if (r.kind == RrsetKind::kData) {
      ++parsed;
      EXPECT_TRUE(!r.mx.empty() || !r.addresses.empty());
      EXPECT_LE(r.ttl, TtlPolicy{}.max_ttl);
    } else {
      EXPECT_TRUE(r.mx.empty() && r.addresses.empty());
      if (r.kind == RrsetKind::kTemporaryFailure) {
        EXPECT_FALSE(r.reason.empty());
      }
    }
    if (type == RrType::kMx) {
      auto plan = PlanMxTargets(name, r, 10, rng);
      if (plan.ok()) {
        EXPECT_FALSE(plan->targets.empty());
        EXPECT_LE(plan->targets.size(), 10u);
      }
    }
  }
  EXPECT_GT(parsed, 0);  // some mutations leave a usable answer: the fuzz reaches deep
}

}  // namespace
}  // namespace salvo::dns
