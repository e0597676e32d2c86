// The spool's in-memory table of campaigns (internal): every campaign ever
// created, with its flags and counters, loaded from the `campaigns` column
// family at start-up and kept in step with it. Guarded by the spool's mutex,
// like the Schedule. Also the encodings of the `campaigns` and
// `campaign_events` records (keys.h).
//
// Counter discipline: a write request adds its CampaignCounters delta in
// Prepare() and puts the whole encoded state in the same batch (so the last
// put of a group carries every change of the group), and subtracts it again in
// Undo(). Flags change the same way. So a read (GetCampaign) may see the
// changes of the group being written a moment before they are durable; they
// are taken back if that write fails. A campaign stays here after its content
// is gone (completed or cancelled): campaigns are few next to recipients.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "queue/campaign_info.h"
#include "queue/ids.h"
#include "queue/records.h"

namespace salvo::queue {

struct CampaignState {
  CampaignId id;
  CampaignSettings settings;
  int64_t created_ms = 0;
  bool closed = false;
  bool paused = false;
  bool cancelled = false;
  CampaignCounters counters;

  CampaignInfo Info() const;
};

// Adds (sign +1) or subtracts (-1) `delta` to `c`.
void AddCounters(CampaignCounters& c, const CampaignCounters& delta, int sign);

class CampaignTable {
 public:
  CampaignState* Find(CampaignId id) {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : it->second.get();
  }
  // Adds a new campaign (or returns the existing one); pointers stay valid
  // until Remove().
  CampaignState* Add(CampaignId id);
  void Remove(CampaignId id) { map_.erase(id); }
  template <typename F>
  void ForEach(F f) {
    for (auto& [id, state] : map_) f(*state);
  }
  size_t size() const { return map_.size(); }

 private:
  absl::flat_hash_map<CampaignId, std::unique_ptr<CampaignState>> map_;
};

// The `campaigns` record (flags, created time, counters; not the settings).
std::string EncodeCampaignState(const CampaignState& state);
absl::Status DecodeCampaignState(std::string_view value, CampaignState* state);
std::string EncodeCampaignSettings(const CampaignSettings& settings);
absl::StatusOr<CampaignSettings> DecodeCampaignSettings(std::string_view value);

// How a final outcome is classed for counters and reports.
enum class OutcomeClass : uint8_t { kPlain = 0, kSuppressed = 1, kCancelled = 2 };
// kSuppressed for a reason "suppressed" or "suppressed: ..." (spool.h).
OutcomeClass ClassOfReason(std::string_view reason);
inline constexpr std::string_view kCancelledReason = "cancelled";

// A campaign event as the report reads it. For a delivery event the full
// event is in `events`; a feedback event (`feedback` set) is only this ref,
// which then carries its address, category and detail too.
struct CampaignEventRef {
  RecipientId recipient;
  RecipientState kind = RecipientState::kDelivered;
  OutcomeClass cls = OutcomeClass::kPlain;
  int64_t time_ms = 0;
  int code = 0;
  std::string enhanced_status;
  std::string domain;
  std::optional<FeedbackKind> feedback;
  std::string category;
  std::string address;
  std::string detail;
};
std::string EncodeCampaignEventRef(const CampaignEventRef& ref);
absl::StatusOr<CampaignEventRef> DecodeCampaignEventRef(std::string_view value);
// The ref of `event` (its domain from its address).
CampaignEventRef RefOf(const DeliveryEvent& event);
// The event a feedback ref stands for (`id` from its key, `campaign` its content).
DeliveryEvent FeedbackEventOf(const CampaignEventRef& ref, EventId id, CampaignId campaign);

// The counter change of one event (final outcome or deferral). `was_deferred`:
// the recipient had been deferred before (it leaves the deferred count).
CampaignCounters DeltaOf(RecipientState kind, OutcomeClass cls, bool was_deferred);

}  // namespace salvo::queue
