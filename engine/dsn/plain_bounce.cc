#include "engine/dsn/plain_bounce.h"

#include <array>

#include "engine/dsn/header_fields.h"

namespace salvo::dsn {
namespace {

// Phrases that introduce a list of failed addresses written one per line.
constexpr std::array<std::string_view, 11> kListIntros{
    "following address(es) failed",
    "following addresses had permanent",
    "following addresses had transient",
    "delivery has failed to these recipients",
    "delivery to the following recipient",
    "could not be delivered to",
    "unable to deliver your message to the following",
    "wasn't able to deliver your message to the following",
    "message could not be delivered",
    "wasn't delivered to",
    "following recipients",
};

// Lines that start the returned original; everything after is the sender's.
constexpr std::array<std::string_view, 9> kOriginalMarkers{
    "below this line is a copy of the message",
    "this is a copy of the message",
    "original message follows",
    "unsent message follows",
    "-----original message-----",
    "message headers follow",
    "original message headers",
    "this is a copy of the headers",
    "----- original message -----",
};

// The address when `line` is an address line: "addr", "<addr>", "addr:",
// "<addr>:" or "<addr>: text" (*rest gets "text"); else "".
std::string AddressLine(std::string_view line, std::string_view* rest) {
  std::string_view t = Trim(line);
  *rest = {};
  if (t.empty()) return {};
  if (t.front() == '<') {
    size_t close = t.find('>');
    if (close == std::string_view::npos) return {};
    std::string_view inner = t.substr(1, close - 1);
    std::string_view after = Trim(t.substr(close + 1));
    if (!after.empty() && after.front() != ':') return {};
    if (!after.empty()) *rest = Trim(after.substr(1));
    std::string address = FindAddress(inner);
    return address.size() == inner.size() ? address : std::string();
  }
  if (t.back() == ':') t.remove_suffix(1);
  std::string address = FindAddress(t);
  return address.size() == t.size() ? address : std::string();
}

void AppendDiagnostic(PlainBounceHit& hit, std::string_view line) {
  std::string_view t = Trim(line);
  if (t.empty() || hit.diagnostic.size() >= kMaxDiagnostic) return;
  if (!hit.diagnostic.empty()) hit.diagnostic += ' ';
  hit.diagnostic.append(t.substr(0, kMaxDiagnostic - hit.diagnostic.size()));
}

// "host mx.example.com[192.0.2.1] said" / "host mx.example.com [192.0.2.1]".
std::string RemoteHost(std::string_view diagnostic) {
  size_t at = 0;
  while ((at = diagnostic.find("host ", at)) != std::string_view::npos) {
    at += 5;
    size_t end = at;
    while (end < diagnostic.size() && diagnostic[end] != ' ' && diagnostic[end] != '[') ++end;
    std::string_view name = diagnostic.substr(at, end - at);
    if (name.find('.') != std::string_view::npos && name.back() != '.') return std::string(name);
  }
  return {};
}

// The first line of `text` holding a reply or enhanced status code, with the
// line after it when that continues the message (Gmail's "The error that the
// other server returned was:" layout).
std::string FirstCodeLine(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = Trim(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (!FindEnhancedStatus(line).empty() || FindReplyCode(line) != 0) {
      return std::string(line.substr(0, kMaxDiagnostic));
    }
  }
  return {};
}

}  // namespace

std::string_view BeforeReturnedOriginal(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    for (std::string_view marker : kOriginalMarkers) {
      if (ContainsIgnoreCase(line, marker)) return text.substr(0, pos);
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return text;
}

std::vector<PlainBounceHit> ExtractPlainBounce(std::string_view text, size_t max_hits,
                                               bool* truncated) {
  std::string_view body = BeforeReturnedOriginal(text);
  std::vector<PlainBounceHit> hits;
  PlainBounceHit* current = nullptr;
  bool list_mode = false;
  std::string_view rest = body;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (Trim(line).empty()) {
      current = nullptr;
      continue;
    }
    for (std::string_view intro : kListIntros) list_mode |= ContainsIgnoreCase(line, intro);
    std::string_view after;
    std::string address = AddressLine(line, &after);
    bool bracketed = Trim(line).front() == '<';
    if (!address.empty() && (list_mode || (bracketed && Trim(line).back() != '>'))) {
      current = nullptr;
      for (PlainBounceHit& hit : hits) {
        if (EqualsIgnoreCase(hit.address, address)) current = &hit;
      }
      if (current == nullptr) {
        if (hits.size() >= max_hits) {
          if (truncated != nullptr) *truncated = true;
          continue;
        }
        hits.push_back({address, {}, {}});
        current = &hits.back();
      }
      AppendDiagnostic(*current, after);
      continue;
    }
    if (current != nullptr) AppendDiagnostic(*current, line);
  }
  std::string fallback;
  for (PlainBounceHit& hit : hits) {
    if (FindEnhancedStatus(hit.diagnostic).empty() && FindReplyCode(hit.diagnostic) == 0) {
      if (fallback.empty()) fallback = FirstCodeLine(body);
      if (!fallback.empty()) AppendDiagnostic(hit, fallback);
    }
    hit.remote_mta = RemoteHost(hit.diagnostic);
  }
  return hits;
}

}  // namespace salvo::dsn
