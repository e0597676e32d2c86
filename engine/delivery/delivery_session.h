// DeliverySession: one outbound connection of an egress path, as a
// coroutine: connect (MX by MX, address by address), then take the path's
// ready batches one after the other — a single message's recipients in one
// transaction, a campaign's one rendered message each — pacing every
// message by the site's rate, until the policy's messages per connection
// are sent; idle, it parks in the path's pool up to the idle timeout and
// then QUITs. Every await has a deadline (the policy's timeouts).
//
// Outcomes: per recipient from the reply that decides it; a connection that
// fails mid-transaction defers that transaction's recipients and gives the
// batch's untried ones back to the path for another connection. Attempts
// feed the site's backoff. At shutdown, work not yet sent goes back to the
// spool untried.
//
// DKIM ([dkim]): every message is signed after rendering, on the keyring's
// signing pool (never on the ring); the session awaits the signature and
// sends it in front of the message. A key missing for the From domain or a
// signing error sends the message unsigned or defers it (missing_key).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/delivery/alarm.h"
#include "engine/delivery/lease.h"
#include "engine/delivery/message_renderer.h"
#include "engine/delivery/mx_connector.h"
#include "engine/delivery/outcome_recorder.h"
#include "engine/loop/task.h"

namespace salvo::delivery {

class DeliveryShard;
class EgressPath;
class Site;

class DeliverySession {
 public:
  DeliverySession(DeliveryShard& shard, EgressPath& path);
  DeliverySession(const DeliverySession&) = delete;
  DeliverySession& operator=(const DeliverySession&) = delete;

  // Runs the connection to its end. The caller keeps the session alive.
  Task<void> Run();
  // Ends a wait (idle or rate): with work to take, or (retire) to close.
  void Wake(bool retire);
  // Shutdown past its grace: cancels the connection's pending I/O.
  void CancelIo();

 private:
  Task<bool> Connect();
  // Delivers `batch`; false when the connection is no longer usable.
  Task<bool> Deliver(Batch& batch);
  Task<bool> SendSingleMessage(Batch& batch, const LoadedContent& content);
  Task<bool> SendCampaign(Batch& batch, const LoadedContent& content);
  // DKIM: the signature field(s) to put in front of `message` (made on the
  // keyring's signing pool; "" when not signing); nullopt when the
  // missing_key policy defers the message instead, with the reason in
  // `why`. `body_hash` is a campaign's shared body hash, if any.
  Task<std::optional<std::string>> Sign(std::string_view message,
                                        std::shared_ptr<const dkim::DkimBodyHash> body_hash,
                                        std::string* why);
  // A single message's signature, made once per loaded content.
  Task<std::optional<std::string>> SignSingle(const LoadedContent& content, std::string* why);
  // A campaign message just rendered into rendered_ (its body hashed once
  // for the campaign when the body is static).
  Task<std::optional<std::string>> SignRendered(const LoadedContent& content, std::string* why);
  // Sends one transaction for the first `count` recipients of `batch`.
  Task<bool> Transact(Batch& batch, size_t count, std::string_view content);
  // Waits for the site's next message slot; false if shutdown interrupted.
  Task<bool> AwaitMessageSlot();
  // Parks until woken with work (true) or the idle timeout / retirement.
  Task<bool> Park();
  void Requeue(Batch& batch);
  AttemptContext Context() const;

  DeliveryShard& shard_;
  EgressPath& path_;
  Site& site_;
  std::optional<SiteConnection> conn_;
  Alarm alarm_;
  bool retire_ = false;
  bool parked_ = false;
  int messages_ = 0;
  std::string rendered_;  // reused render buffer
  smtp::Envelope envelope_;
};

}  // namespace salvo::delivery
