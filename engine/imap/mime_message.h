// MimeMessage: a stored message split into its MIME parts for FETCH and
// SEARCH (RFC 3501 §6.4.5 sections, RFC 2045/2046 structure). I/O-free; it
// only holds views into the content, which must outlive it.
//
// Bounded: multipart nesting deeper than kMaxDepth, or more than kMaxParts
// parts, is treated as an opaque leaf. Malformed input never fails: a
// message without a header/body separator is all header, a multipart without
// its boundary is a single part.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salvo::imap {

struct HeaderField {
  std::string_view name;
  std::string_view raw;  // the whole field with its folding and CRLF
  std::string value;     // unfolded, trimmed
};

struct MimePart {
  std::string_view header;  // with the blank line that ends it (if any)
  std::string_view body;
  std::vector<HeaderField> fields;
  std::string type = "text", subtype = "plain";  // lower case
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<MimePart> children;      // multipart/*
  std::unique_ptr<MimePart> embedded;  // message/rfc822: the enclosed message

  bool multipart() const { return type == "multipart"; }
  // The first field's unfolded value.
  std::optional<std::string_view> Field(std::string_view name) const;
  std::optional<std::string_view> Param(std::string_view name) const;
  size_t BodyLines() const;
};

class MimeMessage {
 public:
  static constexpr int kMaxDepth = 20;
  static constexpr size_t kMaxParts = 1000;

  explicit MimeMessage(std::string_view content);
  const MimePart& root() const { return root_; }
  std::string_view content() const { return content_; }

  // The bytes of a FETCH BODY[section] (without <partial>), e.g. "",
  // "HEADER", "TEXT", "1", "1.2.MIME", "HEADER.FIELDS (FROM TO)",
  // "2.HEADER.FIELDS.NOT (X-A)". nullopt for an invalid section; an empty
  // string for a part that does not exist (RFC 3501: not an error).
  std::optional<std::string> Section(std::string_view section) const;

 private:
  std::string_view content_;
  MimePart root_;
  size_t parts_ = 0;
};

// Parses one part (header + body) into `part`.
void ParsePart(std::string_view text, MimePart& part, int depth, size_t* parts,
               bool default_rfc822 = false);
// The raw fields whose names are (or, with `exclude`, are not) in `names`,
// followed by the blank line (RFC 3501 HEADER.FIELDS).
std::string FilterHeader(const MimePart& part, const std::vector<std::string>& names, bool exclude);

}  // namespace salvo::imap
