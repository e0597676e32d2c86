// DeliveryShard: the delivery engine's work on one shard (one ring, one
// thread): the domains and sites it owns (see engine_core.h), its DNS
// resolver, content cache, renderer, outcome recorder and the delivery
// sessions it runs. Shard 0 also runs the feeder.
//
// Lifecycle: Init() on the ring thread; Run() until the ring is asked to
// stop, then a clean shutdown: the feeder stops; every waiting recipient is
// given back to the spool; idle connections QUIT; busy sessions finish their
// transaction (after shutdown_grace their I/O is cancelled and their
// recipients given back); outcome writes drain; the resolver closes.
// Everything here runs on the shard's thread; other shards reach it only
// through EngineCore::PostToShard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "dns/resolver.h"
#include "engine/delivery/alarm.h"
#include "engine/delivery/destination_queue.h"
#include "engine/delivery/engine_core.h"
#include "engine/delivery/message_renderer.h"
#include "engine/delivery/outcome_recorder.h"
#include "engine/delivery/site.h"
#include "engine/loop/gate.h"

namespace salvo::delivery {

class DeliverySession;
class Feeder;

class DeliveryShard {
 public:
  DeliveryShard(EngineCore& core, Ring& ring, int index);
  ~DeliveryShard();
  DeliveryShard(const DeliveryShard&) = delete;
  DeliveryShard& operator=(const DeliveryShard&) = delete;

  absl::Status Init();
  Task<void> Run();

  // Hand-overs from other shards (or this one).
  void AcceptDue(std::vector<LeasedRecipient> recipients);  // domain stage
  void AcceptBatches(std::vector<Batch> batches);           // site stage
  void ApplyConfig(std::shared_ptr<const Config> config);
  // A queue flush: every dead site on this shard is tried again.
  void ReviveSites();

  // For the engine's parts on this shard.
  EngineCore& core() { return core_; }
  Ring& ring() { return ring_; }
  int index() const { return index_; }
  bool stopping() const { return stopping_; }
  const std::shared_ptr<const Config>& config_ptr() const { return config_; }
  dns::Resolver& resolver() { return *resolver_; }
  OutcomeRecorder& recorder() { return recorder_; }
  ContentCache& contents() { return contents_; }
  const MessageRenderer& renderer() const { return renderer_; }
  Feeder* feeder() { return feeder_.get(); }

  void Spawn(Task<void> task) { tasks_.Spawn(std::move(task)); }
  // Sends batches to the shard that owns `site_id`.
  void SendToSite(uint64_t site_id, std::vector<Batch> batches);
  // Starts a delivery session on `path` (the site has counted it).
  void StartSession(EgressPath& path);
  void SessionEnded(DeliverySession* session);
  bool CanOpenConnection() const;
  // Pumps `site` again at the next tick (a limit was in the way).
  void PumpLater(Site* site) { pump_later_.insert(site); }
  // Gives every recipient of `b` outcome `o` (deferrals get retry times).
  void GiveOutcome(Batch& b, const queue::DeliveryOutcome& o, const AttemptContext& context);

 private:
  // While every session waits behind a backlog of signatures, waking the
  // ring for each completion only takes CPU from the signing threads: the
  // ring waits for kBatchedWakeEvents completions or [dkim] backlog_wait,
  // whichever is first, as long as at least that much signing work is
  // queued, so the signers cannot run out of it before the ring wakes
  // (Ring::SetWakeBatching; never while a client's session is open on it).
  static constexpr unsigned kBatchedWakeEvents = 64;
  void BatchWakeUpsBehindSigning();
  struct AdmittedGroup {
    DestinationQueue* queue;
    size_t count;  // its recipients, consecutive in the load
  };
  // Reads the records of recipients admitted by their destination queues (in
  // one spool read) and hands each queue its group.
  Task<void> LoadAdmitted(std::vector<LeasedRecipient> recipients,
                          std::vector<AdmittedGroup> groups);
  Task<void> Tick();
  Task<void> Shutdown();
  void Housekeeping();

  EngineCore& core_;
  Ring& ring_;
  const int index_;
  std::shared_ptr<const Config> config_;
  std::unique_ptr<dns::Resolver> resolver_;
  ContentCache contents_;
  MessageRenderer renderer_;
  OutcomeRecorder recorder_;
  std::unique_ptr<Feeder> feeder_;
  Gate tasks_;
  absl::flat_hash_map<std::string, std::unique_ptr<DestinationQueue>> destinations_;
  absl::flat_hash_map<SiteKey, std::unique_ptr<Site>> sites_;
  absl::flat_hash_set<Site*> pump_later_;
  absl::flat_hash_set<DeliverySession*> sessions_;
  bool stopping_ = false;
  Alarm stop_alarm_;
  Alarm tick_alarm_;
  Alarm sessions_done_;
  Deadline last_sweep_{};
};

}  // namespace salvo::delivery
