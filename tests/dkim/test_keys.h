// Test helper: DKIM keys generated once per test binary, and their TXT
// records for the independent verifier.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "engine/dkim/dkim_signer.h"
#include "engine/dkim/dns_record.h"
#include "engine/tls/dkim_crypto.h"
#include "tests/dkim/verifier.h"

namespace salvo::dkim::testing {

struct TestKey {
  std::string domain;
  std::string selector;
  std::string pem;
  std::string txt;
};

// One generated key per (type, domain, selector) for the whole binary.
inline TestKey MakeKey(crypto::DkimKeyType type, std::string domain, std::string selector) {
  auto key = crypto::DkimKey::Generate(type);
  EXPECT_TRUE(key.ok()) << key.status();
  TestKey k{std::move(domain), std::move(selector), "", ""};
  if (!key.ok()) return k;
  k.pem = *key->PrivateKeyPem();
  k.txt = *DkimRecordText(*key);
  return k;
}

inline const TestKey& RsaKey() {
  static const TestKey k = MakeKey(crypto::DkimKeyType::kRsa, "example.com", "rsa2026");
  return k;
}
inline const TestKey& Ed25519Key() {
  static const TestKey k = MakeKey(crypto::DkimKeyType::kEd25519, "example.com", "ed2026");
  return k;
}

inline DkimKeySpec Spec(const TestKey& k) {
  DkimKeySpec s;
  s.domain = k.domain;
  s.selector = k.selector;
  s.key_pem = k.pem;
  return s;
}

inline TxtRecords Records(std::initializer_list<const TestKey*> keys) {
  TxtRecords r;
  for (const TestKey* k : keys) r[DkimRecordName(k->selector, k->domain)] = k->txt;
  return r;
}

}  // namespace salvo::dkim::testing
