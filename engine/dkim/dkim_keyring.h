// DkimKeyring: the daemon's DKIM signing state, built from [dkim]: a signer
// whose keys are read from their PEM files once — at start and on each
// reload, on the thread doing the (re)load, never on a ring — and the
// DkimSigningPool that alone uses them, plus the [dkim] policies the
// delivery sessions follow (missing_key) and the API's campaign checks.
//
// Invariants: Create() fails (the daemon does not start) on an unreadable or
// mismatched key; Reload() keeps the previous keys in force when the new ones
// do not load, so a bad SIGHUP never stops signing. signing_threads is fixed
// at Create (a restart changes it). Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "engine/config/config.h"
#include "engine/dkim/dkim_signer.h"
#include "engine/dkim/signing_pool.h"

namespace salvo::dkim {

// The signer options [dkim] describes (keys by file, not yet read).
DkimSignerOptions SignerOptionsFrom(const DkimConfig& config);

class DkimKeyring {
 public:
  static absl::StatusOr<std::shared_ptr<DkimKeyring>> Create(const DkimConfig& config);

  // A new [dkim] section (SIGHUP). On error the previous keys stay.
  absl::Status Reload(const DkimConfig& config);

  DkimSigningPool& pool() { return *pool_; }
  std::shared_ptr<const DkimSigner> signer() const { return pool_->signer(); }
  // The policies of the section the current keys came from.
  std::shared_ptr<const DkimConfig> config() const;
  // True when at least one key is loaded.
  bool signing() const;

  // [api] public_url, which List-Unsubscribe links are built on (the
  // campaign checks need to know whether there is one).
  void set_public_url(std::string url);
  std::string public_url() const;

  // What is wrong with a campaign for bulk-sender rules ([dkim]
  // campaign_checks): its From domain has no key; it is marketing mail
  // (mail_type tag other than "transactional") without any unsubscribe.
  // `from` is the From header value (not checked when it uses variables),
  // `tags` the campaign's tags, `own_unsubscribe` whether its template sets
  // List-Unsubscribe itself. One sentence per problem.
  std::vector<std::string> CampaignProblems(
      std::string_view from, const std::vector<std::pair<std::string, std::string>>& tags,
      bool own_unsubscribe) const;

 private:
  DkimKeyring() = default;

  mutable std::mutex mu_;
  std::shared_ptr<const DkimConfig> config_;  // guarded by mu_
  std::string public_url_;                    // guarded by mu_
  std::unique_ptr<DkimSigningPool> pool_;
};

}  // namespace salvo::dkim
