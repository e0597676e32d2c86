// Start-up: rebuilds the in-memory schedule and content table from RocksDB,
// and the consistency audit. Recovery reads only the small records
// (content_meta, recipients, schedule) — never the message bodies — and
// walks recipients and schedule records as two sorted streams with the same
// keys, so it needs no lookup table beyond the index it builds.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "engine/base/status_macros.h"
#include "queue/spool_core.h"

namespace salvo::queue {
namespace {

std::string KeyText(std::string_view key) {
  std::string hex;
  for (unsigned char c : key) hex += fmt::format("{:02x}", c);
  return hex;
}

absl::Status Context(const absl::Status& s, const char* cf, std::string_view key) {
  return absl::Status(
      s.code(), fmt::format("{} (record {} in {})", std::string(s.message()), KeyText(key), cf));
}

// Every campaign's state and settings (campaign id, then id + "s").
absl::Status LoadCampaigns(Spool::Core& core) {
  auto it = core.db->Scan(Cf::kCampaigns, /*fill_cache=*/false);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = ToView(it->key());
    auto id = ContentId::FromBytes(key.substr(0, 16));
    if (!id || (key.size() != 16 && key != CampaignSettingsKey(*id))) {
      return absl::DataLossError(fmt::format("bad campaign key {}", KeyText(key)));
    }
    CampaignState* st = core.campaigns.Add(*id);
    if (key.size() == 16) {
      absl::Status s = DecodeCampaignState(ToView(it->value()), st);
      if (!s.ok()) return Context(s, "campaigns", key);
    } else {
      auto settings = DecodeCampaignSettings(ToView(it->value()));
      if (!settings.ok()) return Context(settings.status(), "campaigns", key);
      st->settings = std::move(*settings);
    }
  }
  return FromRocks(it->status(), "scan campaigns");
}

// `migrate` collects campaigns stored before schema 2 (no campaign record).
absl::Status LoadContents(Spool::Core& core, std::vector<uint32_t>& migrate) {
  auto it = core.db->Scan(Cf::kContentMeta, /*fill_cache=*/false);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto id = ContentId::FromBytes(ToView(it->key()));
    auto meta = DecodeContentMeta(ToView(it->value()));
    if (!id)
      return absl::DataLossError(fmt::format("bad content key {}", KeyText(ToView(it->key()))));
    if (!meta.ok()) return Context(meta.status(), "content_meta", ToView(it->key()));
    uint32_t index = core.contents.Add(*id, meta->sealed, meta->max_age_s);
    if (meta->kind != ContentKind::kCampaign) {
      // ResumeInterruptedCancels finishes a cancelled message's cancel.
      if (meta->cancelled) core.contents.at(index).hold = Hold::kCancelled;
      continue;
    }
    ContentSlot& slot = core.contents.at(index);
    slot.campaign = core.campaigns.Find(*id);
    if (slot.campaign == nullptr) {
      slot.campaign = core.campaigns.Add(*id);
      slot.campaign->created_ms = id->unix_ms();
      slot.campaign->closed = meta->sealed;
      migrate.push_back(index);
    }
    slot.hold = slot.campaign->cancelled ? Hold::kCancelled
                : slot.campaign->paused  ? Hold::kPaused
                                         : Hold::kNone;
  }
  return FromRocks(it->status(), "scan content_meta");
}

// Campaign records for campaigns of a schema 1 spool: their settings, and
// counters from what is still queued (their earlier history is unknown).
absl::Status MigrateCampaigns(Spool::Core& core, const std::vector<uint32_t>& migrate,
                              rocksdb::WriteBatch& repairs) {
  if (migrate.empty()) return absl::OkStatus();
  absl::flat_hash_set<uint32_t> migrating(migrate.begin(), migrate.end());
  for (Schedule::Slot s = 0; s < core.schedule.slot_limit(); ++s) {
    const ScheduleEntry& e = core.schedule.at(s);
    if (e.state == EntryState::kFree || !migrating.contains(e.content)) continue;
    CampaignState* st = core.contents.at(e.content).campaign;
    if (st == nullptr) continue;
    ++st->counters.accepted;
    if (e.attempts > 0) ++st->counters.deferred;
  }
  for (uint32_t index : migrate) {
    ContentSlot& slot = core.contents.at(index);
    if (!slot.used || slot.campaign == nullptr) continue;
    std::string body;
    RETURN_IF_ERROR(core.db->Get(Cf::kContents, ContentKey(slot.id), &body));
    ASSIGN_OR_RETURN(slot.campaign->settings, DecodeCampaignSettings(body));
    CampaignState& st = *slot.campaign;
    repairs.Put(core.db->cf(Cf::kCampaigns), CampaignKey(st.id), EncodeCampaignState(st));
    repairs.Put(core.db->cf(Cf::kCampaigns), CampaignSettingsKey(st.id),
                EncodeCampaignSettings(st.settings));
  }
  spdlog::info("spool: {} campaigns of an older spool given campaign records", migrate.size());
  return absl::OkStatus();
}

// A recipient whose content is gone cannot be delivered: it fails.
void FailOrphan(rocksdb::WriteBatch& repairs, RocksDb& db, const RecipientKeyParts& parts,
                std::string_view key, std::string_view address, int attempts) {
  DeliveryEvent event{.id = NewId<EventId>(),
                      .recipient = parts.recipient,
                      .content = parts.content,
                      .kind = RecipientState::kFailed,
                      .time = absl::Now(),
                      .attempts = attempts,
                      .address = std::string(address),
                      .reason = "failed: its content is missing from the spool"};
  repairs.Put(db.cf(Cf::kEvents), EventKey(event.id), EncodeEvent(event));
  repairs.Delete(db.cf(Cf::kRecipients), ToSlice(key));
  if (attempts > 0) repairs.Delete(db.cf(Cf::kSchedule), ToSlice(key));
}

absl::Status LoadRecipients(Spool::Core& core, rocksdb::WriteBatch& repairs) {
  RocksDb& db = *core.db;
  RecoveryReport& report = core.recovery;
  uint64_t estimate = 0;
  db.db()->GetIntProperty(db.cf(Cf::kRecipients), "rocksdb.estimate-num-keys", &estimate);
  core.schedule.Reserve(estimate);
  auto rit = db.Scan(Cf::kRecipients, false);
  auto sit = db.Scan(Cf::kSchedule, false);
  sit->SeekToFirst();
  ContentId last_content;
  int64_t content_index = -1;
  std::string domain;
  for (rit->SeekToFirst(); rit->Valid(); rit->Next()) {
    std::string_view key = ToView(rit->key());
    auto parts = ParseRecipientKey(key);
    if (!parts) return absl::DataLossError(fmt::format("bad recipient key {}", KeyText(key)));
    while (sit->Valid() && ToView(sit->key()) < key) {  // a schedule record without recipient
      repairs.Delete(db.cf(Cf::kSchedule), sit->key());
      ++report.repaired;
      sit->Next();
    }
    int attempts = 0;
    UnixSeconds due = static_cast<UnixSeconds>(parts->recipient.unix_ms() / 1000);
    if (sit->Valid() && ToView(sit->key()) == key) {
      auto record = DecodeSchedule(ToView(sit->value()));
      if (!record.ok()) return Context(record.status(), "schedule", key);
      attempts = record->attempts;
      due = ToIndexSeconds(absl::FromUnixMillis(record->next_attempt_ms));
      ++report.deferred;
      sit->Next();
    }
    auto address = DecodeRecipientAddress(ToView(rit->value()));
    if (!address.ok()) return Context(address.status(), "recipients", key);
    if (content_index < 0 || parts->content != last_content) {
      last_content = parts->content;
      content_index = core.contents.Find(parts->content);
    }
    if (content_index < 0) {
      FailOrphan(repairs, db, *parts, key, *address, attempts);
      ++report.repaired;
      continue;
    }
    size_t at = address->rfind('@');
    domain.assign(at == std::string_view::npos ? std::string_view() : address->substr(at + 1));
    absl::AsciiStrToLower(&domain);
    uint32_t index = static_cast<uint32_t>(content_index);
    core.schedule.Add(parts->recipient, index, core.domains.Intern(domain),
                      static_cast<uint16_t>(std::min(attempts, 0xffff)), due);
    ++core.contents.at(index).live;
  }
  RETURN_IF_ERROR(FromRocks(rit->status(), "scan recipients"));
  for (; sit->Valid(); sit->Next()) {
    repairs.Delete(db.cf(Cf::kSchedule), sit->key());
    ++report.repaired;
  }
  return FromRocks(sit->status(), "scan schedule");
}

// Sealed contents without recipients are left over from nothing we write
// (their last recipient deletes them), but cost nothing to clear.
void DropEmptyContents(Spool::Core& core, rocksdb::WriteBatch& repairs) {
  std::vector<uint32_t> empty;
  core.contents.ForEach([&](uint32_t i, const ContentSlot& c) {
    if (c.sealed && c.live == 0) empty.push_back(i);
  });
  for (uint32_t i : empty) {
    std::string key = ContentKey(core.contents.at(i).id);
    repairs.Delete(core.db->cf(Cf::kContentMeta), key);
    repairs.Delete(core.db->cf(Cf::kContents), key);
    core.contents.Remove(i);
    ++core.recovery.repaired;
  }
}

}  // namespace

absl::Status Recover(Spool::Core& core) {
  absl::Time start = absl::Now();
  rocksdb::WriteBatch repairs;
  std::vector<uint32_t> migrate;
  RETURN_IF_ERROR(LoadCampaigns(core));
  RETURN_IF_ERROR(LoadContents(core, migrate));
  RETURN_IF_ERROR(LoadRecipients(core, repairs));
  RETURN_IF_ERROR(MigrateCampaigns(core, migrate, repairs));
  DropEmptyContents(core, repairs);
  if (repairs.Count() > 0) RETURN_IF_ERROR(core.db->WriteSynced(&repairs));
  RecoveryReport& r = core.recovery;
  r.recipients = core.schedule.size();
  r.contents = core.contents.size();
  r.took = absl::Now() - start;
  spdlog::info(
      "spool: recovered {} recipients ({} already tried) and {} contents in {} ms "
      "(index {} MiB, {} orphaned records removed)",
      r.recipients, r.deferred, r.contents, absl::ToInt64Milliseconds(r.took),
      (core.schedule.MemoryBytes() + core.contents.MemoryBytes()) >> 20, r.repaired);
  return absl::OkStatus();
}

namespace {

// Sets of keys in one column family.
absl::flat_hash_set<std::string> Keys(RocksDb& db, Cf cf, AuditReport& report) {
  absl::flat_hash_set<std::string> keys;
  auto it = db.Scan(cf, false);
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.insert(std::string(ToView(it->key())));
  if (!it->status().ok()) report.problems.push_back(it->status().ToString());
  return keys;
}

}  // namespace

AuditReport AuditSpool(Spool::Core& core) {
  AuditReport report;
  auto& problems = report.problems;
  RocksDb& db = *core.db;
  auto metas = Keys(db, Cf::kContentMeta, report);
  auto bodies = Keys(db, Cf::kContents, report);
  auto schedules = Keys(db, Cf::kSchedule, report);
  report.contents = metas.size();
  report.schedule_records = schedules.size();
  for (const auto& k : metas) {
    if (!bodies.contains(k)) problems.push_back("content without body: " + KeyText(k));
  }
  for (const auto& k : bodies) {
    if (!metas.contains(k)) problems.push_back("content body without meta: " + KeyText(k));
  }
  absl::flat_hash_map<RecipientId, int> indexed;
  absl::flat_hash_map<ContentId, uint32_t> live;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    for (Schedule::Slot s = 0; s < core.schedule.slot_limit(); ++s) {
      const ScheduleEntry& e = core.schedule.at(s);
      if (e.state != EntryState::kFree) ++indexed[e.id()];
    }
    core.contents.ForEach([&](uint32_t, const ContentSlot& c) { live[c.id] = c.live; });
  }
  absl::flat_hash_map<ContentId, uint32_t> per_content;
  auto it = db.Scan(Cf::kRecipients, false);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key(ToView(it->key()));
    auto parts = ParseRecipientKey(key);
    ++report.recipients;
    if (!parts) {
      problems.push_back("bad recipient key " + KeyText(key));
      continue;
    }
    if (!DecodeRecipient(ToView(it->value())).ok())
      problems.push_back("damaged recipient " + KeyText(key));
    if (!metas.contains(parts->content.Bytes()))
      problems.push_back("recipient without content: " + KeyText(key));
    ++per_content[parts->content];
    schedules.erase(key);
    auto found = indexed.find(parts->recipient);
    if (found == indexed.end()) {
      problems.push_back("recipient not in the index: " + parts->recipient.ToString());
    } else if (found->second != 1) {
      problems.push_back(
          fmt::format("recipient {} indexed {} times", parts->recipient.ToString(), found->second));
    }
  }
  if (!it->status().ok()) problems.push_back(it->status().ToString());
  if (indexed.size() != report.recipients) {
    problems.push_back(
        fmt::format("index holds {} recipients, the spool {}", indexed.size(), report.recipients));
  }
  for (const auto& k : schedules)
    problems.push_back("schedule record without recipient: " + KeyText(k));
  for (const auto& [id, n] : live) {
    uint32_t stored = per_content.contains(id) ? per_content[id] : 0;
    if (stored != n) {
      problems.push_back(fmt::format("content {} counts {} recipients, the spool holds {}",
                                     id.ToString(), n, stored));
    }
  }
  auto events = db.Scan(Cf::kEvents, false);
  for (events->SeekToFirst(); events->Valid(); events->Next()) ++report.events;
  return report;
}

}  // namespace salvo::queue
