#include "queue/feedback_records.h"

#include <algorithm>

#include "queue/codec.h"
#include "queue/wire.h"

namespace salvo::queue {

std::optional<Attribution> DecodeAttribution(std::string_view value) {
  if (value.size() != CampaignId::kBytes && value.size() != CampaignId::kBytes + 1) {
    return std::nullopt;
  }
  std::optional<CampaignId> campaign = CampaignId::FromBytes(value.substr(0, CampaignId::kBytes));
  if (!campaign) return std::nullopt;
  Attribution a{.campaign = *campaign};
  if (value.size() > CampaignId::kBytes) a.counted = static_cast<uint8_t>(value.back());
  return a;
}

std::string EncodeAttribution(const Attribution& attribution) {
  std::string out = attribution.campaign.Bytes();
  if (attribution.counted != 0) out.push_back(static_cast<char>(attribution.counted));
  return out;
}

std::string EncodeSoftBounce(const SoftBounceRecord& r) {
  std::string out(1, static_cast<char>(kFormatVersion));
  wire::FieldWriter w(&out);
  w.Varint(1, static_cast<uint64_t>(std::max<int64_t>(r.expires_ms, 0)));
  for (int64_t t : r.times_ms) w.Varint(2, static_cast<uint64_t>(std::max<int64_t>(t, 0)));
  return out;
}

absl::StatusOr<SoftBounceRecord> DecodeSoftBounce(std::string_view value) {
  if (value.empty() || value[0] == 0) return absl::DataLossError("spool soft bounce record: empty");
  if (static_cast<uint8_t>(value[0]) > kFormatVersion) {
    return absl::FailedPreconditionError("spool soft bounce record has a newer format");
  }
  SoftBounceRecord r;
  wire::FieldReader reader(value.substr(1));
  wire::Field f;
  while (reader.Next(&f)) {
    if (f.type != wire::kVarint) continue;
    if (f.number == 1) r.expires_ms = static_cast<int64_t>(f.varint);
    if (f.number == 2) r.times_ms.push_back(static_cast<int64_t>(f.varint));
  }
  if (!reader.status().ok()) return reader.status();
  return r;
}

bool CountSoftBounce(SoftBounceRecord& r, const SoftBouncePolicy& policy, absl::Time now) {
  int64_t now_ms = absl::ToUnixMillis(now);
  int64_t window_ms = absl::ToInt64Milliseconds(policy.window);
  std::erase_if(r.times_ms, [&](int64_t t) { return now_ms - t >= window_ms; });
  r.times_ms.push_back(now_ms);
  if (static_cast<int>(r.times_ms.size()) >= std::max(policy.limit, 1)) {
    r = SoftBounceRecord{};
    return true;
  }
  r.expires_ms = *std::max_element(r.times_ms.begin(), r.times_ms.end()) + window_ms;
  return false;
}

}  // namespace salvo::queue
