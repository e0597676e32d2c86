#include "engine/tls/openssl_error.h"

#include <openssl/err.h>

#include "engine/base/strings.h"

namespace salvo::tls_internal {

std::string OpenSslErrorText(std::string_view what) {
  std::string text(what);
  bool first = true;
  // Bounded: the queue holds at most ERR_NUM_ERRORS entries.
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text += first ? ": " : "; ";
    text += buf;
    first = false;
  }
  return text;
}

absl::Status OpenSslError(absl::StatusCode code, std::string_view what) {
  return absl::Status(code, ToAbsl(OpenSslErrorText(what)));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace salvo::tls_internal
