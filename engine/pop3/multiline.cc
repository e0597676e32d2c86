#include "engine/pop3/multiline.h"

namespace salvo::pop3 {

void MultilineEncoder::Encode(std::string_view piece, std::string& out) {
  out.reserve(out.size() + piece.size() + piece.size() / 64 + 8);
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < piece.size(); ++i) {
    char c = piece[i];
    if (c == '\n' && after_cr_) {  // the LF of a CRLF already written
      out.append(piece.substr(run, i - run));
      run = i + 1;
      after_cr_ = false;
      continue;
    }
    after_cr_ = false;
    if (c == '\r' || c == '\n') {
      out.append(piece.substr(run, i - run));
      out.append("\r\n");
      run = i + 1;
      after_cr_ = c == '\r';
      line_start_ = true;
      continue;
    }
    if (line_start_ && c == '.') {
      out.append(piece.substr(run, i - run));
      out.push_back('.');  // the stuffed dot; the original follows in the run
      run = i;
    }
    line_start_ = false;
  }
  out.append(piece.substr(run));
}

void MultilineEncoder::Finish(std::string& out) {
  if (!line_start_) out.append("\r\n");
  out.append(".\r\n");
  line_start_ = true;
  after_cr_ = false;
}

std::string_view TopOfMessage(std::string_view content, uint32_t body_lines) {
  size_t pos = 0;
  bool blank = false;
  while (pos < content.size()) {
    size_t lf = content.find('\n', pos);
    size_t line_end = lf == std::string_view::npos ? content.size() : lf;
    std::string_view line = content.substr(pos, line_end - pos);
    pos = lf == std::string_view::npos ? content.size() : lf + 1;
    if (line.empty() || line == "\r") {
      blank = true;
      break;
    }
  }
  if (!blank) return content;
  for (uint32_t n = 0; n < body_lines && pos < content.size(); ++n) {
    size_t lf = content.find('\n', pos);
    pos = lf == std::string_view::npos ? content.size() : lf + 1;
  }
  return content.substr(0, pos);
}

}  // namespace salvo::pop3
