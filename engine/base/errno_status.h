// Turns a negative errno (as io_uring reports it) into an absl::Status with a
// code a caller can act on: DeadlineExceeded for timeouts, Cancelled for
// cancellation, Unavailable for a peer that went away.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace salvo {

absl::Status ErrnoStatus(int err, std::string_view what);

}  // namespace salvo
