#include "engine/smtp/server/server_reply.h"

#include "fmt/format.h"

namespace salvo::smtp {

SmtpReply MakeReply(int code, std::string_view enhanced, std::string_view text) {
  SmtpReply r;
  r.code = code;
  r.enhanced = std::string(enhanced);
  r.lines.push_back(Printable(text, 512));
  return r;
}

void AppendWireReply(const SmtpReply& reply, std::string& out) {
  if (reply.lines.empty()) {
    fmt::format_to(std::back_inserter(out), "{}{}{}\r\n", reply.code,
                   reply.enhanced.empty() ? "" : " ", reply.enhanced);
    return;
  }
  for (size_t i = 0; i < reply.lines.size(); ++i) {
    char sep = i + 1 == reply.lines.size() ? ' ' : '-';
    fmt::format_to(std::back_inserter(out), "{}{}", reply.code, sep);
    if (!reply.enhanced.empty()) {
      out += reply.enhanced;
      if (!reply.lines[i].empty()) out += ' ';
    }
    out += Printable(reply.lines[i], 1024);
    out += "\r\n";
  }
}

std::string Printable(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  for (char c : text.substr(0, max)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

}  // namespace salvo::smtp
