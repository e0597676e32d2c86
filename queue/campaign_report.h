// Builds a CampaignReport from a campaign's event refs, one at a time, in
// bounded memory whatever the campaign's size: a fixed log-scale histogram of
// delivery times, and domain and reply tables capped at kTrackedKeys entries
// each (later keys are summed under "other").
#pragma once

#include <array>
#include <cstdint>
#include <string>

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
  std::optional<absl::Duration> Percentile(double q) const;

  CampaignReport report_;
  absl::flat_hash_map<std::string, OutcomeCounts> domains_;
  OutcomeCounts other_domains_;
  absl::flat_hash_map<std::string, uint64_t> replies_;
  uint64_t other_replies_ = 0;
  std::array<uint64_t, kBuckets> histogram_{};
};

}  // namespace salvo::queue
