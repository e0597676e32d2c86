// The invariants of the IMAP server's I/O-free parsers and writers, shared by
// the in-suite mutation tests (tests/imap/command_fuzz_test.cc) and the
// libFuzzer targets (tests/fuzz/imap_*_fuzzer.cc). "" when all hold, else
// what broke:
//  - CommandParser: the same commands, continuations and errors however the
//    bytes are split; tags are atoms without list or literal specials;
//    commands stay within max_arguments and max_nesting; a parsed command,
//    written back with imap_string (atoms as they are, strings quoted or as
//    literals), parses to the same command.
//  - SequenceSet: ToString() re-parses to the same set; Expand, Contains and
//    Select agree.
//  - SEARCH: an error is InvalidArgument; NOT inverts Matches.
//  - FETCH: every section ParseFetch accepts is one MimeMessage can serve.
//  - MimeMessage: every part's header and body are inside the content and
//    bounded in number; ENVELOPE and BODYSTRUCTURE are well-formed IMAP
//    (they tokenize as one command's arguments).
//  - imap_string: AppendAString/AppendString/AppendNString read back as the
//    same string (never as NIL).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "engine/imap/command_parser.h"
#include "engine/imap/envelope.h"
#include "engine/imap/fetch_items.h"
#include "engine/imap/imap_string.h"
#include "engine/imap/mime_message.h"
#include "engine/imap/search_query.h"
#include "engine/imap/sequence_set.h"
#include "fmt/format.h"

namespace salvo::fuzz {

inline void RenderArg(const imap::ImapArg& a, std::string& out) {
  if (a.kind == imap::ImapArg::kAtom) {
    out += a.text;
  } else if (a.kind == imap::ImapArg::kString) {
    imap::AppendString(out, a.text);
  } else {
    out += '(';
    for (size_t i = 0; i < a.list.size(); ++i) {
      if (i > 0) out += ' ';
      RenderArg(a.list[i], out);
    }
    out += ')';
  }
}

inline std::string Render(const imap::ImapCommand& c) {
  std::string out = c.tag + " " + c.name;
  for (const imap::ImapArg& a : c.args) {
    out += ' ';
    RenderArg(a, out);
  }
  return out + "\r\n";
}

// A canonical dump (kinds and texts, not how strings were sent).
inline void Dump(const imap::ImapArg& a, std::string& out) {
  if (a.kind == imap::ImapArg::kList) {
    out += "L(";
    for (const imap::ImapArg& i : a.list) Dump(i, out);
    out += ")";
  } else {
    out +=
        fmt::format("{}{}:{}", a.kind == imap::ImapArg::kAtom ? 'A' : 'S', a.text.size(), a.text);
  }
}

inline std::string Dump(const imap::ImapCommand& c) {
  std::string out = fmt::format("{}|{}|", c.tag, c.name);
  for (const imap::ImapArg& a : c.args) Dump(a, out);
  return out;
}

struct ImapEvents {
  std::vector<std::string> events;  // "+", "C:<dump>", "E:<tag>|<message>|fatal|toobig"
  std::vector<imap::ImapCommand> commands;
};

// Feeds `input` arriving in pieces ending at `cuts`, as the session does.
inline ImapEvents FeedImap(std::string_view input, const std::vector<size_t>& cuts,
                           const imap::ImapLimits& limits) {
  imap::CommandParser p(limits);
  ImapEvents out;
  size_t from = 0;
  for (size_t cut : cuts) {
    std::string_view chunk = input.substr(from, cut - from);
    from = cut;
    while (!chunk.empty()) {
      imap::ParseStep s = p.Feed(chunk);
      chunk.remove_prefix(s.consumed);
      if (s.event == imap::ParseEvent::kNeedMore) break;
      if (s.event == imap::ParseEvent::kContinue) out.events.push_back("+");
      if (s.event == imap::ParseEvent::kCommand) {
        out.commands.push_back(p.Take());
        out.events.push_back("C:" + Dump(out.commands.back()));
      }
      if (s.event == imap::ParseEvent::kError) {
        const imap::ParseError& e = p.error();
        out.events.push_back(fmt::format("E:{}|{}|{}|{}", e.tag, e.message, e.fatal, e.too_big));
        if (e.fatal) return out;  // the session closes
      }
    }
  }
  return out;
}

inline std::string CheckSequenceSet(std::string_view text) {
  std::optional<imap::SequenceSet> s = imap::SequenceSet::Parse(text);
  if (!s) return "";
  std::optional<imap::SequenceSet> again = imap::SequenceSet::Parse(s->ToString());
  if (!again) return fmt::format("'{}' -> '{}' does not re-parse", text, s->ToString());
  for (uint32_t count : {0u, 1u, 7u, 40u}) {
    std::vector<uint32_t> expanded = s->Expand(count);
    if (again->Expand(count) != expanded) return fmt::format("'{}' round trip changes it", text);
    std::vector<uint32_t> contained;
    for (uint32_t n = 1; n <= count; ++n) {
      if (s->Contains(n, count)) contained.push_back(n);
    }
    if (contained != expanded) return fmt::format("'{}': Expand and Contains disagree", text);
  }
  std::vector<uint32_t> uids = {3, 9, 10, 11, 200, 4000000000u};
  std::vector<size_t> selected = s->Select(uids);
  std::vector<size_t> want;
  for (size_t i = 0; i < uids.size(); ++i) {
    if (s->Contains(uids[i], uids.back())) want.push_back(i);
  }
  // RFC 3501: "n:*" with n above the largest UID still selects the last one.
  if (selected != want && !(want.empty() && selected.size() == 1 && selected[0] == 5)) {
    return fmt::format("'{}': Select and Contains disagree", text);
  }
  return "";
}

inline std::string CheckAtoms(const std::vector<imap::ImapArg>& args) {
  for (const imap::ImapArg& a : args) {
    std::string e = a.kind == imap::ImapArg::kList   ? CheckAtoms(a.list)
                    : a.kind == imap::ImapArg::kAtom ? CheckSequenceSet(a.text)
                                                     : "";
    if (!e.empty()) return e;
  }
  return "";
}

inline int Depth(const std::vector<imap::ImapArg>& args) {
  int d = 0;
  for (const imap::ImapArg& a : args) {
    if (a.kind == imap::ImapArg::kList) d = std::max(d, 1 + Depth(a.list));
  }
  return d;
}

inline const char kSampleMessage[] =
    "From: \"Mail Delivery\" <mailer-daemon@mx.example.com>\r\n"
    "To: bounces@example.org\r\nSubject: Undelivered\r\nX-Salvo-Category: hard\r\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
    "--b1\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n"
    "--b1\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n"
    "--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@example.org\r\nSubject: hi\r\n\r\n"
    "body\r\n--b1--\r\n";

inline std::string CheckSearch(const imap::ImapCommand& c) {
  absl::StatusOr<imap::SearchKey> key = imap::ParseSearch(c.args, 0);
  if (!key.ok()) {
    return absl::IsInvalidArgument(key.status()) ? "" : "SEARCH error is not InvalidArgument";
  }
  static const imap::MimeMessage message(kSampleMessage);
  imap::SearchKey negated;
  negated.op = imap::SearchKey::Op::kNot;
  negated.children.push_back(*key);
  for (uint32_t msn = 1; msn <= 3; ++msn) {
    mailbox::MessageMeta meta;
    meta.uid = msn * 7;
    meta.flags = static_cast<uint8_t>(msn * 5);
    meta.recent = msn == 2;
    meta.size = sizeof kSampleMessage - 1;
    meta.internal_date = absl::FromUnixSeconds(1700000000 + msn * 86400);
    imap::SearchTarget t{
        .meta = &meta, .msn = msn, .max_msn = 3, .max_uid = 21, .message = &message};
    if (imap::Matches(*key, t) == imap::Matches(negated, t)) return "NOT does not invert SEARCH";
  }
  return "";
}

inline std::string CheckFetch(const imap::ImapCommand& c) {
  bool uid = c.name == "UID FETCH";
  absl::StatusOr<imap::FetchRequest> r = imap::ParseFetch(c.args, 1, uid);
  if (!r.ok()) {
    return absl::IsInvalidArgument(r.status()) ? "" : "FETCH error is not InvalidArgument";
  }
  // The session checks sections on an empty message (cmd_fetch.cc): validity
  // must not depend on the message.
  static const imap::MimeMessage message(kSampleMessage);
  static const imap::MimeMessage empty("");
  for (const imap::FetchItem& item : r->items) {
    if (item.kind != imap::FetchItem::Kind::kSection) continue;
    if (message.Section(item.section).has_value() != empty.Section(item.section).has_value()) {
      return fmt::format("section '{}' valid for one message only", item.section);
    }
  }
  return "";
}

inline std::string CheckCommand(const imap::ImapCommand& c, const imap::ImapLimits& limits) {
  if (c.tag.empty() || c.tag.find_first_of(" (){\"%*+") != std::string::npos) return "bad tag";
  if (c.args.size() > limits.max_arguments) return "too many arguments";
  if (Depth(c.args) > limits.max_nesting) return "nested too deeply";
  imap::ImapLimits big;
  big.max_line = big.max_command = big.max_literal = 1 << 20;
  std::string text = Render(c);
  ImapEvents back = FeedImap(text, {text.size()}, big);
  if (back.commands.size() != 1 || Dump(back.commands[0]) != Dump(c)) {
    return fmt::format("command does not round-trip: {}", text);
  }
  if (std::string e = CheckAtoms(c.args); !e.empty()) return e;
  if (c.name == "SEARCH" || c.name == "UID SEARCH") return CheckSearch(c);
  if (c.name == "FETCH" || c.name == "UID FETCH") return CheckFetch(c);
  return "";
}

inline std::string CheckImapInput(std::string_view input, const std::vector<size_t>& cuts,
                                  const imap::ImapLimits& limits) {
  ImapEvents whole = FeedImap(input, {input.size()}, limits);
  ImapEvents split = FeedImap(input, cuts, limits);
  if (whole.events != split.events) {
    for (size_t i = 0; i < std::min(whole.events.size(), split.events.size()); ++i) {
      if (whole.events[i] != split.events[i]) {
        return fmt::format("split changes event {}: '{}' vs '{}'", i, whole.events[i],
                           split.events[i]);
      }
    }
    return fmt::format("split changes the event count: {} vs {}", whole.events.size(),
                       split.events.size());
  }
  for (const imap::ImapCommand& c : whole.commands) {
    if (std::string e = CheckCommand(c, limits); !e.empty()) return e;
  }
  return "";
}

// `s` written by `append` reads back as the string `s`.
inline std::string CheckImapString(std::string_view s) {
  imap::ImapLimits big;
  big.max_line = big.max_command = big.max_literal = 1 << 20;
  for (int how = 0; how < 3; ++how) {
    std::string text = "t X ";
    if (how == 0) imap::AppendAString(text, s);
    if (how == 1) imap::AppendString(text, s);
    if (how == 2) imap::AppendNString(text, s);
    text += "\r\n";
    ImapEvents back = FeedImap(text, {text.size()}, big);
    if (back.commands.size() != 1 || back.commands[0].args.size() != 1) {
      return fmt::format("string writer {} output does not parse: {}", how, text);
    }
    const imap::ImapArg& a = back.commands[0].args[0];
    if (a.kind == imap::ImapArg::kList || a.text != s ||
        (a.kind == imap::ImapArg::kAtom && a.IsNil())) {
      return fmt::format("string writer {} changes '{}' into {}", how, s, text);
    }
  }
  return "";
}

// `out` is well-formed response data (RFC 3501 §9): atoms, quoted strings,
// literals with the right count, balanced parentheses, CRLF only at the end
// or inside literals. (Our command parser is stricter: BODYSTRUCTURE writes
// multipart bodies as "(...)(...)", without a space.)
inline std::string CheckResponseSyntax(std::string_view out) {
  if (!out.ends_with("\r\n")) return "response without CRLF";
  out.remove_suffix(2);
  int depth = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return fmt::format("unbalanced ')' at {}", i);
    } else if (c == '"') {
      for (++i; i < out.size() && out[i] != '"'; ++i) {
        if (out[i] == '\\') ++i;
        if (i < out.size() && (out[i] == '\r' || out[i] == '\n' || out[i] == 0)) {
          return fmt::format("CR, LF or NUL in a quoted string at {}", i);
        }
      }
      if (i >= out.size()) return "unterminated quoted string";
    } else if (c == '{') {
      size_t close = out.find("}\r\n", i);
      if (close == std::string_view::npos) return fmt::format("bad literal at {}", i);
      uint64_t n = 0;
      for (size_t k = i + 1; k < close; ++k) {
        if (out[k] < '0' || out[k] > '9' || close - i > 12) return "bad literal count";
        n = n * 10 + static_cast<uint64_t>(out[k] - '0');
      }
      if (close + 3 + n > out.size()) return "literal runs past the end";
      i = close + 2 + n;
    } else if (c == '\r' || c == '\n' || c == 0) {
      return fmt::format("CR, LF or NUL outside a literal at {}", i);
    }
  }
  return depth == 0 ? "" : "unbalanced '('";
}

inline std::string CheckMimePart(const imap::MimePart& p, std::string_view content, size_t* parts) {
  auto inside = [&](std::string_view v) {
    return v.empty() ||
           (v.data() >= content.data() && v.data() + v.size() <= content.data() + content.size());
  };
  if (!inside(p.header) || !inside(p.body)) return "part outside the content";
  if (++*parts > imap::MimeMessage::kMaxParts + 1) return "too many parts";
  for (const imap::MimePart& child : p.children) {
    if (std::string e = CheckMimePart(child, content, parts); !e.empty()) return e;
  }
  if (p.embedded) return CheckMimePart(*p.embedded, content, parts);
  return "";
}

inline std::string CheckMime(std::string_view content) {
  imap::MimeMessage m(content);
  size_t parts = 0;
  if (std::string e = CheckMimePart(m.root(), content, &parts); !e.empty()) return e;
  static const char* const kSections[] = {"",
                                          "HEADER",
                                          "TEXT",
                                          "1",
                                          "1.MIME",
                                          "2",
                                          "2.1",
                                          "3.HEADER",
                                          "3.TEXT",
                                          "1.2.3.4.5",
                                          "99",
                                          "HEADER.FIELDS (FROM SUBJECT)",
                                          "2.HEADER.FIELDS.NOT (TO)"};
  for (const char* s : kSections) {
    std::optional<std::string> body = m.Section(s);
    if (!body) return fmt::format("valid section '{}' refused", s);
    if (body->size() > content.size() + 4) {  // a missing CRLF and the blank line
      return fmt::format("section {} grows: {} > {}", s, body->size(), content.size());
    }
  }
  std::string out = "t FETCH (";
  imap::AppendEnvelope(out, m.root());
  out += ' ';
  imap::AppendBodyStructure(out, m.root(), true);
  out += ' ';
  imap::AppendBodyStructure(out, m.root(), false);
  out += ")\r\n";
  if (std::string e = CheckResponseSyntax(out); !e.empty()) {
    return fmt::format("ENVELOPE/BODYSTRUCTURE: {}: {}", e, out.substr(0, 2000));
  }
  return "";
}

}  // namespace salvo::fuzz
