#include "engine/dsn/header_fields.h"

#include <algorithm>
#include <cctype>

namespace salvo::dsn {
namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Characters allowed in the simple addresses we extract (dot-atom local parts
// and domain names); quoted local parts are rare in bounces and not sought.
bool IsAddressChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
         c == '+' || c == '=' || c == '\'' || c == '/' || c == '!' || c == '#' || c == '$' ||
         c == '%' || c == '&' || c == '*' || c == '?' || c == '^' || c == '`' || c == '{' ||
         c == '|' || c == '}' || c == '~';
}
bool IsDomainChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

// Splits off one line (without its CR LF) from `rest`.
std::string_view NextLine(std::string_view& rest) {
  size_t eol = rest.find('\n');
  std::string_view line = rest.substr(0, eol);
  rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void AppendField(FieldBlock& block, std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return;
  std::string_view name = Trim(line.substr(0, colon));
  if (name.empty() || name.find(' ') != std::string_view::npos) return;
  block.push_back({std::string(name), std::string(Trim(line.substr(colon + 1)))});
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char x, char y) { return Lower(x) == Lower(y); });
  return it != haystack.end();
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<FieldBlock> ParseFieldBlocks(std::string_view text, size_t max_blocks,
                                         bool* truncated) {
  std::vector<FieldBlock> blocks;
  FieldBlock current;
  std::string pending;  // the field being unfolded
  auto flush_field = [&] {
    if (!pending.empty()) AppendField(current, pending);
    pending.clear();
  };
  auto flush_block = [&] {
    flush_field();
    if (current.empty()) return;
    if (blocks.size() < max_blocks) {
      blocks.push_back(std::move(current));
    } else if (truncated != nullptr) {
      *truncated = true;
    }
    current.clear();
  };
  std::string_view rest = text;
  while (!rest.empty()) {
    std::string_view line = NextLine(rest);
    if (Trim(line).empty()) {
      flush_block();
    } else if (line.front() == ' ' || line.front() == '\t') {
      if (!pending.empty()) pending.append(" ").append(Trim(line));
    } else {
      flush_field();
      pending.assign(line);
    }
  }
  flush_block();
  return blocks;
}

FieldBlock ParseHeaderSection(std::string_view message) {
  size_t end = message.find("\n\n");
  size_t end_crlf = message.find("\r\n\r\n");
  end = std::min(end, end_crlf);
  std::string_view headers = end == std::string_view::npos ? message : message.substr(0, end);
  std::vector<FieldBlock> blocks = ParseFieldBlocks(headers, 1, nullptr);
  return blocks.empty() ? FieldBlock() : std::move(blocks.front());
}

std::string_view BodyOf(std::string_view message) {
  size_t lf = message.find("\n\n");
  size_t crlf = message.find("\r\n\r\n");
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) {
    return message.substr(crlf + 4);
  }
  return lf == std::string_view::npos ? std::string_view() : message.substr(lf + 2);
}

std::optional<std::string_view> FindField(const FieldBlock& block, std::string_view name) {
  for (const Field& field : block) {
    if (EqualsIgnoreCase(field.name, name)) return std::string_view(field.value);
  }
  return std::nullopt;
}

std::string StripAddressType(std::string_view typed_value) {
  std::string_view value = typed_value;
  size_t semi = value.find(';');
  if (semi != std::string_view::npos) value = value.substr(semi + 1);
  value = Trim(value);
  if (value.size() >= 2 && value.front() == '<' && value.back() == '>') {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(Trim(value));
}

std::vector<std::string> FindAddresses(std::string_view text, size_t max) {
  std::vector<std::string> found;
  size_t at = 0;
  while (found.size() < max && (at = text.find('@', at)) != std::string_view::npos) {
    size_t begin = at;
    while (begin > 0 && IsAddressChar(text[begin - 1])) --begin;
    size_t end = at + 1;
    while (end < text.size() && IsDomainChar(text[end])) ++end;
    std::string_view local = text.substr(begin, at - begin);
    std::string_view domain = text.substr(at + 1, end - at - 1);
    while (!domain.empty() && (domain.back() == '.' || domain.back() == '-')) {
      domain.remove_suffix(1);
    }
    while (!local.empty() && local.front() == '.') local.remove_prefix(1);
    if (!local.empty() && domain.find('.') != std::string_view::npos) {
      found.push_back(std::string(local) + "@" + std::string(domain));
    }
    at = end > at ? end : at + 1;
  }
  return found;
}

std::string FindAddress(std::string_view text) {
  std::vector<std::string> found = FindAddresses(text, 1);
  return found.empty() ? std::string() : found.front();
}

std::string FindEnhancedStatus(std::string_view text) {
  for (size_t i = 0; i + 5 <= text.size(); ++i) {
    char c = text[i];
    if ((c != '2' && c != '4' && c != '5') || text[i + 1] != '.') continue;
    if (i > 0 && (IsDigit(text[i - 1]) || text[i - 1] == '.')) continue;
    size_t j = i + 2;
    size_t subject_len = 0;
    while (j < text.size() && IsDigit(text[j]) && subject_len < 3) ++j, ++subject_len;
    if (subject_len == 0 || j >= text.size() || text[j] != '.') continue;
    size_t k = j + 1;
    size_t detail_len = 0;
    while (k < text.size() && IsDigit(text[k]) && detail_len < 3) ++k, ++detail_len;
    if (detail_len == 0) continue;
    if (k < text.size() &&
        (IsDigit(text[k]) || (text[k] == '.' && k + 1 < text.size() && IsDigit(text[k + 1])))) {
      continue;  // an IP address or version number, not a status code
    }
    return std::string(text.substr(i, k - i));
  }
  return std::string();
}

int FindReplyCode(std::string_view text) {
  for (size_t i = 0; i + 3 <= text.size(); ++i) {
    if ((text[i] != '4' && text[i] != '5') || !IsDigit(text[i + 1]) || !IsDigit(text[i + 2])) {
      continue;
    }
    if (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.')) {
      continue;
    }
    char after = i + 3 < text.size() ? text[i + 3] : ' ';
    if (after != ' ' && after != '-' && after != '\r' && after != '\n') continue;
    return (text[i] - '0') * 100 + (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
  }
  return 0;
}

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = ' ';
  }
  return out;
}

}  // namespace salvo::dsn
