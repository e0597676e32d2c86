#include "engine/base/errno_status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/base/strings.h"

namespace salvo {

absl::Status ErrnoStatus(int err, std::string_view what) {
  if (err < 0) err = -err;
  std::string msg = absl::StrCat(ToAbsl(what), ": ", std::strerror(err));
  switch (err) {
    case ETIME:
    case ETIMEDOUT:
      return absl::DeadlineExceededError(msg);
    case ECANCELED:
      return absl::CancelledError(msg);
    case ECONNRESET:
    case EPIPE:
    case ECONNREFUSED:
    case ECONNABORTED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENOTCONN:
      return absl::UnavailableError(msg);
    case EINVAL:
    case EBADF:
      return absl::InvalidArgumentError(msg);
    case EADDRINUSE:
    case EADDRNOTAVAIL:
      return absl::FailedPreconditionError(msg);
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace salvo
