// Builds a CampaignReport from a campaign's event refs, one at a time, in
// bounded memory whatever the campaign's size: a fixed log-scale histogram of
// delivery times, and domain, reply and feedback-category tables capped at
// kTrackedKeys entries each (later keys are summed under "other"). Feedback
// refs (bounced, complained, unsubscribed) are counted apart from the
// delivery events: by kind and by kind and category.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "queue/campaign_info.h"
#include "queue/campaign_table.h"

namespace salvo::queue {

class CampaignReportBuilder {
 public:
  static constexpr size_t kTrackedKeys = 2000;
  // Histogram buckets: bucket i holds times in [1.05^(i-1), 1.05^i) ms;
  // 1.05^520 ms is about 30 years.
  static constexpr size_t kBuckets = 520;

  void Add(const CampaignEventRef& ref);
  CampaignReport Finish() const;

 private:
  static void Count(OutcomeCounts& c, const CampaignEventRef& ref);
  void AddFeedback(const CampaignEventRef& ref);
  std::optional<absl::Duration> Percentile(double q) const;
  std::vector<FeedbackCategoryCount> SortedCategories() const;

  CampaignReport report_;
  absl::flat_hash_map<std::string, OutcomeCounts> domains_;
  OutcomeCounts other_domains_;
  absl::flat_hash_map<std::string, uint64_t> replies_;
  uint64_t other_replies_ = 0;
  // Feedback by kind and category ("kind/category" keys are not needed: the
  // kind is the pair's first).
  absl::flat_hash_map<std::pair<FeedbackKind, std::string>, uint64_t> categories_;
  FeedbackCounts other_categories_;
  std::array<uint64_t, kBuckets> histogram_{};
};

}  // namespace salvo::queue
