#include "bounce/bounce_ingester.h"

#include <algorithm>
#include <utility>

#include "engine/base/metrics.h"
#include "engine/base/strings.h"
#include "fmt/format.h"
#include "queue/ids.h"
#include "spdlog/spdlog.h"

namespace salvo::bounce {
namespace {

const MetricFamily<Counter>& BouncesReceived() {
  static const MetricFamily<Counter>& family = MetricsRegistry::Default().AddCounter(
      "salvo_bounces_received_total", "Messages the bounce MX stored, by category.", {"category"});
  return family;
}

const MetricFamily<Counter>& BounceSuppressions() {
  static const MetricFamily<Counter>& family = MetricsRegistry::Default().AddCounter(
      "salvo_bounce_suppressions_total", "Addresses suppressed because of bounces, by source.",
      {"source"});
  return family;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHardAddressFailure(const dsn::Classification& c) {
  return c.category == dsn::BounceCategory::kHard &&
         (c.reason == dsn::BounceReason::kNoSuchUser || c.reason == dsn::BounceReason::kBadDomain ||
          c.reason == dsn::BounceReason::kInactiveMailbox);
}

std::string Reason(const dsn::BouncedRecipient& r) {
  return OneLine(fmt::format("{} {} {}", CategoryLabel(r.classification), r.status, r.diagnostic),
                 300);
}

// A failed recipient that is neither a complaint nor a hard address failure
// but classified: counted toward the soft-bounce limit.
bool IsSoftCounted(const dsn::BouncedRecipient& r) {
  return r.action == "failed" && r.classification.category != dsn::BounceCategory::kComplaint &&
         r.classification.category != dsn::BounceCategory::kUnknown &&
         !IsHardAddressFailure(r.classification);
}

bool IsComplaint(const dsn::BounceReport& report, const dsn::BouncedRecipient* r) {
  return report.kind == dsn::BounceKind::kArfComplaint ||
         (r != nullptr && r->classification.category == dsn::BounceCategory::kComplaint);
}

// The recipient a verified report's feedback is about (the token names one):
// its first failed or complained-about recipient; null if none.
const dsn::BouncedRecipient* FeedbackRecipient(const dsn::BounceReport& report) {
  for (const dsn::BouncedRecipient& r : report.recipients) {
    if (IsComplaint(report, &r) || r.action == "failed") return &r;
  }
  return nullptr;
}

// The campaign feedback of a report (recipient id, time and soft policy left
// to the caller): a complaint (ARF) or a bounce (a failed recipient); none
// for delays, auto-replies and unknown reports.
std::optional<queue::CampaignFeedback> FeedbackOf(const dsn::BounceReport& report,
                                                  const dsn::BouncedRecipient* about) {
  queue::CampaignFeedback fb;
  if (about != nullptr) fb.address = about->address;
  if (IsComplaint(report, about)) {
    fb.kind = queue::FeedbackKind::kComplained;
    fb.category = "complaint";
    fb.detail = OneLine(report.feedback_type, 40);
    return fb;
  }
  if (about == nullptr) return std::nullopt;
  fb.kind = queue::FeedbackKind::kBounced;
  fb.category = CategoryLabel(about->classification);
  fb.detail = OneLine(fmt::format("{} {}", about->status, about->diagnostic), 300);
  return fb;
}

}  // namespace

BounceIngester::BounceIngester(BounceIngesterOptions options)
    : options_(std::move(options)),
      parsers_(std::make_unique<WorkerPool>(std::max(options_.parse_threads, 1))) {
  if (!options_.verp_secret.empty()) verp_.emplace(options_.verp_secret);
  options_.limits.rules = options_.rules.get();
  for (std::string& a : options_.fbl_addresses) a = Lower(a);
}

BounceIngester::~BounceIngester() { parsers_->Stop(); }

AsyncOp<absl::StatusOr<dsn::BounceReport>> BounceIngester::Parse(const std::string& content) {
  using R = absl::StatusOr<dsn::BounceReport>;
  return AsyncOp<R>([this, &content](AsyncOp<R>::Done done) {
    // The content lives in the awaiting coroutine's frame until `done` runs.
    auto shared = std::make_shared<AsyncOp<R>::Done>(std::move(done));
    bool posted = parsers_->Post(
        [this, &content, shared] { (*shared)(dsn::ParseBounce(content, options_.limits)); });
    if (!posted) (*shared)(absl::UnavailableError("the bounce parser is stopping"));
  });
}

BounceStamp BounceIngester::Attribute(const dsn::BounceReport& report,
                                      const std::vector<std::string>& envelope_recipients) const {
  BounceStamp stamp;
  stamp.category = CategoryLabel(report);
  stamp.kind = report.kind == dsn::BounceKind::kArfComplaint ? "arf"
               : report.kind == dsn::BounceKind::kAutoReply  ? "auto-reply"
               : report.kind == dsn::BounceKind::kDsn        ? "dsn"
                                                             : "unknown";
  if (!report.recipients.empty()) stamp.recipient = report.recipients.front().address;
  if (!verp_) return stamp;
  std::vector<std::string_view> candidates(envelope_recipients.begin(), envelope_recipients.end());
  if (!report.verp_address.empty()) candidates.push_back(report.verp_address);
  for (std::string_view address : candidates) {
    absl::StatusOr<render::RecipientKey> key = verp_->VerifyAddress(address);
    if (!key.ok()) continue;
    std::string_view bytes(reinterpret_cast<const char*>(key->data()), key->size());
    std::optional<queue::RecipientId> id = queue::RecipientId::FromBytes(bytes);
    if (!id) continue;
    stamp.recipient_id = id->ToString();
    stamp.verified = true;
    break;
  }
  return stamp;
}

queue::SuppressionEntry BounceIngester::SoftEntry(const dsn::BouncedRecipient& r,
                                                  absl::Time now) const {
  return queue::SuppressionEntry{
      .address = queue::NormalizeAddress(r.address),
      .reason = fmt::format("{} soft bounces within {}: {}", options_.soft_bounce_limit,
                            absl::FormatDuration(options_.soft_bounce_window), Reason(r)),
      .source = "soft-bounce",
      .created = now};
}

Task<bool> BounceIngester::CountSoft(std::string address, absl::Time now) {
  queue::SoftBouncePolicy policy{.limit = options_.soft_bounce_limit,
                                 .window = options_.soft_bounce_window};
  auto count = options_.spool->CountSoftBounce(address, policy, now);
  absl::StatusOr<bool> reached = co_await count;
  if (reached.ok()) co_return *reached;
  spdlog::warn("bounce: soft bounce of {} not counted: {}", OneLine(address, 100),
               ToStd(reached.status().ToString()));
  co_return false;
}

Task<std::vector<queue::SuppressionEntry>> BounceIngester::Feedback(const dsn::BounceReport& report,
                                                                    absl::Time now,
                                                                    IngestResult& result) {
  std::vector<queue::SuppressionEntry> out;
  const dsn::BouncedRecipient* about = FeedbackRecipient(report);
  std::optional<queue::CampaignFeedback> fb = FeedbackOf(report, about);
  bool soft_counted = false;  // `about`'s soft bounce went with the feedback
  if (fb) {
    fb->recipient = queue::RecipientId::Parse(result.stamp.recipient_id).value_or(fb->recipient);
    fb->time = now;
    if (about != nullptr && IsSoftCounted(*about) && fb->address.find('@') != std::string::npos) {
      fb->soft = queue::SoftBouncePolicy{.limit = options_.soft_bounce_limit,
                                         .window = options_.soft_bounce_window};
    }
    queue::FeedbackKind kind = fb->kind;
    std::string category = fb->category;
    bool with_soft = fb->soft.has_value();
    auto record = options_.spool->RecordCampaignFeedback(std::move(*fb));
    absl::StatusOr<queue::FeedbackResult> recorded = co_await record;
    if (recorded.ok()) {
      if (recorded->duplicate) {
        spdlog::info("bounce: {} feedback for recipient {} was counted before; not again",
                     queue::FeedbackKindName(kind), result.stamp.recipient_id);
      }
      result.stamp.campaign = recorded->campaign.ToString();
      result.feedback = kind;
      result.feedback_category = std::move(category);
      soft_counted = with_soft;
      if (with_soft && recorded->soft_limit_reached) out.push_back(SoftEntry(*about, now));
    } else {
      spdlog::info("bounce: recipient {} not attributed to a campaign: {}",
                   result.stamp.recipient_id, ToStd(recorded.status().ToString()));
    }
  }
  bool complaint = report.kind == dsn::BounceKind::kArfComplaint;
  for (const dsn::BouncedRecipient& r : report.recipients) {
    if (r.address.empty() || r.address.find('@') == std::string::npos) continue;
    if (complaint || r.classification.category == dsn::BounceCategory::kComplaint) {
      out.push_back(queue::SuppressionEntry{
          .address = queue::NormalizeAddress(r.address),
          .reason = fmt::format("complaint ({})", OneLine(report.feedback_type, 40)),
          .source = "complaint",
          .created = now});
    } else if (r.action == "failed" && IsHardAddressFailure(r.classification)) {
      out.push_back(queue::SuppressionEntry{.address = queue::NormalizeAddress(r.address),
                                            .reason = Reason(r),
                                            .source = "bounce",
                                            .created = now});
    } else if (IsSoftCounted(r) && !(soft_counted && &r == about)) {
      auto count = CountSoft(queue::NormalizeAddress(r.address), now);
      bool reached = co_await count;
      if (reached) out.push_back(SoftEntry(r, now));
    }
  }
  co_return out;
}

Task<absl::StatusOr<IngestResult>> BounceIngester::Ingest(
    std::string content, std::vector<std::string> envelope_recipients) {
  auto parse = Parse(content);
  absl::StatusOr<dsn::BounceReport> parsed = co_await parse;
  if (!parsed.ok()) co_return parsed.status();
  const dsn::BounceReport& report = *parsed;
  absl::Time now = absl::Now();

  IngestResult result;
  result.stamp = Attribute(report, envelope_recipients);
  result.folder = std::string(FolderFor(report));
  std::vector<queue::SuppressionEntry> suppressions;
  if (result.stamp.verified) {
    auto feedback = Feedback(report, now, result);
    suppressions = co_await feedback;
  }
  for (queue::SuppressionEntry& entry : suppressions) {
    std::string address = entry.address;
    std::string source = entry.source;
    auto add = options_.spool->AddSuppression(std::move(entry));
    absl::Status added = co_await add;
    if (!added.ok()) co_return added;
    BounceSuppressions().WithLabels({source}).Add();
    result.suppressed.push_back(std::move(address));
  }

  mailbox::MessageAttributes attributes{.category = result.stamp.category,
                                        .campaign = result.stamp.campaign,
                                        .recipient = result.stamp.recipient};
  std::string stored = StampHeaders(result.stamp);
  stored += content;
  auto deliver = options_.spool->mailbox().Deliver(std::move(stored), now, std::move(attributes),
                                                   result.folder);
  auto delivered = co_await deliver;
  if (!delivered.ok()) co_return delivered.status();
  result.inbox_uid = delivered->inbox_uid;
  result.folder_uid = delivered->folder_uid;
  BouncesReceived().WithLabels({result.stamp.category}).Add();
  co_return result;
}

Task<absl::StatusOr<smtp::AcceptedMessage>> BounceIngester::Accept(smtp::InboundMessage message) {
  std::vector<std::string> recipients;
  recipients.reserve(message.recipients.size());
  for (smtp::InboundRecipient& r : message.recipients) recipients.push_back(std::move(r.address));
  auto ingest = Ingest(std::move(message.content), std::move(recipients));
  absl::StatusOr<IngestResult> result = co_await ingest;
  if (!result.ok()) {
    spdlog::warn("bounce {}: not stored: {}", message.session_id,
                 ToStd(result.status().ToString()));
    co_return result.status();
  }
  spdlog::info(
      "bounce {}: from=<{}> kind={} category={} recipient={} verp={} campaign={} feedback={} "
      "folder={} uid={} suppressed={}",
      message.session_id, OneLine(message.reverse_path, 100), result->stamp.kind,
      result->stamp.category, OneLine(result->stamp.recipient, 100),
      result->stamp.verified ? "verified" : "none",
      result->stamp.campaign.empty() ? "-" : result->stamp.campaign,
      result->feedback ? queue::FeedbackKindName(*result->feedback) : "-", result->folder,
      result->inbox_uid, result->suppressed.size());
  co_return smtp::AcceptedMessage{.queue_id = fmt::format("bounce-{}", result->inbox_uid)};
}

}  // namespace salvo::bounce
