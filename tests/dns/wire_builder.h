// Test helper: builds DNS messages byte by byte, including the broken ones a
// hostile server might send. Owner names equal to the question name can be
// written as a compression pointer to it (offset 12), as real servers do.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns/message.h"

namespace salvo::dns::testing {

struct WireRecord {
  std::string name;
  RrType type = RrType::kA;
  uint32_t ttl = 300;
  std::string rdata;  // raw RDATA bytes
  uint16_t rr_class = kClassIn;
};

WireRecord MxRecordRr(std::string_view name, uint32_t ttl, uint16_t preference,
                      std::string_view exchange);
WireRecord ARr(std::string_view name, uint32_t ttl, std::string_view ipv4);
WireRecord AaaaRr(std::string_view name, uint32_t ttl, std::string_view ipv6);
WireRecord CnameRr(std::string_view name, uint32_t ttl, std::string_view target);
WireRecord SoaRr(std::string_view zone, uint32_t ttl, uint32_t minimum);

struct WireMessage {
  uint16_t id = 0x1234;
  uint16_t flags = 0x8180;  // response, RD, RA
  Rcode rcode = Rcode::kNoError;
  std::string question_name;
  RrType question_type = RrType::kMx;
  std::vector<WireRecord> answers;
  std::vector<WireRecord> authority;
  std::vector<WireRecord> additional;
  bool compress = true;  // owner == question name -> pointer to offset 12
};

std::string EncodeName(std::string_view name);  // uncompressed, "" = root
std::string Encode(const WireMessage& m);

// A standard query as a client sends it (RD set, no EDNS).
std::string EncodeQuery(uint16_t id, std::string_view name, RrType type);

std::string FromHex(std::string_view hex);
inline std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace salvo::dns::testing
