#include "engine/dkim/dkim_signer.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/base/strings.h"
#include "engine/dkim/from_domain.h"
#include "engine/tls/crypto.h"

namespace salvo::dkim {
namespace {

constexpr size_t kFoldAt = 76;  // header lines stay under 78 characters

// Appends tags to a header field, folding before a tag that would not fit.
class Folder {
 public:
  explicit Folder(std::string& out) : out_(out) {
    size_t lf = out_.rfind('\n');
    line_start_ = lf == std::string::npos ? 0 : lf + 1;
  }
  // Appends `piece` after `sep` ("" or " "), or on a new folded line.
  void Add(std::string_view piece, std::string_view sep = " ") {
    if (out_.size() - line_start_ + sep.size() + piece.size() > kFoldAt &&
        out_.size() - line_start_ > 1) {
      out_.append("\r\n\t");
      line_start_ = out_.size() - 1;
    } else {
      out_.append(sep);
    }
    out_.append(piece);
  }
  // Starts a new folded line (for b=, whose value is then split freely).
  void Break() {
    out_.append("\r\n\t");
    line_start_ = out_.size() - 1;
  }
  size_t room() const {
    size_t used = out_.size() - line_start_;
    return used < kFoldAt ? kFoldAt - used : 0;
  }

 private:
  std::string& out_;
  size_t line_start_;
};

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("cannot read DKIM key file {}", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

std::vector<std::string> DefaultSignedHeaders() {
  return {"From",       "Reply-To",         "To",
          "Cc",         "Subject",          "Date",
          "Message-ID", "MIME-Version",     "Content-Type",
          "List-Id",    "List-Unsubscribe", "List-Unsubscribe-Post",
          "Feedback-ID"};
}

absl::StatusOr<std::unique_ptr<DkimSigner>> DkimSigner::Create(DkimSignerOptions options) {
  std::unique_ptr<DkimSigner> signer(new DkimSigner(std::move(options)));
  const DkimSignerOptions& o = signer->options_;
  for (const DkimKeySpec& spec : o.keys) {
    if (spec.domain.empty() || spec.selector.empty()) {
      return absl::InvalidArgumentError("a DKIM key needs a domain and a selector");
    }
    std::string pem = spec.key_pem;
    if (!spec.key_file.empty()) {
      auto read = ReadKeyFile(spec.key_file);
      if (!read.ok()) return read.status();
      pem = std::move(*read);
    }
    auto key = crypto::DkimKey::FromPem(pem);
    if (!key.ok()) {
      return absl::InvalidArgumentError(fmt::format("DKIM key for {} (selector {}): {}",
                                                    spec.domain, spec.selector,
                                                    ToStd(key.status().message())));
    }
    if (spec.algorithm && *spec.algorithm != key->type()) {
      return absl::InvalidArgumentError(
          fmt::format("DKIM key for {} (selector {}) is {}, not the configured algorithm",
                      spec.domain, spec.selector, key->algorithm()));
    }
    std::string domain = AsciiLower(spec.domain);
    signer->keys_.push_back(std::make_unique<Key>(Key{domain, spec.selector, std::move(*key)}));
    signer->by_domain_[domain].push_back(signer->keys_.back().get());
  }
  for (const std::string& name : o.signed_headers) {
    std::string lower = AsciiLower(name);
    bool seen = false;
    for (const std::string& s : signer->signed_lower_) seen = seen || s == lower;
    if (seen || lower.empty()) continue;
    bool over = false;
    for (const std::string& s : o.oversigned_headers) over = over || SameFieldName(s, lower);
    signer->signed_lower_.push_back(std::move(lower));
    signer->oversigned_.push_back(over);
  }
  bool from_signed = false;
  for (const std::string& s : signer->signed_lower_) from_signed = from_signed || s == "from";
  if (!from_signed) return absl::InvalidArgumentError("DKIM signed headers must include From");
  return signer;
}

const std::vector<const DkimSigner::Key*>* DkimSigner::KeysFor(std::string_view domain) const {
  while (!domain.empty()) {
    auto it = by_domain_.find(ToAbsl(domain));
    if (it != by_domain_.end()) return &it->second;
    if (!options_.sign_subdomains) return nullptr;
    size_t dot = domain.find('.');
    if (dot == std::string_view::npos) return nullptr;
    domain.remove_prefix(dot + 1);
  }
  return nullptr;
}

bool DkimSigner::HasKeyFor(std::string_view domain) const { return KeysFor(domain) != nullptr; }

DkimBodyHash DkimSigner::HashBody(std::string_view body) const {
  // The canonical body goes straight into the hash: long pieces (runs of the
  // body that canonicalization leaves alone) as they are, short ones (a
  // rewritten line, a line end) gathered first, as each digest update costs a
  // call through OpenSSL.
  crypto::Sha256Stream sha;
  char gathered[2048];
  size_t used = 0;
  CanonicalizeBody(body, options_.body_canonicalization, [&](std::string_view piece) {
    const bool long_piece = piece.size() >= sizeof(gathered) / 4;
    if (long_piece || used + piece.size() > sizeof(gathered)) {
      sha.Update(std::string_view(gathered, used));
      used = 0;
    }
    if (long_piece) {
      sha.Update(piece);
      return;
    }
    std::memcpy(gathered + used, piece.data(), piece.size());
    used += piece.size();
  });
  sha.Update(std::string_view(gathered, used));
  crypto::Sha256Digest digest = sha.Finish();
  return DkimBodyHash{options_.body_canonicalization,
                      crypto::Base64(std::string_view(reinterpret_cast<const char*>(digest.data()),
                                                      digest.size()))};
}

absl::StatusOr<std::string> DkimSigner::Sign(std::string_view message) const {
  auto parts = SplitMessage(message);
  if (!parts.ok()) return parts.status();
  return SignParts(*parts, HashBody(parts->body));
}

absl::StatusOr<std::string> DkimSigner::Sign(std::string_view message,
                                             const DkimBodyHash& body_hash) const {
  if (body_hash.canonicalization != options_.body_canonicalization) {
    return absl::InvalidArgumentError("body hash made with another body canonicalization");
  }
  auto parts = SplitMessage(message);
  if (!parts.ok()) return parts.status();
  return SignParts(*parts, body_hash);
}

void DkimSigner::SignedHeaderData(const MessageParts& parts, std::string& h_tag,
                                  std::string& data) const {
  for (size_t n = 0; n < signed_lower_.size(); ++n) {
    const std::string& name = signed_lower_[n];
    // Instances are signed from the bottom up (RFC 6376 §5.4.2).
    for (size_t i = parts.headers.size(); i-- > 0;) {
      if (!SameFieldName(parts.headers[i].name, name)) continue;
      CanonicalizeHeader(parts.headers[i], options_.header_canonicalization, data);
      h_tag.append(h_tag.empty() ? "" : ":").append(name);
    }
    // Over-signing: one more instance than present hashes as nothing.
    if (oversigned_[n]) h_tag.append(h_tag.empty() ? "" : ":").append(name);
  }
}

std::string DkimSigner::SignatureFieldPrefix(const Key& key, std::string_view h_tag,
                                             const DkimBodyHash& body_hash) const {
  std::string field = "DKIM-Signature:";
  Folder f(field);
  f.Add("v=1;");
  f.Add(fmt::format("a={};", key.key.algorithm()));
  f.Add(fmt::format("c={}/{};", CanonicalizationName(options_.header_canonicalization),
                    CanonicalizationName(body_hash.canonicalization)));
  f.Add(fmt::format("d={};", key.domain));
  f.Add(fmt::format("s={};", key.selector));
  if (options_.timestamp || options_.expire_after_seconds > 0) {
    int64_t now = options_.clock ? options_.clock()
                                 : std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
    if (options_.timestamp) f.Add(fmt::format("t={};", now));
    if (options_.expire_after_seconds > 0) {
      f.Add(fmt::format("x={};", now + options_.expire_after_seconds));
    }
  }
  // h= may fold at any colon (FWS is allowed around them).
  std::string_view rest = h_tag;
  bool first = true;
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string_view name = rest.substr(0, colon);
    std::string piece =
        fmt::format("{}{}{}", first ? "h=" : "", name, colon == std::string_view::npos ? ";" : ":");
    f.Add(piece, first ? " " : "");
    first = false;
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  f.Add(fmt::format("bh={};", body_hash.base64));
  f.Break();
  field.append("b=");
  return field;
}

absl::StatusOr<std::string> DkimSigner::SignParts(const MessageParts& parts,
                                                  const DkimBodyHash& body_hash) const {
  const HeaderField* from = nullptr;
  for (const HeaderField& h : parts.headers) {
    if (!SameFieldName(h.name, "from")) continue;
    if (from != nullptr) return absl::InvalidArgumentError("message has more than one From");
    from = &h;
  }
  if (from == nullptr) return absl::InvalidArgumentError("message has no From header");
  auto domain = FromDomain(from->raw.substr(from->raw.find(':') + 1));
  if (!domain.ok()) return domain.status();
  const std::vector<const Key*>* keys = KeysFor(*domain);
  if (keys == nullptr) {
    return absl::NotFoundError(fmt::format("no DKIM key for From domain {}", *domain));
  }
  std::string h_tag;
  std::string header_data;
  SignedHeaderData(parts, h_tag, header_data);
  const size_t signed_size = header_data.size();
  std::string out;
  for (const Key* key : *keys) {
    std::string field = SignatureFieldPrefix(*key, h_tag, body_hash);
    header_data.resize(signed_size);
    HeaderField self{std::string_view(field).substr(0, 14), field};
    CanonicalizeHeaderNoEol(self, options_.header_canonicalization, header_data);
    auto sig = key->key.Sign(header_data);
    if (!sig.ok()) return sig.status();
    std::string b = crypto::Base64(*sig);
    Folder f(field);
    std::string_view rest = b;
    size_t room = f.room();
    field.append(rest.substr(0, room));
    rest.remove_prefix(std::min(room, rest.size()));
    while (!rest.empty()) {
      f.Break();
      size_t n = std::min(rest.size(), kFoldAt - 1);
      field.append(rest.substr(0, n));
      rest.remove_prefix(n);
    }
    out.append(field).append("\r\n");
  }
  return out;
}

}  // namespace salvo::dkim
