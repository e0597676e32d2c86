#include "tests/dns/wire_builder.h"

#include <arpa/inet.h>

namespace salvo::dns::testing {
namespace {

void Put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void Put32(std::string& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xFFFF));
}

void PutRecord(std::string& out, const WireRecord& r, const WireMessage& m) {
  if (m.compress && !r.name.empty() && r.name == m.question_name) {
    Put16(out, 0xC00C);
  } else {
    out += EncodeName(r.name);
  }
  Put16(out, static_cast<uint16_t>(r.type));
  Put16(out, r.rr_class);
  Put32(out, r.ttl);
  Put16(out, static_cast<uint16_t>(r.rdata.size()));
  out += r.rdata;
}

}  // namespace

std::string EncodeName(std::string_view name) {
  std::string out;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<char>(label.size()));
    out.append(label);
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  out.push_back('\0');
  return out;
}

WireRecord MxRecordRr(std::string_view name, uint32_t ttl, uint16_t preference,
                      std::string_view exchange) {
  std::string rdata;
  Put16(rdata, preference);
  rdata += EncodeName(exchange);
  return {std::string(name), RrType::kMx, ttl, rdata};
}

WireRecord ARr(std::string_view name, uint32_t ttl, std::string_view ipv4) {
  std::string rdata(4, '\0');
  inet_pton(AF_INET, std::string(ipv4).c_str(), rdata.data());
  return {std::string(name), RrType::kA, ttl, rdata};
}

WireRecord AaaaRr(std::string_view name, uint32_t ttl, std::string_view ipv6) {
  std::string rdata(16, '\0');
  inet_pton(AF_INET6, std::string(ipv6).c_str(), rdata.data());
  return {std::string(name), RrType::kAaaa, ttl, rdata};
}

WireRecord CnameRr(std::string_view name, uint32_t ttl, std::string_view target) {
  return {std::string(name), RrType::kCname, ttl, EncodeName(target)};
}

WireRecord SoaRr(std::string_view zone, uint32_t ttl, uint32_t minimum) {
  std::string rdata = EncodeName("ns." + std::string(zone));
  rdata += EncodeName("hostmaster." + std::string(zone));
  Put32(rdata, 2024010101);  // serial
  Put32(rdata, 3600);        // refresh
  Put32(rdata, 600);         // retry
  Put32(rdata, 86400);       // expire
  Put32(rdata, minimum);
  return {std::string(zone), RrType::kSoa, ttl, rdata};
}

std::string Encode(const WireMessage& m) {
  std::string out;
  Put16(out, m.id);
  Put16(out, static_cast<uint16_t>((m.flags & 0xFFF0) | static_cast<uint16_t>(m.rcode)));
  Put16(out, 1);
  Put16(out, static_cast<uint16_t>(m.answers.size()));
  Put16(out, static_cast<uint16_t>(m.authority.size()));
  Put16(out, static_cast<uint16_t>(m.additional.size()));
  out += EncodeName(m.question_name);
  Put16(out, static_cast<uint16_t>(m.question_type));
  Put16(out, kClassIn);
  for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
    for (const WireRecord& r : *section) PutRecord(out, r, m);
  }
  return out;
}

std::string EncodeQuery(uint16_t id, std::string_view name, RrType type) {
  std::string out;
  Put16(out, id);
  Put16(out, 0x0100);
  Put16(out, 1);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, 0);
  out += EncodeName(name);
  Put16(out, static_cast<uint16_t>(type));
  Put16(out, kClassIn);
  return out;
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

}  // namespace salvo::dns::testing
