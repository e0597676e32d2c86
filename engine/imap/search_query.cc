#include "engine/imap/search_query.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo::imap {
namespace {

using Op = SearchKey::Op;
constexpr int kMaxSearchDepth = 32;

const char* const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                               "jul", "aug", "sep", "oct", "nov", "dec"};

bool ContainsI(std::string_view haystack, const std::string& lower_needle) {
  if (lower_needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), lower_needle.begin(), lower_needle.end(),
                        [](char a, char b) { return absl::ascii_tolower(a) == b; });
  return it != haystack.end();
}

absl::CivilDay DayOf(absl::Time t) { return absl::ToCivilDay(t, absl::UTCTimeZone()); }

// The Date: header as a day (RFC 5322), or nullopt.
std::optional<absl::CivilDay> SentDay(const MimePart& m) {
  std::optional<std::string_view> d = m.Field("Date");
  if (!d) return std::nullopt;
  std::string v(*d);
  size_t comma = v.find(',');
  if (comma != std::string::npos) v = v.substr(comma + 1);
  std::vector<std::string> parts = absl::StrSplit(v, ' ', absl::SkipEmpty());
  if (parts.size() < 3) return std::nullopt;
  return ParseImapDate(parts[0] + "-" + parts[1] + "-" + parts[2]);
}

class Parser {
 public:
  explicit Parser(const std::vector<ImapArg>& args, size_t first) : args_(args), pos_(first) {}

  absl::StatusOr<SearchKey> All() {
    SearchKey all;
    all.op = Op::kAnd;
    if (pos_ < args_.size() && args_[pos_].IsAtom("CHARSET")) {
      if (pos_ + 1 >= args_.size()) return absl::InvalidArgumentError("CHARSET needs a name");
      std::string cs = absl::AsciiStrToUpper(args_[pos_ + 1].text);
      if (cs != "US-ASCII" && cs != "UTF-8") return absl::InvalidArgumentError("[BADCHARSET]");
      pos_ += 2;
    }
    while (pos_ < args_.size()) {
      absl::StatusOr<SearchKey> k = Key(0);
      if (!k.ok()) return k.status();
      all.children.push_back(std::move(*k));
    }
    if (all.children.empty()) return absl::InvalidArgumentError("missing search keys");
    return all;
  }

 private:
  absl::StatusOr<std::string> Text(std::string_view key) {
    if (pos_ >= args_.size() || !args_[pos_].IsAString()) {
      return absl::InvalidArgumentError(fmt::format("{} needs an argument", key));
    }
    return args_[pos_++].text;
  }
  absl::StatusOr<SearchKey> Key(int depth) {
    if (depth > kMaxSearchDepth) return absl::InvalidArgumentError("search nested too deeply");
    const ImapArg& a = args_[pos_++];
    SearchKey k;
    if (a.kind == ImapArg::kList) {
      k.op = Op::kAnd;
      Parser inner(a.list, 0);
      while (inner.pos_ < a.list.size()) {
        absl::StatusOr<SearchKey> c = inner.Key(depth + 1);
        if (!c.ok()) return c.status();
        k.children.push_back(std::move(*c));
      }
      if (k.children.empty()) return absl::InvalidArgumentError("empty search list");
      return k;
    }
    if (a.kind != ImapArg::kAtom) return absl::InvalidArgumentError("unexpected string");
    std::string name = absl::AsciiStrToUpper(a.text);
    if (name[0] == '*' || (name[0] >= '0' && name[0] <= '9')) {
      auto set = SequenceSet::Parse(a.text);
      if (!set) return absl::InvalidArgumentError("bad sequence set");
      k.op = Op::kSeqSet;
      k.set = std::make_shared<SequenceSet>(std::move(*set));
      return k;
    }
    static const struct {
      const char* name;
      Op op;
      uint8_t flag;
    } kSimple[] = {
        {"ALL", Op::kAll, 0},
        {"ANSWERED", Op::kFlagSet, mailbox::kAnswered},
        {"DELETED", Op::kFlagSet, mailbox::kDeleted},
        {"DRAFT", Op::kFlagSet, mailbox::kDraft},
        {"FLAGGED", Op::kFlagSet, mailbox::kFlagged},
        {"SEEN", Op::kFlagSet, mailbox::kSeen},
        {"UNANSWERED", Op::kFlagClear, mailbox::kAnswered},
        {"UNDELETED", Op::kFlagClear, mailbox::kDeleted},
        {"UNDRAFT", Op::kFlagClear, mailbox::kDraft},
        {"UNFLAGGED", Op::kFlagClear, mailbox::kFlagged},
        {"UNSEEN", Op::kFlagClear, mailbox::kSeen},
        {"NEW", Op::kNew, 0},
        {"OLD", Op::kNotRecent, 0},
        {"RECENT", Op::kRecent, 0},
    };
    for (const auto& s : kSimple) {
      if (name == s.name) {
        k.op = s.op;
        k.flag = s.flag;
        return k;
      }
    }
    return Complex(name, depth, std::move(k));
  }

  absl::StatusOr<SearchKey> Complex(const std::string& name, int depth, SearchKey k) {
    if (name == "NOT" || name == "OR") {
      if (pos_ >= args_.size()) return absl::InvalidArgumentError(name + " needs a key");
      k.op = name == "NOT" ? Op::kNot : Op::kOr;
      for (int i = 0; i < (name == "NOT" ? 1 : 2); ++i) {
        if (pos_ >= args_.size()) return absl::InvalidArgumentError(name + " needs two keys");
        absl::StatusOr<SearchKey> c = Key(depth + 1);
        if (!c.ok()) return c.status();
        k.children.push_back(std::move(*c));
      }
      return k;
    }
    static const struct {
      const char* name;
      Op op;
    } kText[] = {{"BODY", Op::kBody},
                 {"TEXT", Op::kText},
                 {"CATEGORY", Op::kCategory},
                 {"CAMPAIGN", Op::kCampaign},
                 {"RECIPIENT", Op::kRecipient}};
    for (const auto& t : kText) {
      if (name != t.name) continue;
      absl::StatusOr<std::string> v = Text(name);
      if (!v.ok()) return v.status();
      k.op = t.op;
      k.text = AsciiLower(*v);
      if (t.op == Op::kCategory) k.header = "X-SALVO-CATEGORY";
      if (t.op == Op::kCampaign) k.header = "X-SALVO-CAMPAIGN";
      return k;
    }
    for (const char* h : {"FROM", "TO", "CC", "BCC", "SUBJECT"}) {
      if (name != h) continue;
      absl::StatusOr<std::string> v = Text(name);
      if (!v.ok()) return v.status();
      k.op = Op::kHeader;
      k.header = name;
      k.text = AsciiLower(*v);
      return k;
    }
    if (name == "HEADER") {
      absl::StatusOr<std::string> field = Text(name);
      if (!field.ok()) return field.status();
      absl::StatusOr<std::string> v = Text(name);
      if (!v.ok()) return v.status();
      k.op = Op::kHeader;
      k.header = absl::AsciiStrToUpper(*field);
      k.text = AsciiLower(*v);
      if (k.header == "X-SALVO-CATEGORY") k.op = Op::kCategory;
      if (k.header == "X-SALVO-CAMPAIGN") k.op = Op::kCampaign;
      return k;
    }
    if (name == "LARGER" || name == "SMALLER") {
      absl::StatusOr<std::string> v = Text(name);
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtoi(*v, &k.size)) return absl::InvalidArgumentError("bad size");
      k.op = name == "LARGER" ? Op::kLarger : Op::kSmaller;
      return k;
    }
    if (name == "UID") {
      absl::StatusOr<std::string> v = Text(name);
      if (!v.ok()) return v.status();
      auto set = SequenceSet::Parse(*v);
      if (!set) return absl::InvalidArgumentError("bad UID set");
      k.op = Op::kUidSet;
      k.set = std::make_shared<SequenceSet>(std::move(*set));
      return k;
    }
    static const struct {
      const char* name;
      Op op;
    } kDates[] = {{"BEFORE", Op::kBefore}, {"ON", Op::kOn},
                  {"SINCE", Op::kSince},   {"SENTBEFORE", Op::kSentBefore},
                  {"SENTON", Op::kSentOn}, {"SENTSINCE", Op::kSentSince}};
    for (const auto& d : kDates) {
      if (name != d.name) continue;
      absl::StatusOr<std::string> v = Text(name);
      if (!v.ok()) return v.status();
      std::optional<absl::CivilDay> day = ParseImapDate(*v);
      if (!day) return absl::InvalidArgumentError("bad date");
      k.op = d.op;
      k.day = *day;
      return k;
    }
    if (name == "KEYWORD" || name == "UNKEYWORD") {
      // No keywords are stored: KEYWORD matches nothing, UNKEYWORD all.
      absl::StatusOr<std::string> v = Text(name);
      if (!v.ok()) return v.status();
      k.op = name == "KEYWORD" ? Op::kNot : Op::kAll;
      if (name == "KEYWORD") k.children.push_back(SearchKey());
      return k;
    }
    return absl::InvalidArgumentError(fmt::format("unknown search key {}", name));
  }

  const std::vector<ImapArg>& args_;
  size_t pos_;
};

bool HeaderMatches(const MimePart& m, const SearchKey& k) {
  for (const HeaderField& f : m.fields) {
    if (absl::EqualsIgnoreCase(ToAbsl(f.name), k.header) && ContainsI(f.value, k.text)) {
      return true;
    }
  }
  return false;
}

bool DayMatches(Op op, absl::CivilDay have, absl::CivilDay want) {
  switch (op) {
    case Op::kBefore:
    case Op::kSentBefore:
      return have < want;
    case Op::kOn:
    case Op::kSentOn:
      return have == want;
    default:
      return have >= want;
  }
}

}  // namespace

std::optional<absl::CivilDay> ParseImapDate(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  std::vector<std::string> parts = absl::StrSplit(ToAbsl(text), '-');
  if (parts.size() != 3) return std::nullopt;
  int day = 0, year = 0;
  if (!absl::SimpleAtoi(parts[0], &day) || !absl::SimpleAtoi(parts[2], &year)) return std::nullopt;
  std::string mon = absl::AsciiStrToLower(parts[1]);
  for (int m = 0; m < 12; ++m) {
    if (mon == kMonths[m]) {
      if (day < 1 || day > 31 || year < 1900 || year > 9999) return std::nullopt;
      return absl::CivilDay(year, m + 1, day);
    }
  }
  return std::nullopt;
}

absl::StatusOr<SearchKey> ParseSearch(const std::vector<ImapArg>& args, size_t first) {
  Parser p(args, first);
  return p.All();
}

bool NeedsContent(const SearchKey& k) {
  switch (k.op) {
    case Op::kHeader:
    case Op::kBody:
    case Op::kText:
    case Op::kSentBefore:
    case Op::kSentOn:
    case Op::kSentSince:
      return true;
    default:
      return std::any_of(k.children.begin(), k.children.end(),
                         [](const SearchKey& c) { return NeedsContent(c); });
  }
}

bool NeedsAttributes(const SearchKey& k) {
  if (k.op == Op::kCategory || k.op == Op::kCampaign || k.op == Op::kRecipient) return true;
  return std::any_of(k.children.begin(), k.children.end(),
                     [](const SearchKey& c) { return NeedsAttributes(c); });
}

bool Matches(const SearchKey& k, const SearchTarget& t) {
  const mailbox::MessageMeta& m = *t.meta;
  switch (k.op) {
    case Op::kAll:
      return true;
    case Op::kAnd:
      return std::all_of(k.children.begin(), k.children.end(),
                         [&](const SearchKey& c) { return Matches(c, t); });
    case Op::kOr:
      return Matches(k.children[0], t) || Matches(k.children[1], t);
    case Op::kNot:
      return !Matches(k.children[0], t);
    case Op::kFlagSet:
      return (m.flags & k.flag) != 0;
    case Op::kFlagClear:
      return (m.flags & k.flag) == 0;
    case Op::kNew:
      return m.recent && (m.flags & mailbox::kSeen) == 0;
    case Op::kRecent:
      return m.recent;
    case Op::kNotRecent:
      return !m.recent;
    case Op::kSeqSet:
      return k.set->Contains(t.msn, t.max_msn);
    case Op::kUidSet:
      return k.set->Contains(m.uid, t.max_uid);
    case Op::kLarger:
      return m.size > k.size;
    case Op::kSmaller:
      return m.size < k.size;
    case Op::kBefore:
    case Op::kOn:
    case Op::kSince:
      return DayMatches(k.op, DayOf(m.internal_date), k.day);
    case Op::kSentBefore:
    case Op::kSentOn:
    case Op::kSentSince: {
      std::optional<absl::CivilDay> d = t.message ? SentDay(t.message->root()) : std::nullopt;
      return d && DayMatches(k.op, *d, k.day);
    }
    case Op::kHeader:
      return t.message && HeaderMatches(t.message->root(), k);
    case Op::kBody:
      return t.message && ContainsI(t.message->root().body, k.text);
    case Op::kText:
      return t.message && ContainsI(t.message->content(), k.text);
    case Op::kCategory:
    case Op::kCampaign: {
      // The attributes first; a message appended by a client has only its header.
      const std::string& a = k.op == Op::kCategory ? m.attributes.category : m.attributes.campaign;
      if (!a.empty() && ContainsI(a, k.text)) return true;
      return t.message && HeaderMatches(t.message->root(), k);
    }
    case Op::kRecipient:
      return ContainsI(m.attributes.recipient, k.text);
  }
  return false;
}

}  // namespace salvo::imap
