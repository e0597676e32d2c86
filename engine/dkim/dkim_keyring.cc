#include "engine/dkim/dkim_keyring.h"

#include "engine/base/strings.h"
#include "engine/dkim/from_domain.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::dkim {
namespace {

std::optional<crypto::DkimKeyType> KeyType(DkimAlgorithm a) {
  switch (a) {
    case DkimAlgorithm::kRsaSha256:
      return crypto::DkimKeyType::kRsa;
    case DkimAlgorithm::kEd25519Sha256:
      return crypto::DkimKeyType::kEd25519;
    default:
      return std::nullopt;
  }
}

absl::StatusOr<std::shared_ptr<const DkimSigner>> LoadSigner(const DkimConfig& config) {
  absl::StatusOr<std::unique_ptr<DkimSigner>> signer =
      DkimSigner::Create(SignerOptionsFrom(config));
  if (!signer.ok()) {
    return absl::Status(signer.status().code(),
                        fmt::format("[dkim]: {}", ToStd(signer.status().message())));
  }
  return std::shared_ptr<const DkimSigner>(std::move(signer).value());
}

}  // namespace

DkimSignerOptions SignerOptionsFrom(const DkimConfig& config) {
  DkimSignerOptions o;
  for (const DkimKeyConfig& k : config.keys) {
    o.keys.push_back(DkimKeySpec{.domain = k.domain,
                                 .selector = k.selector,
                                 .key_file = k.key_file,
                                 .key_pem = "",
                                 .algorithm = KeyType(k.algorithm)});
  }
  o.header_canonicalization =
      config.header_relaxed ? Canonicalization::kRelaxed : Canonicalization::kSimple;
  o.body_canonicalization =
      config.body_relaxed ? Canonicalization::kRelaxed : Canonicalization::kSimple;
  if (!config.signed_headers.empty()) o.signed_headers = config.signed_headers;
  o.oversigned_headers = config.oversigned_headers;
  o.sign_subdomains = config.sign_subdomains;
  o.expire_after_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(config.expire_after).count();
  return o;
}

absl::StatusOr<std::shared_ptr<DkimKeyring>> DkimKeyring::Create(const DkimConfig& config) {
  absl::StatusOr<std::shared_ptr<const DkimSigner>> signer = LoadSigner(config);
  if (!signer.ok()) return signer.status();
  std::shared_ptr<DkimKeyring> k(new DkimKeyring());
  k->config_ = std::make_shared<const DkimConfig>(config);
  k->pool_ = std::make_unique<DkimSigningPool>(*std::move(signer), config.signing_threads);
  if (!config.keys.empty()) {
    spdlog::info("dkim: {} key(s) loaded, {} signing thread(s)", config.keys.size(),
                 config.signing_threads);
  }
  return k;
}

absl::Status DkimKeyring::Reload(const DkimConfig& config) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (*config_ == config) return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const DkimSigner>> signer = LoadSigner(config);
  if (!signer.ok()) return signer.status();
  pool_->SetSigner(*std::move(signer));
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::make_shared<const DkimConfig>(config);
  spdlog::info("dkim: reloaded, {} key(s)", config.keys.size());
  return absl::OkStatus();
}

std::shared_ptr<const DkimConfig> DkimKeyring::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

bool DkimKeyring::signing() const { return !config()->keys.empty(); }

void DkimKeyring::set_public_url(std::string url) {
  std::lock_guard<std::mutex> lock(mu_);
  public_url_ = std::move(url);
}

std::string DkimKeyring::public_url() const {
  std::lock_guard<std::mutex> lock(mu_);
  return public_url_;
}

std::vector<std::string> DkimKeyring::CampaignProblems(
    std::string_view from, const std::vector<std::pair<std::string, std::string>>& tags,
    bool own_unsubscribe) const {
  std::vector<std::string> problems;
  auto tag = [&](std::string_view name) -> std::string_view {
    for (const auto& [k, v] : tags) {
      if (k == name) return v;
    }
    return "";
  };
  if (from.find("{{") == std::string_view::npos) {
    absl::StatusOr<std::string> domain = FromDomain(from);
    if (domain.ok() && !signer()->HasKeyFor(*domain)) {
      problems.push_back(fmt::format(
          "no DKIM key for the From domain {}: the mail goes unsigned (add a [[dkim.key]])",
          *domain));
    }
  }
  bool marketing = tag("mail_type") != "transactional";
  bool unsubscribe =
      own_unsubscribe || (tag("unsubscribe") != "off" &&
                          (!public_url().empty() || !tag("unsubscribe_mailto").empty()));
  if (marketing && !unsubscribe) {
    problems.push_back(
        "marketing mail without an unsubscribe link: set [api] public_url or the "
        "unsubscribe_mailto tag, or tag the campaign mail_type = \"transactional\"");
  }
  return problems;
}

}  // namespace salvo::dkim
