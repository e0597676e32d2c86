// Bridges between std::string_view and absl::string_view. Debian 12's abseil
// is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so the two are distinct
// types: absl::StrCat and absl::Status take absl::string_view and do not
// accept a std::string_view. Prefer fmt::format for messages; use these at
// the edges where an absl API must see a std::string_view.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace salvo {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// absl::AsciiStrToLower for a std::string_view: A-Z lowered, no locale.
inline std::string AsciiLower(std::string_view s) { return absl::AsciiStrToLower(ToAbsl(s)); }

}  // namespace salvo
