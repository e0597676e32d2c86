// How dns/ reports an MX resolution that failed. Chosen convention: an
// absl::Status whose code tells the delivery engine what to do and whose
// message is the reason text for the DSN / the deferral log.
//
//   code                 kind       when                                      DSN status
//   InvalidArgument      permanent  the domain is not a valid name            5.1.2
//   NotFound             permanent  NXDOMAIN; no MX and no A/AAAA (implicit   5.1.2
//                                   MX); no MX host has any address
//   FailedPrecondition   permanent  null MX: the domain accepts no mail       5.1.10
//                                   (RFC 7505 §4.2)
//   Unavailable          temporary  SERVFAIL, REFUSED, timeouts, malformed    4.4.3
//                                   or hostile answers, resolver closing
//
// Any other code (none is produced today) is treated as temporary: when in
// doubt, retry rather than bounce.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace salvo::dns {

// True when retrying cannot help: the recipient should bounce with a DSN.
inline bool IsPermanentDnsFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

// The RFC 3463 enhanced status code for a failed resolution ("" for OK).
inline std::string_view DnsEnhancedStatusCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return "";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
      return "5.1.2";
    case absl::StatusCode::kFailedPrecondition:
      return "5.1.10";
    default:
      return "4.4.3";
  }
}

}  // namespace salvo::dns
