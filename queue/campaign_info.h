// What the spool tells about a campaign: its status, its per-outcome
// counters and its delivery report (public types of spool.h's campaign calls).
//
// Counters are persisted: every write that changes one (an accept, an
// outcome, an expiry, a cancel) puts the campaign's counter record in the same
// atomic RocksDB batch, so after kill -9 they match exactly the outcomes that
// were recorded. They are kept in memory too (read without I/O), and outlive
// the campaign's content and recipients.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "queue/ids.h"
#include "queue/records.h"

namespace salvo::queue {

struct CampaignCounters {
  uint64_t accepted = 0;    // recipients added
  uint64_t delivered = 0;   // final: delivered
  uint64_t failed = 0;      // final: permanent failure (not expired/suppressed/cancelled)
  uint64_t expired = 0;     // final: past the maximum age
  uint64_t suppressed = 0;  // final: outcome reason "suppressed..." (see spool.h)
  uint64_t cancelled = 0;   // final: cancelled with the campaign
  uint64_t deferred = 0;    // not final: tried, waiting for a retry, now
  uint64_t deferrals = 0;   // deferral events so far (a recipient may have several)
  // Asynchronous feedback after delivery (spool.h RecordCampaignFeedback:
  // the bounce MX, one-click unsubscribe): informational, not outcomes (a
  // bounced recipient also counts delivered).
  uint64_t bounced = 0;
  uint64_t complained = 0;
  uint64_t unsubscribed = 0;

  uint64_t finals() const { return delivered + failed + expired + suppressed + cancelled; }
  // Waiting for their first attempt (or leased for it).
  uint64_t queued() const {
    uint64_t done = finals() + deferred;
    return accepted > done ? accepted - done : 0;
  }
  friend bool operator==(const CampaignCounters&, const CampaignCounters&) = default;
};

enum class CampaignStatus : uint8_t {
  kOpen,       // recipients may still be added (delivery already runs)
  kClosed,     // all recipients submitted, none attempted yet
  kRunning,    // closed, delivery under way
  kPaused,     // recipients stay queued but are not handed out
  kCancelled,  // every recipient not final then was finalised as cancelled
  kCompleted,  // closed and every recipient final
};
const char* CampaignStatusName(CampaignStatus status);

struct CampaignInfo {
  CampaignId id;
  CampaignSettings settings;  // name, envelope sender, max_age, tags, ...
  absl::Time created;
  CampaignStatus status = CampaignStatus::kOpen;
  bool closed = false;
  bool paused = false;
  bool cancelled = false;
  CampaignCounters counters;
};

// What a campaign's control calls can do.
enum class CampaignControl : uint8_t { kPause, kResume, kCancel };

// Event counts by outcome (a recipient deferred twice counts two deferrals).
struct OutcomeCounts {
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t failed = 0;
  uint64_t expired = 0;
  uint64_t suppressed = 0;
  uint64_t cancelled = 0;
  uint64_t total() const {
    return delivered + deferred + failed + expired + suppressed + cancelled;
  }
};

// Feedback events by kind.
struct FeedbackCounts {
  uint64_t bounced = 0;
  uint64_t complained = 0;
  uint64_t unsubscribed = 0;
  uint64_t total() const { return bounced + complained + unsubscribed; }
};

// Feedback events of one kind and category ("bad-mailbox", "complaint", ...).
struct FeedbackCategoryCount {
  FeedbackKind kind = FeedbackKind::kBounced;
  std::string category;
  uint64_t count = 0;
};

// A report computed by streaming a campaign's events with bounded memory.
struct CampaignReport {
  uint64_t events = 0;  // delivery events (the sum of `outcomes`)
  OutcomeCounts outcomes;
  // Feedback events (not in `events`), and by kind and category: largest
  // first, at most kReportCategories named, the rest under "other".
  uint64_t feedback_events = 0;
  FeedbackCounts feedback;
  std::vector<FeedbackCategoryCount> feedback_categories;
  // By recipient domain, largest first; at most kReportDomains named, the
  // rest (and any beyond the tracked table) summed under "other".
  std::vector<std::pair<std::string, OutcomeCounts>> domains;
  // By reply: "250 2.0.0", "550 5.1.1", "local" for no remote reply;
  // largest first, at most kReportReplies named, the rest under "other".
  std::vector<std::pair<std::string, uint64_t>> replies;
  // Accept to delivered, from a log-scale histogram (each value is within
  // ~5% above the true percentile); unset when nothing was delivered.
  uint64_t delivered_timed = 0;
  std::optional<absl::Duration> p50, p90, p99;
};
inline constexpr size_t kReportDomains = 50;
inline constexpr size_t kReportReplies = 50;
inline constexpr size_t kReportCategories = 50;

}  // namespace salvo::queue
