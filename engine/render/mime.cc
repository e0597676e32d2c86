#include "engine/render/mime.h"

#include <algorithm>

#include "engine/tls/crypto.h"

namespace salvo::render {
namespace {
constexpr char kHex[] = "0123456789ABCDEF";
}

bool Is7BitSafe(std::string_view text) {
  size_t line = 0;
  for (unsigned char c : text) {
    if (c & 0x80 || c == 0) return false;
    if (c == '\n') {
      line = 0;
    } else if (++line > 998) {
      return false;
    }
  }
  return true;
}

void AppendQuotedPrintable(std::string_view text, std::string& out) {
  size_t col = 0;
  auto put = [&](std::string_view piece) {
    if (col + piece.size() > 75) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      // Trailing white space before a line break must be encoded.
      if (!out.empty() && (out.back() == ' ' || out.back() == '\t') && col > 0) {
        char last = out.back();
        out.pop_back();
        --col;
        char enc[3] = {'=', kHex[last >> 4], kHex[last & 15]};
        put(std::string_view(enc, 3));
      }
      out += "\r\n";
      col = 0;
      continue;
    }
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      char ch = static_cast<char>(c);
      // A '.' at the start of a line is encoded so no agent dot-stuffs it wrongly.
      if (ch == '.' && col == 0) {
        put("=2E");
      } else {
        put(std::string_view(&ch, 1));
      }
    } else {
      char enc[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      put(std::string_view(enc, 3));
    }
  }
}

void AppendBase64Lines(std::string_view bytes, std::string& out) {
  constexpr size_t kChunk = 57;  // 57 bytes -> 76 characters
  char buf[80];
  for (size_t i = 0; i < bytes.size(); i += kChunk) {
    size_t n = std::min(kChunk, bytes.size() - i);
    size_t len = crypto::Base64EncodeBlock(bytes.data() + i, n, buf);
    out.append(buf, len);
    out += "\r\n";
  }
}

void AppendHeaderValue(std::string_view value, size_t name_len, std::string& out) {
  bool ascii = true;
  for (unsigned char c : value) ascii = ascii && !(c & 0x80);
  if (ascii) {
    size_t col = name_len + 2;
    size_t word_start = out.size();
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') c = ' ';
      // Fold at a space once the line passes 78 characters.
      if (c == ' ' && col > 78 && out.size() > word_start) {
        out += "\r\n";
        col = 0;
      }
      out += c;
      ++col;
    }
    return;
  }
  // RFC 2047: =?UTF-8?B?...?= words of at most 45 raw bytes (60 encoded),
  // never splitting a UTF-8 sequence, folded one word per line.
  char enc[80];
  size_t i = 0;
  bool first = true;
  while (i < value.size()) {
    size_t n = std::min<size_t>(45, value.size() - i);
    while (i + n < value.size() && (static_cast<unsigned char>(value[i + n]) & 0xC0) == 0x80) --n;
    std::string chunk(value.substr(i, n));
    for (char& c : chunk) {
      if (c == '\r' || c == '\n' || c == '\0') c = ' ';
    }
    size_t len = crypto::Base64EncodeBlock(chunk.data(), chunk.size(), enc);
    if (!first) out += "\r\n ";
    out += "=?UTF-8?B?";
    out.append(enc, len);
    out += "?=";
    first = false;
    i += n;
  }
}

void AppendCrlf(std::string_view text, std::string& out) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
}

}  // namespace salvo::render
