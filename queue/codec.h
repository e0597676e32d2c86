// Encoding of every spool value: one format-version byte, then the fields of
// wire.h. Field numbers below are the on-disk contract: never reuse or
// renumber one; add new fields with new numbers (older records simply lack
// them and decode to the defaults). A change that old readers must not
// misread bumps kFormatVersion; decoders keep reading every older version.
//
// Decoders return DataLoss for a damaged value and FailedPrecondition for a
// value written by a newer, incompatible Salvo.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "queue/records.h"

namespace salvo::queue {

inline constexpr uint8_t kFormatVersion = 1;
// The version of the spool as a whole (meta "schema"): bumped when the key
// layout or the column families change. 2 added `campaigns` and
// `campaign_events`; a schema 1 spool is upgraded at open (its campaigns get
// records, see recovery.cc), and a Salvo that reads only 1 refuses a 2.
// 3 added `attributions` and `soft_bounces` and feedback refs in
// `campaign_events`: a schema 2 spool opens as is (the new column families
// start empty) and is marked 3; an older Salvo refuses a 3 (RocksDB would
// refuse it anyway: it does not open the new column families).
inline constexpr uint32_t kSchemaVersion = 3;

enum class ContentKind : uint8_t { kMessage = 1, kCampaign = 2 };

// Small per-content facts read at start-up (the content itself may be large).
struct ContentMeta {
  ContentKind kind = ContentKind::kMessage;
  bool sealed = false;     // no more recipients will be added
  uint32_t max_age_s = 0;  // 0: the retry policy's
  // A single message removed from the queue (Spool::CancelMessage): the rest
  // of its recipients are cancelled, after a restart too. A campaign's flag
  // is in its CampaignState.
  bool cancelled = false;
  friend bool operator==(const ContentMeta&, const ContentMeta&) = default;
};

// A recipient's delivery state, written at each attempt that is not final.
struct ScheduleRecord {
  RecipientState state = RecipientState::kDeferred;
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  int64_t last_attempt_ms = 0;
  std::optional<RemoteResponse> last_response;
  std::string last_reason;
  friend bool operator==(const ScheduleRecord&, const ScheduleRecord&) = default;
};

std::string EncodeContentMeta(const ContentMeta& meta);
absl::StatusOr<ContentMeta> DecodeContentMeta(std::string_view value);

void EncodeMessage(const Message& message, std::string* out);
void EncodeCampaign(const Campaign& campaign, std::string* out);
absl::StatusOr<Content> DecodeContent(std::string_view value);

// The immutable part of a recipient (recipients column family).
void EncodeRecipient(const NewRecipient& recipient, std::string* out);
absl::StatusOr<NewRecipient> DecodeRecipient(std::string_view value);
// Only the address (recovery reads no more than that).
absl::StatusOr<std::string_view> DecodeRecipientAddress(std::string_view value);

std::string EncodeSchedule(const ScheduleRecord& record);
absl::StatusOr<ScheduleRecord> DecodeSchedule(std::string_view value);

std::string EncodeEvent(const DeliveryEvent& event);
absl::StatusOr<DeliveryEvent> DecodeEvent(std::string_view value);

std::string EncodeSuppression(const SuppressionEntry& entry);
absl::StatusOr<SuppressionEntry> DecodeSuppression(std::string_view key, std::string_view value);

}  // namespace salvo::queue
