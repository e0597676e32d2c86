// The invariants of the SMTP parsers that read hostile input, shared by the
// in-suite mutation tests (tests/smtp, tests/smtp_server) and the libFuzzer
// targets (tests/fuzz/smtp_*_fuzzer.cc). Each Check* returns "" when every
// invariant holds, else what broke.
//
//  - Server command lines (SplitCommand, ParseMail/Rcpt/Bdat/Auth/Helo): an
//    error is a 5xx reply with a matching RFC 3463 status whose wire form is
//    CRLF-framed lines that the client's ReplyParser reads back unchanged; a
//    success round-trips (paths re-parse to the same address, BDAT and AUTH
//    re-serialise) and stays within bounds (path 256, ENVID 100 xtext, SIZE
//    under the limit, no control bytes, UTF-8 only with SMTPUTF8).
//  - Client reply parsing (ReplyParser): replies are 200..599, bounded in
//    lines, carry a well-formed enhanced status of their class, and survive
//    server rendering (AppendWireReply) and re-parsing.
//  - Content (ContentDecoder): the result is the same however the bytes are
//    split; DATA ends only at CRLF.CRLF; accepted content has CRLF line ends
//    only, no line over max_line, no more than max_size; and the client's
//    dot-stuffing (DataPayload) decodes back to the CRLF-normalised content.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "engine/smtp/dot_stuffing.h"
#include "engine/smtp/reply.h"
#include "engine/smtp/server/address_parser.h"
#include "engine/smtp/server/command_parser.h"
#include "engine/smtp/server/content_decoder.h"
#include "engine/smtp/server/server_reply.h"
#include "fmt/format.h"

namespace salvo::fuzz {

inline bool HasHighBit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return (c & 0x80) != 0; });
}

inline bool IsEnhancedStatus(std::string_view e, int code) {
  auto [enhanced, rest] = smtp::SplitEnhancedStatus(code, e);
  return !e.empty() && enhanced == e && rest.empty();
}

// The wire form of `reply`, parsed back by the client's parser.
inline std::string CheckWireRoundTrip(const smtp::SmtpReply& reply) {
  std::string wire;
  smtp::AppendWireReply(reply, wire);
  if (wire.size() > smtp::ReplyParser::kMaxBytes) return "";  // the server's own long reply
  smtp::ReplyParser parser;
  std::string_view rest = wire;
  size_t lines = 0;
  std::string first_enhanced;  // what a reply without its own status shows first
  while (!rest.empty()) {
    size_t end = rest.find("\r\n");
    if (end == std::string_view::npos) return "reply line without CRLF: " + wire;
    std::string_view line = rest.substr(0, end);
    if (line.find_first_of("\r\n") != std::string_view::npos) return "CR/LF inside a reply line";
    rest.remove_prefix(end + 2);
    ++lines;
    if (first_enhanced.empty() && line.size() > 4) {
      first_enhanced = std::string(smtp::SplitEnhancedStatus(reply.code, line.substr(4)).first);
    }
    absl::StatusOr<bool> done = parser.Feed(line);
    if (!done.ok()) return fmt::format("rendered reply not parseable: {}", wire);
    if (*done != rest.empty()) return fmt::format("reply ends at the wrong line: {}", wire);
  }
  smtp::SmtpReply back = parser.Take();
  // A reply without a status keeps none, unless a line's text starts with
  // one: the parser then takes the first (servers that omit it on line 1).
  std::string_view want_enhanced = reply.enhanced.empty() ? first_enhanced : reply.enhanced;
  if (back.code != reply.code || back.enhanced != want_enhanced) {
    return fmt::format("reply changed in round trip: {} -> {}", reply.ToString(), back.ToString());
  }
  size_t want_lines = std::max<size_t>(reply.lines.size(), 1);
  if (back.lines.size() != want_lines || lines != want_lines) return "reply line count changed";
  // Equal up to a leading enhanced status and the spaces after it: the
  // parser strips a status from every line, and keeps only the first one.
  auto trim = [&](std::string_view s) {
    if (reply.enhanced.empty()) return std::string(smtp::SplitEnhancedStatus(reply.code, s).second);
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    s = smtp::SplitEnhancedStatus(reply.code, s).second;
    return std::string(s);
  };
  for (size_t i = 0; i < reply.lines.size(); ++i) {
    if (trim(back.lines[i]) != trim(smtp::Printable(reply.lines[i], 1024))) {
      return fmt::format("reply line {} changed: '{}' -> '{}'", i, reply.lines[i], back.lines[i]);
    }
  }
  return "";
}

// An error reply of the command parser.
inline std::string CheckErrorReply(const smtp::SmtpReply& r) {
  if (r.code != 501 && r.code != 552 && r.code != 553 && r.code != 555) {
    return fmt::format("unexpected error code: {}", r.ToString());
  }
  if (!IsEnhancedStatus(r.enhanced, r.code)) return "bad enhanced status: " + r.ToString();
  return CheckWireRoundTrip(r);
}

inline std::string CheckMail(std::string_view args, uint64_t max_size, bool clean) {
  smtp::MailCommand m;
  if (auto err = smtp::ParseMail(args, max_size, &m)) return CheckErrorReply(*err);
  if (m.reverse_path.size() > 256) return "reverse path over 256 octets";
  if (m.size && max_size != 0 && *m.size > max_size) return "SIZE over the limit accepted";
  if (m.envid.size() > 100 || !smtp::IsValidXtext(m.envid)) return "bad ENVID accepted";
  if (m.ret != "" && m.ret != "FULL" && m.ret != "HDRS") return "bad RET: " + m.ret;
  if (HasHighBit(m.reverse_path) && !m.smtputf8) return "UTF-8 sender without SMTPUTF8";
  if (clean && smtp::HasForbiddenBytes(m.reverse_path + m.auth)) return "control bytes accepted";
  auto again = smtp::ParsePath("<" + m.reverse_path + ">", smtp::PathKind::kReverse);
  if (!again.ok() || again->address != m.reverse_path || !again->rest.empty()) {
    return "sender does not round-trip: " + m.reverse_path;
  }
  return "";
}

inline std::string CheckRcpt(std::string_view args, bool smtputf8, bool clean) {
  smtp::RcptCommand r;
  if (auto err = smtp::ParseRcpt(args, smtputf8, &r)) return CheckErrorReply(*err);
  if (r.forward_path.empty() || r.forward_path.size() > 256) return "bad forward path length";
  if (!r.domain.empty() && !r.forward_path.ends_with("@" + r.domain)) return "domain not a suffix";
  if (HasHighBit(r.forward_path) && !smtputf8) return "UTF-8 recipient without SMTPUTF8";
  if (clean && smtp::HasForbiddenBytes(r.forward_path + r.orcpt)) return "control bytes accepted";
  static const std::vector<std::string> kNotify = {"",
                                                   "NEVER",
                                                   "SUCCESS",
                                                   "FAILURE",
                                                   "DELAY",
                                                   "SUCCESS,FAILURE",
                                                   "SUCCESS,DELAY",
                                                   "FAILURE,DELAY",
                                                   "SUCCESS,FAILURE,DELAY"};
  if (std::find(kNotify.begin(), kNotify.end(), r.notify) == kNotify.end()) {
    return "bad NOTIFY: " + r.notify;
  }
  if (!r.orcpt.empty() && (r.orcpt.size() > 500 || r.orcpt.find(';') == std::string::npos)) {
    return "bad ORCPT accepted";
  }
  auto again = smtp::ParsePath("<" + r.forward_path + ">", smtp::PathKind::kForward);
  if (!again.ok() || again->address != r.forward_path || again->domain != r.domain) {
    return "recipient does not round-trip: " + r.forward_path;
  }
  return "";
}

inline std::string CheckOtherVerbs(std::string_view args) {
  smtp::BdatCommand b;
  if (auto err = smtp::ParseBdat(args, &b)) {
    if (std::string e = CheckErrorReply(*err); !e.empty()) return e;
  } else {
    smtp::BdatCommand again;
    std::string text = std::to_string(b.size) + (b.last ? " LAST" : "");
    if (smtp::ParseBdat(text, &again) || again.size != b.size || again.last != b.last) {
      return "BDAT does not round-trip";
    }
  }
  smtp::AuthCommand a;
  if (auto err = smtp::ParseAuth(args, &a)) {
    if (std::string e = CheckErrorReply(*err); !e.empty()) return e;
  } else if (a.mechanism.empty() || a.mechanism.find(' ') != std::string::npos ||
             (a.initial_response && a.initial_response->find(' ') != std::string::npos)) {
    return "bad AUTH accepted";
  }
  std::string helo;
  if (auto err = smtp::ParseHelo(args, &helo)) {
    if (std::string e = CheckErrorReply(*err); !e.empty()) return e;
  } else if (helo.empty() || helo.find_first_of(" ()<>\"\\;") != std::string::npos) {
    return "bad EHLO name accepted: " + helo;
  }
  return "";
}

// One command line (without CRLF), through every parser.
inline std::string CheckCommandLine(std::string_view line, uint64_t max_size) {
  smtp::CommandLine c = smtp::SplitCommand(line);
  if (c.verb_text.find(' ') != std::string_view::npos) return "verb with a space";
  if (!c.args.empty() && (c.args.front() == ' ' || c.args.back() == ' ' || c.args.back() == '\t')) {
    return "arguments not trimmed";
  }
  auto inside = [&](std::string_view v) {
    return v.empty() ||
           (v.data() >= line.data() && v.data() + v.size() <= line.data() + line.size());
  };
  if (!inside(c.verb_text) || !inside(c.args)) return "views outside the line";
  bool clean = !smtp::HasForbiddenBytes(line);
  std::string_view args = c.args;
  for (std::string e :
       {CheckMail(args, max_size, clean), CheckMail(args, 0, clean), CheckRcpt(args, false, clean),
        CheckRcpt(args, true, clean), CheckOtherVerbs(args)}) {
    if (!e.empty()) return e;
  }
  return "";
}

// Reply lines as a client reads them (without CRLF).
inline std::string CheckReplyLines(const std::vector<std::string>& lines) {
  smtp::ReplyParser parser;
  for (const std::string& line : lines) {
    absl::StatusOr<bool> done = parser.Feed(line);
    if (!done.ok()) {
      if (!absl::IsInvalidArgument(done.status()) && !absl::IsResourceExhausted(done.status())) {
        return "unexpected error status";
      }
      parser.Reset();
      continue;
    }
    if (!*done) continue;
    smtp::SmtpReply r = parser.Take();
    if (r.code < 200 || r.code > 599) return fmt::format("code out of range: {}", r.code);
    if (r.lines.empty() || r.lines.size() > smtp::ReplyParser::kMaxLines) return "bad line count";
    if (!r.enhanced.empty() && !IsEnhancedStatus(r.enhanced, r.code)) return "bad enhanced status";
    if (r.positive() + r.transient() + r.permanent() != 1) return "reply class ambiguous";
    if (std::string e = CheckWireRoundTrip(r); !e.empty()) return e;
  }
  return "";
}

struct Decoded {
  std::string out;
  size_t consumed = 0;
  bool done = false;
  uint64_t size = 0;
  int verdict = 0;
  // Content kept after a refusal depends on the split and is never used.
  bool SameAs(const Decoded& o) const {
    return consumed == o.consumed && done == o.done && size == o.size && verdict == o.verdict &&
           (verdict != 0 || out == o.out);
  }
};

// Decodes `wire` arriving in pieces ending at `cuts` (ascending, last = size).
inline Decoded Decode(std::string_view wire, const std::vector<size_t>& cuts,
                      smtp::ContentDecoder::Mode mode, const smtp::ContentLimits& limits) {
  Decoded d;
  smtp::ContentDecoder decoder(mode, limits, &d.out);
  size_t from = 0;
  for (size_t cut : cuts) {
    while (from < cut && !decoder.done()) {
      size_t n = decoder.Feed(wire.substr(from, cut - from));
      from += n;
      if (n == 0) break;
    }
  }
  if (mode == smtp::ContentDecoder::Mode::kCounted) decoder.Finish();
  d.consumed = from;
  d.done = decoder.done();
  d.size = decoder.size();
  if (auto v = decoder.Verdict()) d.verdict = v->code;
  return d;
}

inline std::string CheckDecoded(std::string_view wire, const Decoded& d,
                                smtp::ContentDecoder::Mode mode,
                                const smtp::ContentLimits& limits) {
  bool dotted = mode == smtp::ContentDecoder::Mode::kDotTerminated;
  if (dotted && d.done) {
    std::string_view used = wire.substr(0, d.consumed);
    if (!(used == ".\r\n" || used.ends_with("\r\n.\r\n"))) return "DATA ended without CRLF.CRLF";
  }
  if (d.consumed != wire.size() && !(dotted && d.done)) return "input left unconsumed";
  if (d.verdict != 0 && d.verdict != 550 && d.verdict != 552) return "unexpected verdict";
  if (d.verdict == 552 && limits.max_size != 0 && d.out.size() > limits.max_size) {
    return "oversize content kept";
  }
  if (d.verdict != 0) return "";
  if (limits.max_size != 0 && d.out.size() > limits.max_size) return "content over max_size";
  if (dotted && d.done && !d.out.empty() && !d.out.ends_with("\r\n")) return "no final CRLF";
  size_t line = 0;
  for (size_t i = 0; i < d.out.size(); ++i) {
    char c = d.out[i];
    bool crlf = (c == '\r' && i + 1 < d.out.size() && d.out[i + 1] == '\n') ||
                (c == '\n' && i > 0 && d.out[i - 1] == '\r');
    if ((c == '\r' || c == '\n') && !crlf) {
      return fmt::format("bare CR/LF at {} in accepted content", i);
    }
    line = c == '\n' ? 0 : line + 1;
    if (limits.max_line != 0 && c != '\r' && line > limits.max_line) return "line over max_line";
  }
  return "";
}

// `wire` whole and in `cuts`: the same result, and a sound one.
inline std::string CheckContent(std::string_view wire, const std::vector<size_t>& cuts,
                                smtp::ContentDecoder::Mode mode,
                                const smtp::ContentLimits& limits) {
  Decoded whole = Decode(wire, {wire.size()}, mode, limits);
  Decoded split = Decode(wire, cuts, mode, limits);
  if (!whole.SameAs(split)) {
    return fmt::format("split changes the result (consumed {} vs {}, verdict {} vs {})",
                       whole.consumed, split.consumed, whole.verdict, split.verdict);
  }
  return CheckDecoded(wire, whole, mode, limits);
}

// `content` with CR, LF and CRLF each made CRLF, and a final CRLF.
inline std::string NormalizedContent(std::string_view content) {
  std::string out;
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\r' || content[i] == '\n') {
      if (content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n') ++i;
      out += "\r\n";
    } else {
      out += content[i];
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

// The client's DATA payload for `content`, decoded by the server.
inline std::string CheckDotStuffingRoundTrip(std::string_view content) {
  std::string scratch;
  auto parts = smtp::DataPayload(content, scratch);
  if (parts[0].data() == content.data() && !smtp::IsWireReady(content)) {
    return "content sent unstuffed although not wire-ready";
  }
  std::string wire = std::string(parts[0]) + std::string(parts[1]);
  smtp::ContentLimits limits;
  limits.max_size = 0;
  limits.max_line = 0;
  Decoded d = Decode(wire, {wire.size()}, smtp::ContentDecoder::Mode::kDotTerminated, limits);
  if (!d.done || d.consumed != wire.size() || d.verdict != 0) {
    return fmt::format("payload not accepted whole (done {}, consumed {} of {}, verdict {})",
                       d.done, d.consumed, wire.size(), d.verdict);
  }
  if (d.out != NormalizedContent(content)) return "content changed by DATA round trip";
  return "";
}

}  // namespace salvo::fuzz
