// DKIM canonicalization (RFC 6376 §3.4), I/O-free: the "simple" and "relaxed"
// algorithms for header fields and bodies, and the split of a rendered RFC
// 5322 message into its header fields and body.
//
// Line endings: a message may use CRLF or bare LF (both are read as one line
// end, as the SMTP client sends CRLF on the wire either way); canonical output
// always uses CRLF. A bare CR inside a line is kept as data.
//
// Written here rather than taken from libopendkim (packaged, 2.11 beta): its
// API feeds a message header by header into a per-message handle that
// always hashes the body itself, so a campaign's shared body cannot be hashed
// once; it copies every header, and adds a second OpenSSL user outside
// engine/tls. The two algorithms are ~150 lines, checked in tests/dkim
// against python3-dkim, an independent verifier.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace salvo::dkim {

enum class Canonicalization { kSimple, kRelaxed };

std::string_view CanonicalizationName(Canonicalization c);

// One header field as it appears in the message: `name` is the field name
// (without the colon), `raw` the whole field including its name, folded
// continuation lines and internal line ends, without the final line end.
struct HeaderField {
  std::string_view name;
  std::string_view raw;
};

struct MessageParts {
  std::vector<HeaderField> headers;  // in message order, top first
  std::string_view body;             // after the empty line; empty if none
};

// Splits `message`; fails on a header line that is neither a field nor a
// continuation (e.g. a line without a colon, or a continuation first).
absl::StatusOr<MessageParts> SplitMessage(std::string_view message);

// Appends the canonical form of `field` (with its trailing CRLF) to `out`.
void CanonicalizeHeader(const HeaderField& field, Canonicalization c, std::string& out);
// Same, without the trailing CRLF: for the DKIM-Signature field itself.
void CanonicalizeHeaderNoEol(const HeaderField& field, Canonicalization c, std::string& out);

// Passes the canonical form of `body` to `put`, in order, in pieces. Where
// the canonical form is the body's own bytes (most lines of most bodies) the
// pieces point into `body`, adjacent lines coalesced into one piece; a line
// that relaxed canonicalization rewrites is passed from a buffer on the
// stack, valid only during the call. Nothing is allocated.
void CanonicalizeBody(std::string_view body, Canonicalization c,
                      absl::FunctionRef<void(std::string_view)> put);
// Appends the canonical form of `body` to `out`.
void CanonicalizeBody(std::string_view body, Canonicalization c, std::string& out);

// ASCII case-insensitive equality of header field names.
bool SameFieldName(std::string_view a, std::string_view b);

}  // namespace salvo::dkim
