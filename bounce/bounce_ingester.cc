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

}  // namespace

BounceIngester::BounceIngester(BounceIngesterOptions options)
    : options_(std::move(options)),
      soft_(options_.soft_bounce_limit, options_.soft_bounce_window),
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

std::vector<queue::SuppressionEntry> BounceIngester::Suppressions(const dsn::BounceReport& report,
                                                                  const BounceStamp& stamp,
                                                                  absl::Time now) {
  std::vector<queue::SuppressionEntry> out;
  if (!stamp.verified) return out;
  for (const dsn::BouncedRecipient& r : report.recipients) {
    if (r.address.empty() || r.address.find('@') == std::string::npos) continue;
    std::string reason = OneLine(
        fmt::format("{} {} {}", CategoryLabel(r.classification), r.status, r.diagnostic), 300);
    const char* source = nullptr;
    if (report.kind == dsn::BounceKind::kArfComplaint ||
        r.classification.category == dsn::BounceCategory::kComplaint) {
      source = "complaint";
      reason = fmt::format("complaint ({})", OneLine(report.feedback_type, 40));
    } else if (r.action == "failed" && IsHardAddressFailure(r.classification)) {
      source = "bounce";
    } else if (r.action == "failed" && r.classification.category != dsn::BounceCategory::kUnknown &&
               soft_.Record(queue::NormalizeAddress(r.address), now)) {
      source = "soft-bounce";
      reason = fmt::format("{} soft bounces within {}: {}", options_.soft_bounce_limit,
                           absl::FormatDuration(options_.soft_bounce_window), reason);
    }
    if (source == nullptr) continue;
    out.push_back(queue::SuppressionEntry{.address = queue::NormalizeAddress(r.address),
                                          .reason = std::move(reason),
                                          .source = source,
                                          .created = now});
  }
  return out;
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
  for (queue::SuppressionEntry& entry : Suppressions(report, result.stamp, now)) {
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
      "bounce {}: from=<{}> kind={} category={} recipient={} verp={} folder={} uid={} "
      "suppressed={}",
      message.session_id, OneLine(message.reverse_path, 100), result->stamp.kind,
      result->stamp.category, OneLine(result->stamp.recipient, 100),
      result->stamp.verified ? "verified" : "none", result->folder, result->inbox_uid,
      result->suppressed.size());
  co_return smtp::AcceptedMessage{.queue_id = fmt::format("bounce-{}", result->inbox_uid)};
}

}  // namespace salvo::bounce
