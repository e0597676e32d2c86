// [dkim] and [[dkim.key]]: signing keys per From domain (two keys for one
// domain sign twice: dual rsa + ed25519), canonicalization, the signed
// header list and the policies for a missing key and for campaign checks;
// plus [api] public_url, which the List-Unsubscribe links are built on.
//
// Only what the file says is checked here (names, ranges, duplicates); the
// key files themselves are read when the daemon loads them (engine/dkim),
// so `salvo check-config` works on a machine without the keys.
#include <algorithm>
#include <cctype>

#include "engine/base/strings.h"
#include "engine/config/config_sections.h"
#include "engine/config/domain_pattern.h"

namespace salvo::config_internal {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

absl::StatusOr<std::string> SigningDomain(std::string_view text) {
  if (absl::Status s = CheckDomainName(text); !s.ok()) return s;
  std::string out = AsciiLower(text);
  if (out.back() == '.') out.pop_back();
  return out;
}

// A selector is one or more DNS labels ("s2026", "mail.eu").
absl::StatusOr<std::string> Selector(std::string_view text) {
  bool good =
      !text.empty() && text.size() <= 63 && text.front() != '.' && text.back() != '.' &&
      std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!good) {
    return absl::InvalidArgumentError(fmt::format(
        "selector \"{}\" must be DNS labels of letters, digits, '-' or '_' (e.g. \"s2026\")",
        text));
  }
  return AsciiLower(text);
}

// A header field name (RFC 5322 ftext).
absl::StatusOr<std::string> HeaderName(std::string_view text) {
  bool good =
      !text.empty() && text.size() <= 76 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c > 32 && c < 127 && c != ':'; });
  if (!good) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is not a header field name", text));
  }
  return std::string(text);
}

absl::StatusOr<std::pair<bool, bool>> CanonicalizationPair(std::string_view text) {
  auto one = [](std::string_view part) -> std::optional<bool> {
    if (part == "relaxed") return true;
    if (part == "simple") return false;
    return std::nullopt;
  };
  size_t slash = text.find('/');
  std::optional<bool> header = one(text.substr(0, slash));
  // RFC 6376 §3.5: "c=relaxed" alone means relaxed header, simple body.
  std::optional<bool> body = slash == std::string_view::npos ? false : one(text.substr(slash + 1));
  if (!header || !body) {
    return absl::InvalidArgumentError(fmt::format(
        "canonicalization \"{}\" must be header/body, each \"relaxed\" or \"simple\" (e.g. "
        "\"relaxed/relaxed\")",
        text));
  }
  return std::make_pair(*header, *body);
}

void ReadKey(TableReader& t, std::vector<DkimKeyConfig>* keys) {
  DkimKeyConfig key;
  for (std::string_view required : {"domain", "selector", "key_file"}) {
    if (!t.Has(required)) t.Error(t.where(), t.PathOf(required), "missing required key");
  }
  t.Parsed("domain", SigningDomain, &key.domain);
  t.Parsed("selector", Selector, &key.selector);
  if (t.String("key_file", &key.key_file) && key.key_file.empty()) {
    t.Error("key_file", "must not be empty");
  }
  t.Enum("algorithm",
         {{"rsa-sha256", DkimAlgorithm::kRsaSha256},
          {"ed25519-sha256", DkimAlgorithm::kEd25519Sha256},
          {"rsa", DkimAlgorithm::kRsaSha256},
          {"ed25519", DkimAlgorithm::kEd25519Sha256}},
         &key.algorithm);
  bool duplicate = !key.domain.empty() && !key.selector.empty() &&
                   std::any_of(keys->begin(), keys->end(), [&](const DkimKeyConfig& k) {
                     return k.domain == key.domain && k.selector == key.selector;
                   });
  if (duplicate) {
    t.Error("selector", fmt::format("domain \"{}\" already has a key with selector \"{}\"",
                                    key.domain, key.selector));
  }
  t.Finish();
  keys->push_back(std::move(key));
}

void CheckOversigned(TableReader& t, const DkimConfig& c) {
  if (c.signed_headers.empty()) return;  // the default list holds From
  for (const std::string& o : c.oversigned_headers) {
    bool listed = std::any_of(c.signed_headers.begin(), c.signed_headers.end(),
                              [&](const std::string& s) { return AsciiLower(s) == AsciiLower(o); });
    if (!listed) {
      t.Error("oversigned_headers",
              fmt::format("\"{}\" is over-signed but not in signed_headers; add it there", o));
    }
  }
}

}  // namespace

absl::StatusOr<std::string> PublicUrl(std::string_view text) {
  std::string url(text);
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    rest = "";
  }
  bool good =
      !rest.empty() && rest.front() != '/' && std::none_of(rest.begin(), rest.end(), [](char c) {
        return c <= 32 || c >= 127 || c == '?' || c == '#' || c == '"' || c == '<' || c == '>';
      });
  if (!good) {
    return absl::InvalidArgumentError(
        fmt::format("public_url \"{}\" must be an http:// or https:// URL without query (e.g. "
                    "\"https://mta.example.com\")",
                    text));
  }
  return url;
}

void ReadDkim(TableReader& root, DkimConfig* out) {
  std::optional<TableReader> t = root.Table("dkim");
  if (!t) return;
  std::pair<bool, bool> canon{out->header_relaxed, out->body_relaxed};
  if (t->Parsed("canonicalization", CanonicalizationPair, &canon)) {
    out->header_relaxed = canon.first;
    out->body_relaxed = canon.second;
  }
  if (t->List("signed_headers", HeaderName, &out->signed_headers) && out->signed_headers.empty()) {
    t->Error("signed_headers", "needs at least \"From\"");
  }
  if (!out->signed_headers.empty() &&
      std::none_of(out->signed_headers.begin(), out->signed_headers.end(),
                   [](const std::string& h) { return AsciiLower(h) == "from"; })) {
    t->Error("signed_headers", "must include \"From\" (RFC 6376 §5.4)");
  }
  t->List("oversigned_headers", HeaderName, &out->oversigned_headers);
  CheckOversigned(*t, *out);
  t->Bool("sign_subdomains", &out->sign_subdomains);
  t->Int("signing_threads", 1, 64, &out->signing_threads);
  t->Duration("backlog_wait", seconds(0), milliseconds(50), &out->backlog_wait);
  t->Duration("expire_after", seconds(0), hours(24 * 365), &out->expire_after);
  t->Enum("missing_key",
          {{"send-unsigned", DkimMissingKey::kSendUnsigned}, {"defer", DkimMissingKey::kDefer}},
          &out->missing_key);
  t->Enum("campaign_checks",
          {{"off", CampaignCheck::kOff},
           {"warn", CampaignCheck::kWarn},
           {"error", CampaignCheck::kError}},
          &out->campaign_checks);
  for (TableReader& k : t->ArrayOfTables("key")) ReadKey(k, &out->keys);
  t->Finish();
}

}  // namespace salvo::config_internal
