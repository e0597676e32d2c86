#include "engine/delivery/delivery_session.h"

#include <liburing.h>

#include "engine/base/strings.h"
#include "engine/delivery/delivery_shard.h"
#include "engine/delivery/outcome_mapping.h"
#include "engine/delivery/site.h"
#include "spdlog/spdlog.h"

namespace salvo::delivery {

using Kind = queue::DeliveryOutcome::Kind;

DeliverySession::DeliverySession(DeliveryShard& shard, EgressPath& path)
    : shard_(shard), path_(path), site_(path.site()) {}

AttemptContext DeliverySession::Context() const {
  return AttemptContext{.site = site_.name(),
                        .source = conn_                    ? conn_->local
                                  : path_.source().address ? path_.source().address->HostString()
                                                           : "",
                        .tls = conn_ && conn_->session && conn_->session->tls_active(),
                        .peer_dsn = conn_ && conn_->session && conn_->session->capabilities().dsn};
}

void DeliverySession::Wake(bool retire) {
  retire_ = retire_ || retire;
  parked_ = false;
  alarm_.Wake();
}

void DeliverySession::CancelIo() {
  retire_ = true;
  alarm_.Wake();
  if (conn_ && conn_->fd >= 0) shard_.ring().CancelFd(conn_->fd);
}

namespace {

// Resumes the coroutine from the ring's loop: a session never runs inside the
// Site::Pump() that started it.
struct YieldToRing {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    Ring::Current()->Post([h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};

}  // namespace

Task<void> DeliverySession::Run() {
  co_await YieldToRing{};
  bool connected = co_await Connect();
  --path_.starting;
  if (connected) {
    // The policy is read afresh each time: a reload may replace it.
    while (!shard_.stopping() && !retire_ &&
           messages_ < site_.policy().max_messages_per_connection) {
      std::optional<Batch> batch = path_.Take();
      if (!batch) {
        if (held_) {
          // Settling waits on the network: work may arrive meanwhile, and
          // nobody wakes a session that is not parked. Look again first.
          co_await SettleHeld();
          continue;
        }
        bool work = co_await Park();
        if (!work) break;
        continue;
      }
      bool usable = co_await Deliver(*batch);
      if (!batch->empty()) Requeue(*batch);
      if (!usable) break;
    }
    co_await SettleHeld();
    co_await conn_->session->Quit();
  }
  conn_.reset();
  site_.ConnectionClosed(path_);
  shard_.SessionEnded(this);
}

Task<bool> DeliverySession::Connect() {
  EngineCore& core = shard_.core();
  std::shared_ptr<const NextHops> hops = site_.hops();
  DeliverySession* self = this;
  // Every argument named first: g++ 12 mishandles temporaries inside co_await.
  Source source = path_.source();
  DeliveryPolicy policy = site_.policy();
  std::shared_ptr<TlsContext> tls = core.tls;
  std::function<bool()> stopping = [self] { return self->shard_.stopping() || self->retire_; };
  Task<std::variant<SiteConnection, ConnectFailure>> connect =
      ConnectToSite(std::move(hops), std::move(source), std::move(policy), std::move(tls),
                    core.options.tuning.max_addresses_per_attempt, std::move(stopping));
  auto result = co_await std::move(connect);
  if (auto* c = std::get_if<SiteConnection>(&result)) {
    conn_ = std::move(*c);
    core.counters.connections_opened.Add();
    site_.RecordAttempt(true, false, "");
    co_return true;
  }
  auto& failure = std::get<ConnectFailure>(result);
  core.counters.connect_failures.Add();
  if (shard_.stopping()) co_return false;
  queue::DeliveryOutcome o =
      OutcomeFromConnectionError(failure.error, failure.reply, failure.peer, failure.stage);
  site_.RecordAttempt(false, true, o.response.text);
  spdlog::info("site {}: no connection after {} address(es): {}", site_.name(),
               failure.addresses_tried, o.reason);
  // Other connections are alive: leave the waiting mail to them.
  if (site_.connections() <= 1) {
    site_.MarkDead(o, After(core.options.tuning.dead_site_hold));
  }
  co_return false;
}

Task<bool> DeliverySession::Park() {
  path_.idle().Park(this);
  parked_ = true;
  bool woken = co_await alarm_.Wait(After(site_.policy().idle_timeout));
  if (parked_) path_.idle().Unpark(this);  // timed out
  parked_ = false;
  if (woken && !retire_) --path_.starting;
  co_return woken && !retire_ && !shard_.stopping();
}

void DeliverySession::Requeue(Batch& batch) {
  if (shard_.stopping()) {
    batch.ReleaseAll();
    return;
  }
  path_.PushFront(std::move(batch));
  site_.Pump();
}

Task<bool> DeliverySession::AwaitMessageSlot() {
  Deadline at = site_.ReserveMessageSlot();
  if (held_ && Clock::now() < at) co_await SettleHeld();
  while (Clock::now() < at) {
    co_await alarm_.Wait(at);
    if (shard_.stopping() || retire_) co_return false;
  }
  co_return true;
}

Task<bool> DeliverySession::Deliver(Batch& batch) {
  auto content = co_await shard_.contents().Get(batch.content(), batch.ReadAheadContent());
  if (!content.ok()) {
    queue::DeliveryOutcome o;
    o.kind = absl::IsNotFound(content.status()) || absl::IsInvalidArgument(content.status())
                 ? Kind::kFailed
                 : Kind::kDeferred;
    o.reason =
        fmt::format("content {}: {}", batch.content().ToString(), content.status().ToString());
    shard_.GiveOutcome(batch, o, Context());
    co_return true;
  }
  std::shared_ptr<const LoadedContent> loaded = *content;
  bool usable;
  if (loaded->is_campaign()) {
    usable = co_await SendCampaign(batch, *loaded);
  } else {
    usable = co_await SendSingleMessage(batch, std::move(loaded));
  }
  co_return usable;
}

namespace {

queue::DeliveryOutcome DkimDeferral(std::string why) {
  queue::DeliveryOutcome o;
  o.kind = Kind::kDeferred;
  o.reason = fmt::format("not signed (dkim missing_key = \"defer\"): {}", why);
  return o;
}

}  // namespace

Task<std::optional<std::string>> DeliverySession::Sign(
    std::string_view message, std::shared_ptr<const dkim::DkimBodyHash> body_hash,
    std::string* why) {
  dkim::DkimKeyring& keyring = *shard_.core().options.dkim;
  dkim::DkimSigningPool::SignOp op = keyring.pool().Sign(message, std::move(body_hash));
  absl::StatusOr<std::string> signature = co_await op;
  if (signature.ok()) co_return std::move(*signature);
  std::shared_ptr<const DkimConfig> policy = keyring.config();
  *why = std::string(ToStd(signature.status().message()));
  if (policy->missing_key == DkimMissingKey::kDefer) co_return std::nullopt;
  spdlog::debug("dkim: sending unsigned: {}", *why);
  co_return std::string();
}

Task<std::optional<std::string>> DeliverySession::SignSingle(const LoadedContent& content,
                                                             std::string* why) {
  std::shared_ptr<const dkim::DkimSigner> signer = shard_.core().options.dkim->signer();
  ContentSigning& cache = content.dkim;
  if (cache.signer != signer || !cache.signature) {
    dkim::DkimSigningPool::SignOp op =
        shard_.core().options.dkim->pool().Sign(content.message->content);
    absl::StatusOr<std::string> made = co_await op;
    cache.signer = std::move(signer);
    cache.signature = std::move(made);
  }
  if (cache.signature->ok()) co_return **cache.signature;
  std::shared_ptr<const DkimConfig> policy = shard_.core().options.dkim->config();
  *why = std::string(ToStd(cache.signature->status().message()));
  if (policy->missing_key == DkimMissingKey::kDefer) co_return std::nullopt;
  co_return std::string();
}

Task<std::optional<std::string>> DeliverySession::SignRendered(const LoadedContent& content,
                                                               std::string* why) {
  std::shared_ptr<const dkim::DkimBodyHash> hash;
  if (content.campaign->static_body()) {
    dkim::DkimKeyring& keyring = *shard_.core().options.dkim;
    std::shared_ptr<const dkim::DkimSigner> signer = keyring.signer();
    ContentSigning& cache = content.dkim;
    size_t end_of_header = rendered().find("\r\n\r\n");
    if ((cache.signer != signer || !cache.body_hash) && end_of_header != std::string::npos) {
      std::string_view body = std::string_view(rendered()).substr(end_of_header + 4);
      dkim::DkimSigningPool::HashOp op = keyring.pool().HashBody(body);
      absl::StatusOr<dkim::DkimBodyHash> made = co_await op;
      if (made.ok()) {
        cache.signer = std::move(signer);
        cache.body_hash = std::make_shared<const dkim::DkimBodyHash>(std::move(*made));
      }
    }
    if (cache.signer == keyring.signer()) hash = cache.body_hash;
  }
  std::optional<std::string> signature = co_await Sign(rendered(), std::move(hash), why);
  co_return signature;
}

Task<bool> DeliverySession::SendSingleMessage(Batch& batch,
                                              std::shared_ptr<const LoadedContent> content) {
  std::string_view wire = content->message->content;
  const std::shared_ptr<dkim::DkimKeyring>& keyring = shard_.core().options.dkim;
  if (keyring && keyring->signing()) {
    std::string why;
    std::optional<std::string> signature = co_await SignSingle(*content, &why);
    if (!signature) {
      shard_.GiveOutcome(batch, DkimDeferral(std::move(why)), Context());
      co_return true;
    }
    if (!signature->empty()) {
      std::string& out = rendered();
      out = std::move(*signature);
      out += content->message->content;
      wire = out;
    }
  }
  bool slot = co_await AwaitMessageSlot();
  if (!slot) co_return false;
  envelope_ = shard_.renderer().MessageEnvelope(*content->message, batch.recipients());
  bool usable = co_await Transact(batch, batch.recipients().size(), wire, std::move(content));
  co_return usable;
}

Task<bool> DeliverySession::SendCampaign(Batch& batch, const LoadedContent& content) {
  const int max_messages = site_.policy().max_messages_per_connection;
  const std::string public_url = shard_.core().config()->api.public_url;
  const std::shared_ptr<dkim::DkimKeyring>& keyring = shard_.core().options.dkim;
  while (!batch.empty()) {
    if (messages_ >= max_messages || retire_) co_return true;  // the rest goes back
    bool slot = co_await AwaitMessageSlot();
    if (!slot) co_return false;
    absl::Status s = shard_.renderer().RenderCampaign(content, batch.recipients().front(),
                                                      envelope_, rendered(), public_url);
    if (s.ok() && keyring && keyring->signing()) {
      std::string why;
      std::optional<std::string> signature = co_await SignRendered(content, &why);
      if (!signature) {
        queue::DeliveryOutcome o = DkimDeferral(std::move(why));
        const LeasedRecipient& r = batch.recipients().front();
        ApplyRetryPolicy(batch.settings->retry, r.due.attempts, r.due.accepted_at, absl::Now(), o);
        shard_.recorder().Record(r, std::move(o), Context());
        batch.Consume(1);
        continue;
      }
      rendered().insert(0, *signature);
    }
    if (!s.ok()) {
      queue::DeliveryOutcome o;
      o.kind = Kind::kFailed;
      o.reason = fmt::format("rendering failed: {}", ToStd(s.message()));
      shard_.recorder().Record(batch.recipients().front(), std::move(o), Context());
      batch.Consume(1);
      continue;
    }
    bool usable = co_await Transact(batch, 1, rendered());
    if (!usable) co_return false;
  }
  co_return true;
}

Task<bool> DeliverySession::Transact(Batch& batch, size_t count, std::string_view content,
                                     std::shared_ptr<const LoadedContent> keep) {
  smtp::SmtpClientSession& session = *conn_->session;
  EngineCore& core = shard_.core();
  // Holding is worth it only if another message may follow on this connection.
  bool hold =
      !shard_.stopping() && !retire_ && messages_ + 1 < site_.policy().max_messages_per_connection;
  auto result = co_await session.Send(envelope_, content, hold);
  ++messages_;
  core.counters.transactions.Add();
  // The held transaction's reply came first, or the connection failed.
  if (held_) co_await SettleHeld();
  if (result.ok() && result->held) {
    held_.emplace(HeldTransaction{
        .batch = batch.TakeFront(count), .result = std::move(*result), .content = std::move(keep)});
    // Its bytes stay where they are until they are sent: render into the
    // other buffer meanwhile.
    if (content.data() == rendered().data()) render_index_ ^= 1;
    co_return true;
  }
  co_return RecordOutcomes(batch, count, result);
}

bool DeliverySession::RecordOutcomes(Batch& batch, size_t count,
                                     const absl::StatusOr<smtp::TransactionResult>& result) {
  smtp::SmtpClientSession& session = *conn_->session;
  absl::Time now = absl::Now();
  const queue::RetryPolicy& retry = batch.settings->retry;
  AttemptContext ctx = Context();
  if (!result.ok()) {
    if (shard_.stopping()) return false;  // untried at shutdown: released by the caller
    queue::DeliveryOutcome o = OutcomeFromConnectionError(result.status(), session.last_reply(),
                                                          conn_->peer, "transaction");
    site_.RecordAttempt(false, true, o.response.text);
    for (size_t i = 0; i < count; ++i) {
      queue::DeliveryOutcome each = o;
      const LeasedRecipient& r = batch.recipients()[i];
      ApplyRetryPolicy(retry, r.due.attempts, r.due.accepted_at, now, each);
      shard_.recorder().Record(r, std::move(each), ctx);
    }
    batch.Consume(count);
    return false;
  }
  bool any_temp = false;
  std::string temp_text;
  for (size_t i = 0; i < count; ++i) {
    const smtp::SmtpReply& reply = result->ForRecipient(i);
    queue::DeliveryOutcome o = OutcomeFromReply(reply, conn_->peer);
    if (reply.transient()) {
      any_temp = true;
      temp_text = reply.ToString();
    }
    const LeasedRecipient& r = batch.recipients()[i];
    ApplyRetryPolicy(retry, r.due.attempts, r.due.accepted_at, now, o);
    shard_.recorder().Record(r, std::move(o), ctx);
  }
  batch.Consume(count);
  site_.RecordAttempt(!any_temp, any_temp, temp_text);
  return session.reusable();
}

Task<void> DeliverySession::SettleHeld() {
  if (!held_) co_return;
  HeldTransaction held = std::move(*held_);
  held_.reset();
  // At shutdown, a held message none of whose content has left goes back
  // untried (its batch releases it) rather than start I/O past the grace.
  if (shard_.stopping() && conn_->session->holding_unsent()) {
    conn_->session->DropUnsent();
    co_return;
  }
  absl::StatusOr<smtp::SmtpReply> reply = co_await conn_->session->TakeHeldReply();
  absl::StatusOr<smtp::TransactionResult> result;
  if (reply.ok()) {
    held.result.data = std::move(*reply);
    held.result.held = false;
    result = std::move(held.result);
  } else {
    result = reply.status();
  }
  RecordOutcomes(held.batch, held.batch.recipients().size(), result);
  // Left in held.batch at shutdown: released untried as it goes.
}

}  // namespace salvo::delivery
