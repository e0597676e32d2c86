// What each mailbox write does, as plans over a MailboxTxn (mailbox_index.h):
// each checks everything first (returning an error having changed nothing),
// then puts its records into the batch and emits its folder events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/mailbox/mail_store.h"
#include "queue/mailbox_index.h"

namespace salvo::queue {

// The system folders, created at first open; never deleted or renamed.
inline constexpr std::string_view kMailboxSystemFolders[] = {
    "INBOX", "Hard", "Soft", "Complaints", "AutoReplies", "Unparsed"};

// "inbox" in any case is INBOX (RFC 3501); other names are case-sensitive.
std::string NormalizeFolderName(std::string_view name);
// kMaxFolderName octets of valid UTF-8, no control characters, no '*' or
// '%', no empty hierarchy level ('/' at either end or "//").
absl::Status ValidateFolderName(std::string_view name);
// NotFound "no folder named ...".
absl::Status NoFolderError(std::string_view name);

absl::Status PlanCreateFolder(MailboxTxn& txn, const std::string& name, absl::Time now);
absl::Status PlanDeleteFolder(MailboxTxn& txn, const std::string& name);
absl::Status PlanRenameFolder(MailboxTxn& txn, const std::string& from, const std::string& to);
absl::Status PlanSubscribe(MailboxTxn& txn, const std::string& name, bool subscribed);

absl::StatusOr<std::vector<mailbox::FlagUpdate>> PlanStoreFlags(MailboxTxn& txn,
                                                                const std::string& folder,
                                                                std::vector<uint32_t> uids,
                                                                mailbox::FlagOp op, uint8_t flags);
absl::StatusOr<mailbox::CopyResult> PlanCopy(MailboxTxn& txn, const std::string& from,
                                             std::vector<uint32_t> uids, const std::string& to,
                                             bool move);
absl::StatusOr<std::vector<uint32_t>> PlanExpunge(MailboxTxn& txn, const std::string& folder,
                                                  const std::optional<std::vector<uint32_t>>& only);

struct NewMessage {
  std::string_view content;
  uint8_t flags = 0;
  absl::Time internal_date;
  const mailbox::MessageAttributes* attributes = nullptr;
};
// One blob, one message in each of `folders` (distinct); their UIDs in order.
absl::StatusOr<std::vector<uint32_t>> PlanAppend(MailboxTxn& txn,
                                                 const std::vector<std::string>& folders,
                                                 const NewMessage& message);

}  // namespace salvo::queue
