// What goes on the wire for one recipient: the envelope and the content.
//
//  - A single message goes as stored (raw RFC 5322) from its stored sender;
//    all of its recipients at one domain share one transaction.
//  - A campaign is rendered per recipient: its template is compiled once per
//    shard and cached (ContentCache), rendered with the recipient's
//    variables into a buffer the session reuses, with a Message-ID
//    (<recipient id>@<hostname>, stable across retries) and a Date; its
//    return path is the VERP address bounce+TOKEN@<bounce domain> when VERP
//    is configured; bulk-sender headers (List-Unsubscribe with a signed
//    one-click link, Feedback-ID, List-Id, Precedence) from the campaign's
//    tags. DKIM signing happens after rendering, in the session.
//
// ContentCache: loads contents from the spool (on its reader thread),
// coalescing concurrent loads of one content, and keeps at most
// `max_entries` (oldest first out). Single-threaded: one per shard.
#pragma once

#include <coroutine>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/delivery/lease.h"
#include "engine/dkim/dkim_signer.h"
#include "engine/loop/task.h"
#include "engine/render/campaign_template.h"
#include "engine/render/unsubscribe.h"
#include "engine/render/verp.h"
#include "engine/smtp/client_session.h"
#include "queue/records.h"
#include "queue/spool.h"

namespace salvo::delivery {

// DKIM work kept with a loaded content (per shard, like the cache holding
// it): a single message is signed once however many transactions carry it; a
// campaign with a static body has its body hashed once.
struct ContentSigning {
  std::shared_ptr<const dkim::DkimSigner> signer;        // the signer these were made with
  std::optional<absl::StatusOr<std::string>> signature;  // single message
  std::shared_ptr<const dkim::DkimBodyHash> body_hash;   // static campaign body
};

struct LoadedContent {
  std::shared_ptr<const queue::Content> record;        // as stored; keeps `message` alive
  const queue::Message* message = nullptr;             // a single message, or
  std::unique_ptr<render::CampaignTemplate> campaign;  // a compiled campaign
  queue::CampaignSettings settings;
  mutable ContentSigning dkim;  // single-threaded: owned by one shard's cache
  bool is_campaign() const { return campaign != nullptr; }
  // The campaign tag `name` (settings.metadata), or "".
  std::string_view Tag(std::string_view name) const;
};

// Per-campaign bulk-sender headers, from the campaign's tags (docs/api.md):
//   unsubscribe = "off"    no List-Unsubscribe (transactional mail)
//   unsubscribe_mailto     adds <mailto:...> to List-Unsubscribe
//   list_id                List-Id: <list_id> (RFC 2919)
//   precedence             Precedence: bulk | list
//   feedback_campaign, customer, mail_type, sender_id
//                          the four parts of Feedback-ID (defaults: the
//                          campaign id, "default", "bulk", the host name)

class ContentCache {
 public:
  ContentCache(queue::Spool* spool, size_t max_entries)
      : spool_(spool), max_entries_(std::max<size_t>(1, max_entries)) {}

  // `ahead`: the content as read ahead with its recipients (or null); on a
  // miss it is prepared from that instead of read from the spool.
  Task<absl::StatusOr<std::shared_ptr<const LoadedContent>>> Get(
      queue::ContentId id, std::shared_ptr<const queue::Content> ahead = nullptr);
  size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    std::optional<absl::StatusOr<std::shared_ptr<const LoadedContent>>> result;
    std::vector<std::coroutine_handle<>> waiters;
  };
  struct SlotAwaiter {
    std::shared_ptr<Slot> slot;
    bool await_ready() const noexcept { return slot->result.has_value(); }
    void await_suspend(std::coroutine_handle<> h) { slot->waiters.push_back(h); }
    void await_resume() const noexcept {}
  };
  Task<void> Load(queue::ContentId id, std::shared_ptr<Slot> slot);
  void Evict();

  queue::Spool* spool_;
  size_t max_entries_;
  absl::flat_hash_map<queue::ContentId, std::shared_ptr<Slot>> slots_;
  std::deque<queue::ContentId> order_;
};

// Builds a LoadedContent from what the spool stored (compiles a campaign).
// A single message is not copied: the LoadedContent shares `content`.
absl::StatusOr<std::shared_ptr<const LoadedContent>> PrepareContent(
    std::shared_ptr<const queue::Content> content);
absl::StatusOr<std::shared_ptr<const LoadedContent>> PrepareContent(queue::Content content);

class MessageRenderer {
 public:
  MessageRenderer(std::string hostname, std::string verp_secret, std::string bounce_domain);

  // The envelope of a single message for `recipients` (all of them).
  smtp::Envelope MessageEnvelope(const queue::Message& message,
                                 const std::vector<LeasedRecipient>& recipients) const;
  // Renders campaign `content` for `r` into `out`; fills `envelope`. With a
  // `public_url` ([api] public_url), adds the one-click List-Unsubscribe.
  absl::Status RenderCampaign(const LoadedContent& content, const LeasedRecipient& r,
                              smtp::Envelope& envelope, std::string& out,
                              std::string_view public_url = "") const;

 private:
  std::vector<std::pair<std::string, std::string>> BulkHeaders(const LoadedContent& content,
                                                               const LeasedRecipient& r,
                                                               std::string_view public_url) const;

  std::string hostname_;
  std::optional<render::VerpCodec> verp_;
  std::optional<render::UnsubscribeCodec> unsubscribe_;
  std::string bounce_domain_;
};

}  // namespace salvo::delivery
