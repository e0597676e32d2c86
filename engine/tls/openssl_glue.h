// Small conversions at the OpenSSL boundary, shared by engine/tls's files
// (internal to engine/tls).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <string_view>

namespace salvo::tls_glue {

// The bytes of `s` as OpenSSL's unsigned char APIs take them.
inline const unsigned char* Uchars(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// True for an IPv4 or IPv6 address literal: certificates and SNI name those
// as IP addresses (GEN_IPADD), not DNS names.
inline bool IsIpLiteral(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace salvo::tls_glue
