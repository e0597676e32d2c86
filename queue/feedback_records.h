// Encodings and the pure rules of the spool's feedback records (internal;
// keys.h `attributions` and `soft_bounces`):
//   attribution: the campaign id, 16 bytes as is, then optionally one byte:
//                the FeedbackKinds already counted (FeedbackBit); other sizes
//                are reserved for later formats and read as "no attribution";
//   soft bounce: version byte, then field 1 = expiry (ms: last bounce +
//                window), field 2 (repeated) = bounce times in ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "queue/feedback.h"
#include "queue/ids.h"

namespace salvo::queue {

struct Attribution {
  CampaignId campaign;
  uint8_t counted = 0;  // FeedbackBit()s of the feedback counted so far
};
std::optional<Attribution> DecodeAttribution(std::string_view value);
std::string EncodeAttribution(const Attribution& attribution);
inline uint8_t FeedbackBit(FeedbackKind kind) {
  return static_cast<uint8_t>(1u << static_cast<unsigned>(kind));
}

struct SoftBounceRecord {
  int64_t expires_ms = 0;
  std::vector<int64_t> times_ms;  // oldest first
};
std::string EncodeSoftBounce(const SoftBounceRecord& record);
absl::StatusOr<SoftBounceRecord> DecodeSoftBounce(std::string_view value);

// Counts one soft bounce at `now` into `record` (empty: none so far): drops
// the times that left the window, adds `now`. Returns true when that makes
// `limit` within the window: the record is then emptied (delete it).
bool CountSoftBounce(SoftBounceRecord& record, const SoftBouncePolicy& policy, absl::Time now);

}  // namespace salvo::queue
