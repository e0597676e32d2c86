// Column families and key layouts of the spool. Every key is big-endian, so
// RocksDB's bytewise order is numeric and, for UUIDv7 ids, time order.
//
//   meta           "schema"                    -> schema version (varint)
//   content_meta   content id (16)             -> ContentMeta (small: read at start)
//   contents       content id (16)             -> Message or Campaign (large)
//   recipients     content id (16) + rcpt (16) -> RecipientRecord (immutable)
//   schedule       content id (16) + rcpt (16) -> ScheduleRecord (attempts, due, last
//                                                 response); absent until the first attempt
//   events         event id (16)               -> DeliveryEvent
//   suppressions   normalised address          -> SuppressionEntry
//   mailbox        the bounce mailbox: folders, messages, contents (layout in
//                  queue/mailbox_codec.h)
//   campaigns      campaign id (16)            -> CampaignState record (flags, created,
//                                                 counters); rewritten in the batch of
//                                                 every write that changes a counter
//                  campaign id (16) + "s"      -> its CampaignSettings (written once)
//   campaign_events campaign id (16) + event id (16) -> CampaignEventRef (kind, time,
//                                                 reply, domain): the campaign's events in
//                                                 order, written with each event (schema 2);
//                                                 feedback events (bounced, complained,
//                                                 unsubscribed) live only here, their ref
//                                                 carrying address and category (schema 3)
//   attributions   recipient id (16)           -> campaign id (16): written in the batch of
//                                                 a campaign recipient's delivered outcome,
//                                                 so that a later bounce, complaint or
//                                                 unsubscribe finds its campaign; ids below
//                                                 now - feedback_retention go by DeleteRange
//                                                 (UUIDv7 keys are time-ordered) (schema 3)
//   soft_bounces   normalised address          -> SoftBounceRecord (feedback_records.h):
//                                                 soft bounce times within the window
//                                                 (schema 3)
//
// Recipients are keyed under their content so that a campaign's recipients
// are one range (progress, cancel) and recovery walks recipients and their
// schedule records as two sorted streams, merged without a lookup table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "queue/ids.h"

namespace salvo::queue {

enum class Cf : uint8_t {
  kMeta = 0,  // RocksDB's "default" column family
  kContentMeta,
  kContents,
  kRecipients,
  kSchedule,
  kEvents,
  kSuppressions,
  kMailbox,
  kCampaigns,
  kCampaignEvents,
  kAttributions,
  kSoftBounces,
};
inline constexpr size_t kCfCount = 12;
// RocksDB column family names, indexed by Cf.
const char* CfName(Cf cf);

inline constexpr std::string_view kSchemaKey = "schema";

inline std::string ContentKey(ContentId id) { return id.Bytes(); }

inline constexpr size_t kRecipientKeySize = 32;
inline std::string RecipientKey(ContentId content, RecipientId rcpt) {
  std::string k;
  k.reserve(kRecipientKeySize);
  content.AppendTo(&k);
  rcpt.AppendTo(&k);
  return k;
}

struct RecipientKeyParts {
  ContentId content;
  RecipientId recipient;
};
inline std::optional<RecipientKeyParts> ParseRecipientKey(std::string_view key) {
  if (key.size() != kRecipientKeySize) return std::nullopt;
  return RecipientKeyParts{*ContentId::FromBytes(key.substr(0, 16)),
                           *RecipientId::FromBytes(key.substr(16, 16))};
}

inline std::string EventKey(EventId id) { return id.Bytes(); }

inline std::string CampaignKey(CampaignId id) { return id.Bytes(); }
inline std::string CampaignSettingsKey(CampaignId id) {
  std::string k = id.Bytes();  // not `Bytes() + "s"`: g++ 12 -Warray-bounds false positive
  k.push_back('s');
  return k;
}
inline constexpr size_t kCampaignEventKeySize = 32;
inline std::string CampaignEventKey(CampaignId campaign, EventId event) {
  std::string k;
  k.reserve(kCampaignEventKeySize);
  campaign.AppendTo(&k);
  event.AppendTo(&k);
  return k;
}

inline std::string AttributionKey(RecipientId id) { return id.Bytes(); }
// The smallest recipient id created at `unix_ms`: every attribution key below
// it belongs to a recipient created earlier.
inline std::string AttributionBound(int64_t unix_ms) {
  return RecipientId(static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms) << 16, 0).Bytes();
}

}  // namespace salvo::queue
