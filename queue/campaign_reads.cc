// The spool's campaign and suppression-list calls (spool.h): status from
// memory, control through campaign_writes.cc, and the reads that walk one
// campaign's slice of the campaign_events index or a page of suppressions on
// the reader thread.
#include <fmt/format.h>

#include "engine/base/status_macros.h"
#include "queue/campaign_report.h"
#include "queue/spool_core.h"

namespace salvo::queue {
namespace {

absl::Status NoCampaign(CampaignId id) {
  return absl::NotFoundError(fmt::format("no campaign has the id {}", id.ToString()));
}

}  // namespace

absl::StatusOr<CampaignInfo> Spool::GetCampaign(CampaignId id) const {
  std::lock_guard<std::mutex> lock(core_->mu);
  const CampaignState* st = core_->campaigns.Find(id);
  if (st == nullptr) return NoCampaign(id);
  return st->Info();
}

SpoolOp<absl::StatusOr<CampaignInfo>> Spool::ControlCampaign(CampaignId id,
                                                             CampaignControl control) {
  using Op = SpoolOp<absl::StatusOr<CampaignInfo>>;
  return Op([core = core_.get(), id, control](Op::Done done) mutable {
    queue::ControlCampaign(*core, id, control, std::move(done));
  });
}

SpoolOp<absl::StatusOr<std::vector<DeliveryEvent>>> Spool::ReadCampaignEvents(CampaignId id,
                                                                              EventId after,
                                                                              size_t limit) {
  using R = absl::StatusOr<std::vector<DeliveryEvent>>;
  if (!GetCampaign(id).ok()) return SpoolOp<R>::Ready(NoCampaign(id));
  return OnReader<R>(core_.get(), [id, after, limit](RocksDb& db) -> R {
    std::vector<DeliveryEvent> events;
    std::string prefix = CampaignKey(id);
    std::string start = CampaignEventKey(id, after);
    auto it = db.Scan(Cf::kCampaignEvents, /*fill_cache=*/false);
    std::string value;
    for (it->Seek(ToSlice(start));
         it->Valid() && it->key().starts_with(ToSlice(prefix)) && events.size() < limit;
         it->Next()) {
      std::string_view key = ToView(it->key());
      if (key == start || key.size() != kCampaignEventKeySize) continue;
      std::optional<EventId> event = EventId::FromBytes(key.substr(16));
      ASSIGN_OR_RETURN(CampaignEventRef ref, DecodeCampaignEventRef(ToView(it->value())));
      if (ref.feedback) {  // a feedback event is its ref alone
        events.push_back(FeedbackEventOf(ref, *event, id));
        continue;
      }
      absl::Status s = db.Get(Cf::kEvents, EventKey(*event), &value);
      if (absl::IsNotFound(s)) continue;  // an event removed by retention
      RETURN_IF_ERROR(s);
      ASSIGN_OR_RETURN(DeliveryEvent e, DecodeEvent(value));
      e.id = *event;
      events.push_back(std::move(e));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan campaign events"));
    return events;
  });
}

SpoolOp<absl::StatusOr<CampaignReport>> Spool::ReportCampaign(CampaignId id) {
  using R = absl::StatusOr<CampaignReport>;
  if (!GetCampaign(id).ok()) return SpoolOp<R>::Ready(NoCampaign(id));
  return OnReader<R>(core_.get(), [id](RocksDb& db) -> R {
    CampaignReportBuilder builder;
    std::string prefix = CampaignKey(id);
    auto it = db.Scan(Cf::kCampaignEvents, /*fill_cache=*/false);
    for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix));
         it->Next()) {
      ASSIGN_OR_RETURN(CampaignEventRef ref, DecodeCampaignEventRef(ToView(it->value())));
      builder.Add(ref);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan campaign events"));
    return builder.Finish();
  });
}

SpoolOp<absl::StatusOr<std::vector<SuppressionEntry>>> Spool::ListSuppressions(std::string after,
                                                                               size_t limit) {
  using R = absl::StatusOr<std::vector<SuppressionEntry>>;
  return OnReader<R>(core_.get(), [after = NormalizeAddress(after), limit](RocksDb& db) -> R {
    std::vector<SuppressionEntry> out;
    auto it = db.Scan(Cf::kSuppressions, /*fill_cache=*/true);
    for (it->Seek(ToSlice(after)); it->Valid() && out.size() < limit; it->Next()) {
      std::string_view key = ToView(it->key());
      if (!after.empty() && key == after) continue;
      ASSIGN_OR_RETURN(SuppressionEntry e, DecodeSuppression(key, ToView(it->value())));
      out.push_back(std::move(e));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan suppressions"));
    return out;
  });
}

SpoolOp<absl::Status> Spool::AddSuppressions(std::vector<SuppressionEntry> entries) {
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(entries.size());
  absl::Time now = absl::Now();
  for (SuppressionEntry& e : entries) {
    e.address = NormalizeAddress(e.address);
    if (e.created == absl::Time()) e.created = now;
    std::string value = EncodeSuppression(e);
    kv.emplace_back(std::move(e.address), std::move(value));
  }
  return SpoolOp<absl::Status>([core = core_.get(),
                                kv = std::move(kv)](SpoolOp<absl::Status>::Done done) mutable {
    core->committer->Submit(NewRecordsRequest(Cf::kSuppressions, std::move(kv), std::move(done)));
  });
}

}  // namespace salvo::queue
