// Turns OpenSSL's thread-local error queue into absl::Status text. Internal to
// engine/tls: the only folder that includes OpenSSL (the border that owns the
// library converts its errors, see STYLE.md).
//
// Invariant: every helper here drains the queue it reads, so a stale error of
// one connection never shows up in the message of the next one on the shard.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace salvo::tls_internal {

// "<what>: <err1>; <err2>" from the queued OpenSSL errors (drained), or
// "<what>" alone when the queue is empty.
std::string OpenSslErrorText(std::string_view what);

// OpenSslErrorText wrapped in a status of `code`.
absl::Status OpenSslError(absl::StatusCode code, std::string_view what);

// Drops whatever an earlier call left queued.
void ClearOpenSslErrors();

}  // namespace salvo::tls_internal
