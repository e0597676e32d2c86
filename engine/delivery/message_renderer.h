// What goes on the wire for one recipient: the envelope and the content.
//
//  - A single message goes as stored (raw RFC 5322) from its stored sender;
//    all of its recipients at one domain share one transaction.
//  - A campaign is rendered per recipient: its template is compiled once per
//    shard and cached (ContentCache), rendered with the recipient's
//    variables into a buffer the session reuses, with a Message-ID
//    (<recipient id>@<hostname>, stable across retries) and a Date; its
//    return path is the VERP address bounce+TOKEN@<bounce domain> when VERP
//    is configured.
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
#include "engine/loop/task.h"
#include "engine/render/campaign_template.h"
#include "engine/render/verp.h"
#include "engine/smtp/client_session.h"
#include "queue/records.h"
#include "queue/spool.h"

namespace salvo::delivery {

struct LoadedContent {
  std::optional<queue::Message> message;               // a single message, or
  std::unique_ptr<render::CampaignTemplate> campaign;  // a compiled campaign
  queue::CampaignSettings settings;
  bool is_campaign() const { return campaign != nullptr; }
};

class ContentCache {
 public:
  ContentCache(queue::Spool* spool, size_t max_entries)
      : spool_(spool), max_entries_(std::max<size_t>(1, max_entries)) {}

  Task<absl::StatusOr<std::shared_ptr<const LoadedContent>>> Get(queue::ContentId id);
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
absl::StatusOr<std::shared_ptr<const LoadedContent>> PrepareContent(queue::Content content);

class MessageRenderer {
 public:
  MessageRenderer(std::string hostname, std::string verp_secret, std::string bounce_domain);

  // The envelope of a single message for `recipients` (all of them).
  smtp::Envelope MessageEnvelope(const queue::Message& message,
                                 const std::vector<LeasedRecipient>& recipients) const;
  // Renders campaign `content` for `r` into `out`; fills `envelope`.
  absl::Status RenderCampaign(const LoadedContent& content, const LeasedRecipient& r,
                              smtp::Envelope& envelope, std::string& out) const;

 private:
  std::string hostname_;
  std::optional<render::VerpCodec> verp_;
  std::string bounce_domain_;
};

}  // namespace salvo::delivery
