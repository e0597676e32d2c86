// The bounce mailbox's records in the spool's `mailbox` column family: keys
// and values (values use the spool's tag-length-value wire format, wire.h).
//
// Key layout (all integers big-endian, so bytewise order is numeric):
//   'b' + blob id (8)               -> the raw message bytes (immutable; shared
//                                      by every copy of the message)
//   'f' + folder id (4)             -> FolderRecord
//   'm' + folder id (4) + uid (4)   -> EntryRecord (a message in a folder)
//   'v'                             -> the last UIDVALIDITY handed out (varint)
//
// A blob lives exactly as long as some entry names it: it is written in the
// batch of the first entry and deleted in the batch that drops the last one.
// Reference counts are memory only, rebuilt from the entries at open.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/mailbox/mail_store.h"

namespace salvo::queue {

inline constexpr char kMailboxBlobTag = 'b';
inline constexpr char kMailboxFolderTag = 'f';
inline constexpr char kMailboxEntryTag = 'm';
inline constexpr std::string_view kMailboxUidValidityKey = "v";

std::string MailboxBlobKey(uint64_t blob);
std::string MailboxFolderKey(uint32_t folder);
std::string MailboxEntryKey(uint32_t folder, uint32_t uid);

std::optional<uint64_t> ParseMailboxBlobKey(std::string_view key);
std::optional<uint32_t> ParseMailboxFolderKey(std::string_view key);
struct MailboxEntryKeyParts {
  uint32_t folder = 0;
  uint32_t uid = 0;
};
std::optional<MailboxEntryKeyParts> ParseMailboxEntryKey(std::string_view key);

struct FolderRecord {
  std::string name;
  uint32_t uid_validity = 0;
  uint32_t uid_next = 1;
  bool subscribed = false;
  bool system = false;
};

struct EntryRecord {
  uint64_t blob = 0;
  uint8_t flags = 0;
  absl::Time internal_date;
  uint64_t size = 0;
  mailbox::MessageAttributes attributes;
};

std::string EncodeFolderRecord(const FolderRecord& r);
absl::StatusOr<FolderRecord> DecodeFolderRecord(std::string_view value);
std::string EncodeEntryRecord(const EntryRecord& r);
absl::StatusOr<EntryRecord> DecodeEntryRecord(std::string_view value);
std::string EncodeUidValidity(uint32_t v);
absl::StatusOr<uint32_t> DecodeUidValidity(std::string_view value);

}  // namespace salvo::queue
