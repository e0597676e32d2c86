// DNS wire format (RFC 1035) parser for the answers dns/ receives: header,
// the one question, the answer and authority sections, and the RDATA of the
// types it uses (A, AAAA, CNAME, MX, SOA). I/O-free and defensive: every
// length and offset is checked against the message, compression pointers must
// point backwards (so they cannot loop) and names are bounded by RFC 1035's
// 255 octets. Anything malformed is an error, never a crash; the resolver
// turns that error into a temporary failure.
//
// Names are returned in presentation form, lower case, without the trailing
// dot ("" is the root). Bytes outside [!-~], and '.' or '\' inside a label,
// are written as \DDD, so such a name never equals a valid hostname.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dns/ip_address.h"

namespace salvo::dns {

enum class RrType : uint16_t {
  kA = 1,
  kNs = 2,
  kCname = 5,
  kSoa = 6,
  kMx = 15,
  kTxt = 16,
  kAaaa = 28,
  kOpt = 41,
};
std::string RrTypeName(RrType type);  // "MX", "A", ... or "TYPE<n>"

enum class Rcode : uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};
std::string RcodeName(Rcode rcode);  // "NXDOMAIN", ... or "RCODE<n>"

constexpr uint16_t kClassIn = 1;
constexpr size_t kHeaderSize = 12;

struct ResourceRecord {
  std::string name;
  RrType type = RrType::kA;
  uint16_t rr_class = kClassIn;
  uint32_t ttl = 0;  // seconds; values above 2^31-1 read as 0 (RFC 2181 §8)
  // RDATA of the types dns/ uses; empty/zero for the others.
  std::string target;        // CNAME target, MX exchange ("" = root: null MX)
  uint16_t preference = 0;   // MX
  IpAddress address;         // A, AAAA
  uint32_t soa_minimum = 0;  // SOA MINIMUM (the negative-caching TTL, RFC 2308)
};

struct Message {
  uint16_t id = 0;
  bool is_response = false;
  bool truncated = false;
  bool authoritative = false;
  uint8_t opcode = 0;
  Rcode rcode = Rcode::kNoError;
  std::string question_name;
  RrType question_type = RrType::kA;
  uint16_t question_class = kClassIn;
  std::vector<ResourceRecord> answers;
  std::vector<ResourceRecord> authority;  // the additional section is checked, not kept
};

// Parses a complete message with exactly one question.
absl::StatusOr<Message> ParseMessage(std::span<const uint8_t> wire);

}  // namespace salvo::dns
