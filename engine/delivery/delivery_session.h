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
// Pipelining across messages (policy pipeline_messages, servers with
// PIPELINING and without CHUNKING): a message's content is held back once
// the server said 354 and goes out in one write with the next message's
// commands, whose reply group then begins with the held message's final
// reply. The held transaction is settled (its reply read, its outcomes
// recorded) right after the next Send, and before anything that may wait:
// parking idle, a rate slot in the future, QUIT.
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
  Task<bool> SendSingleMessage(Batch& batch, std::shared_ptr<const LoadedContent> content);
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
  // A campaign message just rendered into rendered() (its body hashed once
  // for the campaign when the body is static).
  Task<std::optional<std::string>> SignRendered(const LoadedContent& content, std::string* why);
  // Sends one transaction for the first `count` recipients of `batch`.
  // `content` lies in rendered() or in `keep`; the transaction may be held
  // (see above).
  Task<bool> Transact(Batch& batch, size_t count, std::string_view content,
                      std::shared_ptr<const LoadedContent> keep = nullptr);
  // Outcomes for the first `count` recipients of `batch` from `result`;
  // false when the connection is no longer usable. At shutdown, a failed
  // connection leaves them in `batch` (released untried by its owner).
  bool RecordOutcomes(Batch& batch, size_t count,
                      const absl::StatusOr<smtp::TransactionResult>& result);
  // Reads the held transaction's final reply (sending its content first if
  // no Send has) and records its outcomes. At shutdown an unsent one is
  // released untried instead.
  Task<void> SettleHeld();
  std::string& rendered() { return render_buffers_[render_index_]; }
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
  // Reused render buffers: rendered() is one; the other may hold the
  // content of the held transaction.
  std::string render_buffers_[2];
  int render_index_ = 0;
  smtp::Envelope envelope_;
  // A transaction whose content's end is held back in the session.
  struct HeldTransaction {
    Batch batch;  // its recipients (released untried if dropped)
    smtp::TransactionResult result;
    std::shared_ptr<const LoadedContent> content;  // keeps the held bytes alive
  };
  std::optional<HeldTransaction> held_;
};

}  // namespace salvo::delivery
