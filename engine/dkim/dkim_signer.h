// DkimSigner: signs rendered RFC 5322 messages with DKIM (RFC 6376) using
// rsa-sha256 (RFC 8301) and/or ed25519-sha256 (RFC 8463) keys, chosen by the
// domain of the From address so that d= aligns with From (DMARC).
//
//  - Created once from config (keys read from their PEM files then, never on
//    a ring); immutable afterwards and safe to use from many threads at once.
//  - Several keys for one domain sign with each (dual signing: one header per
//    key, ed25519 and rsa side by side). A key for example.com also signs mail
//    from sub.example.com when `sign_subdomains` (relaxed DMARC alignment).
//  - Sign() returns the header field(s) to prepend to the message, folded,
//    each ending in CRLF. The message itself is not copied or changed.
//  - Body hash reuse: HashBody() once for a body shared by many messages (a
//    campaign without per-recipient body content), then Sign(msg, hash).
//
// Private-key operations cost ~0.25 ms (rsa2048) per signature: call Sign
// from a DkimSigningPool (signing_pool.h), not from a ring thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/dkim/canonicalization.h"
#include "engine/tls/dkim_crypto.h"

namespace salvo::dkim {

struct DkimKeySpec {
  std::string domain;    // d=, the From domain it signs
  std::string selector;  // s=
  std::string key_file;  // PEM private key file, read by Create()...
  std::string key_pem;   // ...or the PEM itself (when key_file is empty)
  // When set, the key must be of this type (catches a swapped file).
  std::optional<crypto::DkimKeyType> algorithm;
};

// The header fields signed by default (issue 9 plus Reply-To, Cc, List-Id).
std::vector<std::string> DefaultSignedHeaders();

struct DkimSignerOptions {
  std::vector<DkimKeySpec> keys;
  Canonicalization header_canonicalization = Canonicalization::kRelaxed;
  Canonicalization body_canonicalization = Canonicalization::kRelaxed;
  // Signed when present, each instance; case-insensitive.
  std::vector<std::string> signed_headers = DefaultSignedHeaders();
  // Listed once more than present, so none can be added after signing. Must
  // also be in signed_headers.
  std::vector<std::string> oversigned_headers = {"From"};
  bool sign_subdomains = true;
  bool timestamp = true;             // t=
  int64_t expire_after_seconds = 0;  // x= = t + this, when > 0
  // Seconds since the epoch for t=; the system clock when empty.
  std::function<int64_t()> clock;
};

// The base64 bh= value of one body under one body canonicalization.
struct DkimBodyHash {
  Canonicalization canonicalization = Canonicalization::kRelaxed;
  std::string base64;
};

class DkimSigner {
 public:
  static absl::StatusOr<std::unique_ptr<DkimSigner>> Create(DkimSignerOptions options);

  // True when mail From `domain` (lower-case) would be signed.
  bool HasKeyFor(std::string_view domain) const;

  // The body hash of `body` (the part after the empty line).
  DkimBodyHash HashBody(std::string_view body) const;

  // The DKIM-Signature field(s) for `message`. NotFound when no key covers
  // its From domain; InvalidArgument for a message without exactly one
  // From, or with a malformed header.
  absl::StatusOr<std::string> Sign(std::string_view message) const;
  // Same, with the body hash computed earlier by HashBody() for the body this
  // message carries; `message` may then be the header block alone.
  absl::StatusOr<std::string> Sign(std::string_view message, const DkimBodyHash& body_hash) const;

 private:
  struct Key {
    std::string domain;
    std::string selector;
    crypto::DkimKey key;
  };
  explicit DkimSigner(DkimSignerOptions options) : options_(std::move(options)) {}
  absl::StatusOr<std::string> SignParts(const MessageParts& parts,
                                        const DkimBodyHash& body_hash) const;
  const std::vector<const Key*>* KeysFor(std::string_view domain) const;
  // The h= value and the canonical header data it covers.
  void SignedHeaderData(const MessageParts& parts, std::string& h_tag, std::string& data) const;
  std::string SignatureFieldPrefix(const Key& key, std::string_view h_tag,
                                   const DkimBodyHash& body_hash) const;

  DkimSignerOptions options_;
  std::vector<std::unique_ptr<Key>> keys_;
  absl::flat_hash_map<std::string, std::vector<const Key*>> by_domain_;
  std::vector<std::string> signed_lower_;  // lower-case, no duplicates
  std::vector<bool> oversigned_;           // parallel to signed_lower_
};

}  // namespace salvo::dkim
