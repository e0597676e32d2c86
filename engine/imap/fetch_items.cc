#include "engine/imap/fetch_items.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo::imap {
namespace {

using Kind = FetchItem::Kind;

absl::Status ParseSectionItem(const std::string& text, FetchItem& item) {
  // BODY[section]<start.length> or BODY.PEEK[...]
  size_t open = text.find('[');
  size_t close = text.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return absl::InvalidArgumentError("bad section");
  }
  std::string head = absl::AsciiStrToUpper(text.substr(0, open));
  if (head != "BODY" && head != "BODY.PEEK") {
    return absl::InvalidArgumentError(fmt::format("unknown fetch item {}", head));
  }
  item.kind = Kind::kSection;
  item.peek = head == "BODY.PEEK";
  item.section = text.substr(open + 1, close - open - 1);
  std::string upper_section = absl::AsciiStrToUpper(item.section);
  item.name = "BODY[" + upper_section + "]";
  std::string tail = text.substr(close + 1);
  if (tail.empty()) return absl::OkStatus();
  if (tail.size() < 3 || tail.front() != '<' || tail.back() != '>') {
    return absl::InvalidArgumentError("bad partial");
  }
  std::string range = tail.substr(1, tail.size() - 2);
  size_t dot = range.find('.');
  uint64_t start = 0, length = 0;
  if (dot == std::string::npos || !absl::SimpleAtoi(range.substr(0, dot), &start) ||
      !absl::SimpleAtoi(range.substr(dot + 1), &length) || length == 0) {
    return absl::InvalidArgumentError("bad partial");
  }
  item.partial_start = start;
  item.partial_length = length;
  return absl::OkStatus();
}

absl::Status ParseItem(const ImapArg& arg, FetchRequest& req) {
  if (arg.kind != ImapArg::kAtom) return absl::InvalidArgumentError("bad fetch item");
  std::string name = absl::AsciiStrToUpper(arg.text);
  auto add = [&](Kind k, std::string echo = "") {
    FetchItem item;
    item.kind = k;
    item.name = std::move(echo);
    req.items.push_back(std::move(item));
  };
  if (name == "ALL" || name == "FAST" || name == "FULL") {
    add(Kind::kFlags);
    add(Kind::kInternalDate);
    add(Kind::kSize);
    if (name != "FAST") add(Kind::kEnvelope);
    if (name == "FULL") add(Kind::kBody);
  } else if (name == "FLAGS") {
    add(Kind::kFlags);
  } else if (name == "UID") {
    add(Kind::kUid);
  } else if (name == "INTERNALDATE") {
    add(Kind::kInternalDate);
  } else if (name == "RFC822.SIZE") {
    add(Kind::kSize);
  } else if (name == "ENVELOPE") {
    add(Kind::kEnvelope);
  } else if (name == "BODY") {
    add(Kind::kBody);
  } else if (name == "BODYSTRUCTURE") {
    add(Kind::kBodyStructure);
  } else if (name == "RFC822" || name == "RFC822.HEADER" || name == "RFC822.TEXT") {
    FetchItem item;
    item.kind = Kind::kSection;
    item.name = name;
    item.section = name == "RFC822" ? "" : name == "RFC822.HEADER" ? "HEADER" : "TEXT";
    item.peek = name == "RFC822.HEADER";
    req.items.push_back(std::move(item));
  } else if (name.find('[') != std::string::npos) {
    FetchItem item;
    absl::Status st = ParseSectionItem(arg.text, item);
    if (!st.ok()) return st;
    req.items.push_back(std::move(item));
  } else {
    return absl::InvalidArgumentError(fmt::format("unknown fetch item {}", name));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FetchRequest> ParseFetch(const std::vector<ImapArg>& args, size_t first,
                                        bool uid_command) {
  if (first >= args.size()) return absl::InvalidArgumentError("missing fetch items");
  if (first + 1 < args.size()) return absl::InvalidArgumentError("too many arguments");
  FetchRequest req;
  if (uid_command) {
    FetchItem uid;
    uid.kind = Kind::kUid;
    req.items.push_back(uid);
  }
  const ImapArg& a = args[first];
  if (a.kind == ImapArg::kList) {
    if (a.list.empty()) return absl::InvalidArgumentError("empty fetch list");
    for (const ImapArg& item : a.list) {
      absl::Status st = ParseItem(item, req);
      if (!st.ok()) return st;
    }
  } else {
    absl::Status st = ParseItem(a, req);
    if (!st.ok()) return st;
  }
  bool seen_uid = false;
  std::vector<FetchItem> unique;
  for (FetchItem& item : req.items) {
    if (item.kind == Kind::kUid) {
      if (seen_uid) continue;
      seen_uid = true;
    }
    if (item.kind == Kind::kSection || item.kind == Kind::kEnvelope || item.kind == Kind::kBody ||
        item.kind == Kind::kBodyStructure) {
      req.needs_content = true;
    }
    if (item.kind == Kind::kSection && !item.peek) req.sets_seen = true;
    unique.push_back(std::move(item));
  }
  req.items = std::move(unique);
  return req;
}

}  // namespace salvo::imap
