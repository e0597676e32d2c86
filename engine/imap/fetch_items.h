// FETCH data items (RFC 3501 §6.4.5): the attribute list of a FETCH / UID
// FETCH parsed into FetchItems, macros (ALL, FAST, FULL) expanded. I/O-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/imap/command_parser.h"

namespace salvo::imap {

struct FetchItem {
  enum class Kind {
    kFlags,
    kUid,
    kInternalDate,
    kSize,
    kEnvelope,
    kBody,
    kBodyStructure,
    kSection,  // BODY[...] / BODY.PEEK[...] / RFC822 / RFC822.HEADER / RFC822.TEXT
  };
  Kind kind = Kind::kFlags;
  std::string section;  // "HEADER.FIELDS (FROM)", "1.TEXT", ""
  std::string name;     // as echoed: "BODY[HEADER]", "RFC822.HEADER"
  bool peek = false;    // does not set \Seen
  std::optional<uint64_t> partial_start;
  uint64_t partial_length = 0;
};

struct FetchRequest {
  std::vector<FetchItem> items;
  bool needs_content = false;  // any section, envelope or structure
  bool sets_seen = false;      // a non-peek body section
};

// args[first] is the item or list; a UID FETCH always reports UID.
absl::StatusOr<FetchRequest> ParseFetch(const std::vector<ImapArg>& args, size_t first,
                                        bool uid_command);

}  // namespace salvo::imap
