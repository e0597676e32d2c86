// Campaign feedback: what arrives after a campaign recipient was delivered —
// a bounce (DSN) or a complaint (ARF) at the bounce MX, or a one-click
// unsubscribe — and the durable soft-bounce counts that decide when repeated
// soft bounces suppress an address. Public types of spool.h's feedback calls.
//
// Attribution: when a campaign recipient's delivered outcome is recorded, the
// same atomic batch puts a 32-byte record recipient id -> campaign id
// (keys.h `attributions`). A bounce names only its recipient id (the VERP
// token, engine/render/verp.h); RecordCampaignFeedback finds the campaign
// there, bumps its counter and writes a feedback event into the campaign's
// event index, in one synced write. The record also keeps which kinds of
// feedback were counted for its recipient (a 17th byte): a DSN the remote MTA
// sends twice, or an unsubscribe clicked twice, counts once. Records older than
// SpoolOptions::feedback_retention are dropped (one DeleteRange per hour):
// feedback for such a recipient is NotFound and attributes nothing.
//
// Soft bounces: per normalised address, the times of its soft bounces within
// the window (at most `limit` of them), in `soft_bounces`. The limit-th soft
// bounce within the window answers "suppress" and starts the count again, as
// bounce/'s in-memory counter did; unlike it, the counts survive a restart.
// Records whose last bounce left the window are deleted by the same hourly
// maintenance.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "queue/ids.h"
#include "queue/records.h"

namespace salvo::queue {

// When soft bounces suppress: `limit` of them within `window`.
struct SoftBouncePolicy {
  int limit = 5;
  absl::Duration window = absl::Hours(7 * 24);
};

struct CampaignFeedback {
  RecipientId recipient;
  // Known to the caller (an unsubscribe token names it): no attribution
  // lookup. Unset: looked up from the recipient's attribution record.
  std::optional<CampaignId> campaign;
  FeedbackKind kind = FeedbackKind::kBounced;
  std::string category;  // "bad-mailbox", "quota-issues", "complaint", "one-click", ...
  std::string address;   // the recipient's address (normalised by the spool)
  std::string detail;    // e.g. "5.1.1 user unknown" (at most 300 octets kept)
  absl::Time time = absl::InfinitePast();  // InfinitePast: now
  // Also count a soft bounce of `address` in the same write.
  std::optional<SoftBouncePolicy> soft;
};

struct FeedbackResult {
  CampaignId campaign;
  EventId event;
  // With `soft`: this soft bounce reached the policy's limit (the caller
  // suppresses the address; the count has started again).
  bool soft_limit_reached = false;
  // This kind of feedback was counted for this recipient before: nothing was
  // written (no counter, no event, no soft-bounce count).
  bool duplicate = false;
};

}  // namespace salvo::queue
