// Self-signed certificates for a server that has none configured yet, so a
// fresh install can offer STARTTLS from its first run.
//
// The pair is an EC P-256 key and an X.509 v3 certificate (SHA-256) whose
// subject CN is `common_name`, with subjectAltName DNS:<common_name> (or
// IP:<common_name> when it is an address literal), plus IP:127.0.0.1 and
// IP:::1 when the name is "localhost" or a loopback address. It is a leaf
// (CA:FALSE, serverAuth+clientAuth) that a peer can still trust directly by
// listing it as its CA file.
//
// Invariants: the key file is created with mode 0600 and never readable by
// others at any point; both files are written to a temporary name and
// renamed into place, so a crash never leaves a half-written key or
// certificate behind.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace salvo {

// Writes a new self-signed pair, replacing existing files.
absl::Status GenerateSelfSignedCertificate(const std::string& cert_path,
                                           const std::string& key_path,
                                           const std::string& common_name, int days);

// Generates the pair only when neither file exists; returns true if it did.
// One file present without the other is an error naming the missing one (an
// operator's key is never overwritten).
absl::StatusOr<bool> EnsureSelfSigned(const std::string& cert_path, const std::string& key_path,
                                      const std::string& common_name, int days);

}  // namespace salvo
