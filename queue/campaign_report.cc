#include "queue/campaign_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace salvo::queue {
namespace {

constexpr double kBase = 1.05;

size_t BucketOf(int64_t ms) {
  if (ms < 1) return 0;
  double i = std::ceil(std::log(static_cast<double>(ms) + 0.5) / std::log(kBase));
  return std::min(static_cast<size_t>(std::max(i, 0.0)), CampaignReportBuilder::kBuckets - 1);
}

std::string ReplyKey(const CampaignEventRef& ref) {
  if (ref.code == 0) return ref.enhanced_status.empty() ? "local" : "local " + ref.enhanced_status;
  if (ref.enhanced_status.empty()) return std::to_string(ref.code);
  return fmt::format("{} {}", ref.code, ref.enhanced_status);
}

void Merge(OutcomeCounts& into, const OutcomeCounts& c) {
  into.delivered += c.delivered;
  into.deferred += c.deferred;
  into.failed += c.failed;
  into.expired += c.expired;
  into.suppressed += c.suppressed;
  into.cancelled += c.cancelled;
}

uint64_t& KindCount(FeedbackCounts& c, FeedbackKind kind);

}  // namespace

void CampaignReportBuilder::Count(OutcomeCounts& c, const CampaignEventRef& ref) {
  switch (ref.kind) {
    case RecipientState::kDelivered:
      ++c.delivered;
      return;
    case RecipientState::kDeferred:
    case RecipientState::kQueued:
      ++c.deferred;
      return;
    case RecipientState::kExpired:
      ++c.expired;
      return;
    case RecipientState::kFailed:
      if (ref.cls == OutcomeClass::kSuppressed) {
        ++c.suppressed;
      } else if (ref.cls == OutcomeClass::kCancelled) {
        ++c.cancelled;
      } else {
        ++c.failed;
      }
      return;
  }
}

namespace {
uint64_t& KindCount(FeedbackCounts& c, FeedbackKind kind) {
  switch (kind) {
    case FeedbackKind::kComplained:
      return c.complained;
    case FeedbackKind::kUnsubscribed:
      return c.unsubscribed;
    case FeedbackKind::kBounced:
      break;
  }
  return c.bounced;
}
}  // namespace

void CampaignReportBuilder::AddFeedback(const CampaignEventRef& ref) {
  ++report_.feedback_events;
  FeedbackKind kind = *ref.feedback;
  ++KindCount(report_.feedback, kind);
  auto key = std::make_pair(kind, ref.category);
  auto it = categories_.find(key);
  if (it != categories_.end()) {
    ++it->second;
  } else if (categories_.size() < kTrackedKeys) {
    categories_.emplace(std::move(key), 1);
  } else {
    ++KindCount(other_categories_, kind);
  }
}

void CampaignReportBuilder::Add(const CampaignEventRef& ref) {
  if (ref.feedback) return AddFeedback(ref);
  ++report_.events;
  Count(report_.outcomes, ref);
  auto d = domains_.find(ref.domain);
  if (d != domains_.end()) {
    Count(d->second, ref);
  } else if (domains_.size() < kTrackedKeys) {
    Count(domains_[ref.domain], ref);
  } else {
    Count(other_domains_, ref);
  }
  if (ref.cls != OutcomeClass::kCancelled) {  // a cancel has no reply
    std::string key = ReplyKey(ref);
    auto r = replies_.find(key);
    if (r != replies_.end()) {
      ++r->second;
    } else if (replies_.size() < kTrackedKeys) {
      replies_.emplace(std::move(key), 1);
    } else {
      ++other_replies_;
    }
  }
  if (ref.kind == RecipientState::kDelivered) {
    ++report_.delivered_timed;
    ++histogram_[BucketOf(ref.time_ms - ref.recipient.unix_ms())];
  }
}

std::vector<FeedbackCategoryCount> CampaignReportBuilder::SortedCategories() const {
  std::vector<FeedbackCategoryCount> out;
  out.reserve(categories_.size());
  for (const auto& [key, n] : categories_) out.push_back({key.first, key.second, n});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.category < b.category;
  });
  FeedbackCounts other = other_categories_;
  for (size_t i = kReportCategories; i < out.size(); ++i)
    KindCount(other, out[i].kind) += out[i].count;
  if (out.size() > kReportCategories) out.resize(kReportCategories);
  for (FeedbackKind kind :
       {FeedbackKind::kBounced, FeedbackKind::kComplained, FeedbackKind::kUnsubscribed}) {
    if (uint64_t n = KindCount(other, kind); n > 0) out.push_back({kind, "other", n});
  }
  return out;
}

std::optional<absl::Duration> CampaignReportBuilder::Percentile(double q) const {
  if (report_.delivered_timed == 0) return std::nullopt;
  uint64_t rank =
      static_cast<uint64_t>(std::ceil(q * static_cast<double>(report_.delivered_timed)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += histogram_[i];
    if (seen >= rank) {
      // The bucket's upper bound: within 5% above every value in it.
      return absl::Milliseconds(i == 0 ? 0.0 : std::pow(kBase, static_cast<double>(i)));
    }
  }
  return std::nullopt;
}

CampaignReport CampaignReportBuilder::Finish() const {
  CampaignReport out = report_;
  std::vector<std::pair<std::string, OutcomeCounts>> domains(domains_.begin(), domains_.end());
  std::sort(domains.begin(), domains.end(), [](const auto& a, const auto& b) {
    return a.second.total() != b.second.total() ? a.second.total() > b.second.total()
                                                : a.first < b.first;
  });
  OutcomeCounts other = other_domains_;
  for (size_t i = kReportDomains; i < domains.size(); ++i) Merge(other, domains[i].second);
  if (domains.size() > kReportDomains) domains.resize(kReportDomains);
  if (other.total() > 0) domains.emplace_back("other", other);
  out.domains = std::move(domains);
  std::vector<std::pair<std::string, uint64_t>> replies(replies_.begin(), replies_.end());
  std::sort(replies.begin(), replies.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  uint64_t other_replies = other_replies_;
  for (size_t i = kReportReplies; i < replies.size(); ++i) other_replies += replies[i].second;
  if (replies.size() > kReportReplies) replies.resize(kReportReplies);
  if (other_replies > 0) replies.emplace_back("other", other_replies);
  out.replies = std::move(replies);
  out.feedback_categories = SortedCategories();
  out.p50 = Percentile(0.50);
  out.p90 = Percentile(0.90);
  out.p99 = Percentile(0.99);
  return out;
}

}  // namespace salvo::queue
