// BounceIngester: what the bounce MX does with a message it received — the
// "bounces in" half of issue 7.
//
//   1. parse it off the ring (engine/dsn ParseBounce on a worker thread:
//      GMime and the classifier are CPU work, bounded by BounceLimits);
//   2. attribute it: the envelope recipient (bounce+TOKEN@bounce-domain) or
//      the VERP return path found inside the report carries an HMAC-signed
//      token (engine/render/verp.h). A forged, damaged or missing token
//      attributes nothing: the bounce is stored but suppresses no one;
//   3. attribute it to its campaign: with a verified token, a DSN with a
//      failed recipient counts as "bounced" (category from its
//      classification) and an ARF report as "complained", through
//      Spool::RecordCampaignFeedback (the campaign's counter and a feedback
//      event, queue/feedback.h). A recipient the spool cannot attribute
//      (a single message, or past the retention) is logged and the bounce
//      goes on: attribution never refuses or loses a bounce;
//   4. suppress: with a verified token, each hard-bounced address
//      (bad-mailbox, bad-domain, inactive-mailbox) and each complained-about
//      address goes on the spool's suppression list (reason, time, source);
//      a soft-bounced address only after soft_bounce_limit within the window,
//      counted durably in the spool (in the same write as step 3's feedback
//      when it is about the same recipient), so a restart forgets nothing;
//   5. store it in the bounce mailbox (queue::Mailbox): INBOX and its
//      category folder, with X-Salvo-* fields prepended (bounce_filing.h).
//
// Durability: the SMTP "250" comes only after 3, 4 and 5 are durable. A crash
// in between makes the sending MTA retry; suppressions are idempotent, so
// the retry at worst stores a second copy — nothing is lost, and the spool
// counts a recipient's feedback of one kind (with its soft bounce) only once.
//
// Threads: Accept() runs on a ring and awaits AsyncOps; one instance serves
// every shard. The spool (and so its mailbox) must outlive it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bounce/bounce_filing.h"
#include "engine/base/worker_pool.h"
#include "engine/dsn/bounce_parse.h"
#include "engine/render/verp.h"
#include "engine/smtp/server/message_sink.h"
#include "queue/mailbox.h"
#include "queue/spool.h"

namespace salvo::bounce {

struct BounceIngesterOptions {
  queue::Spool* spool = nullptr;  // required; its mailbox stores the bounces
  std::string verp_secret;        // "" = no token ever verifies
  std::vector<std::string> fbl_addresses;
  dsn::BounceLimits limits;
  std::shared_ptr<const dsn::BounceRules> rules;  // null: the built-in rules
  int soft_bounce_limit = 5;
  absl::Duration soft_bounce_window = absl::Hours(7 * 24);
  int parse_threads = 1;
};

// What one bounce came to (logs, tests).
struct IngestResult {
  std::string folder;  // category folder it was filed in
  uint32_t inbox_uid = 0;
  uint32_t folder_uid = 0;
  BounceStamp stamp;
  std::vector<std::string> suppressed;  // addresses added to the suppression list
  // Set when the feedback was attributed to a campaign (step 3).
  std::optional<queue::FeedbackKind> feedback;
  std::string feedback_category;
};

class BounceIngester final : public smtp::MessageSink {
 public:
  explicit BounceIngester(BounceIngesterOptions options);
  ~BounceIngester() override;

  Task<absl::StatusOr<smtp::AcceptedMessage>> Accept(smtp::InboundMessage message) override;
  // The work of Accept for a message that came from elsewhere (tests,
  // tools): envelope recipients are the bounce addresses it was sent to.
  Task<absl::StatusOr<IngestResult>> Ingest(std::string content,
                                            std::vector<std::string> envelope_recipients);

 private:
  AsyncOp<absl::StatusOr<dsn::BounceReport>> Parse(const std::string& content);
  BounceStamp Attribute(const dsn::BounceReport& report,
                        const std::vector<std::string>& envelope_recipients) const;
  // Steps 3 and 4 for a verified report: attributes its feedback (filling
  // result's feedback fields and stamp.campaign), counts its soft bounces and
  // returns the suppression entries it calls for.
  Task<std::vector<queue::SuppressionEntry>> Feedback(const dsn::BounceReport& report,
                                                      absl::Time now, IngestResult& result);
  // Counts a soft bounce of `address` alone; true at the limit. Errors are
  // logged and count as false (the bounce is still stored).
  Task<bool> CountSoft(std::string address, absl::Time now);
  // The suppression entry of a soft-bounced address that reached the limit.
  queue::SuppressionEntry SoftEntry(const dsn::BouncedRecipient& r, absl::Time now) const;

  BounceIngesterOptions options_;
  std::optional<render::VerpCodec> verp_;
  std::unique_ptr<WorkerPool> parsers_;
};

}  // namespace salvo::bounce
