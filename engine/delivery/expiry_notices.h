// ExpiryNotices: the failure DSNs of recipients that the spool expires on its
// own — those no delivery attempt decided: queued (or held, or paused) past
// their maximum age, or leased to an attempt that never reported back before
// the lease and the maximum age ran out. The spool's sweep calls it
// (queue::Spool::ExpiryNotifier) before it writes those expiries.
//
// Like the outcome recorder's failure DSNs (outcome_recorder.h), a DSN is
// accepted into the spool BEFORE the failure it reports is recorded: if it
// cannot be queued (spool full, read error), its content is held back and
// its recipients stay queued until the next sweep. A crash between the two
// writes can repeat a DSN; none is lost. One DSN per content per sweep,
// covering every expiring recipient whose NOTIFY asks for failures; single
// messages only (campaign recipients get events), never for a DSN or to <>.
//
// Runs on the spool's sweeper thread (blocking spool reads are fine there),
// never on a ring.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "queue/spool.h"

namespace salvo::delivery {

class ExpiryNotices {
 public:
  // `config` returns the current configuration ([delivery] DSN keys);
  // `queued` runs after a DSN has been accepted (the engine's Kick).
  ExpiryNotices(queue::Spool& spool, std::function<std::shared_ptr<const Config>()> config,
                std::string hostname, std::function<void()> queued);

  // The notifier: makes the DSNs; returns the contents to hold back.
  std::vector<queue::ContentId> operator()(
      const std::vector<queue::Spool::ExpiringRecipient>& expiring) const;

 private:
  // Makes and queues the DSN for one content's expiring recipients; OK when
  // none is owed. An error holds the content back.
  absl::Status NotifyContent(queue::ContentId content,
                             const std::vector<queue::Spool::ExpiringRecipient>& expiring,
                             absl::Time now) const;

  queue::Spool& spool_;
  std::function<std::shared_ptr<const Config>()> config_;
  std::string hostname_;
  std::function<void()> queued_;
};

}  // namespace salvo::delivery
