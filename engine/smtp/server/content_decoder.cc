#include "engine/smtp/server/content_decoder.h"

#include "engine/smtp/server/server_reply.h"
#include "fmt/format.h"

namespace salvo::smtp {

ContentDecoder::ContentDecoder(Mode mode, const ContentLimits& limits, std::string* out)
    : mode_(mode), limits_(limits), out_(out) {}

void ContentDecoder::Emit(std::string_view bytes) {
  size_ += bytes.size();
  if (limits_.max_size != 0 && size_ > limits_.max_size && !oversize_) oversize_ = true;
  if (rejecting()) {
    if (!out_->empty()) std::string().swap(*out_);  // refused: keep nothing
    return;
  }
  out_->append(bytes);
}

void ContentDecoder::EndLine() { line_ = 0; }

void ContentDecoder::BareNewline(bool lf) {
  if (limits_.bare_newline == BareNewlinePolicy::kNormalize) {
    Emit("\r\n");
    EndLine();
  } else {
    (lf ? bare_lf_ : bare_cr_) = true;
    Emit({});
  }
  // Never a line start: what follows can neither be unstuffed nor end DATA.
  state_ = State::kText;
}

size_t ContentDecoder::Feed(std::string_view in) {
  size_t i = 0;
  while (i < in.size() && !done_) {
    char c = in[i];
    switch (state_) {
      case State::kLineStart:
        if (mode_ == Mode::kDotTerminated && c == '.') {
          state_ = State::kDot;
          ++i;
        } else {
          state_ = State::kText;
        }
        break;
      case State::kDot:
        if (c == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else if (c == '\n') {  // "<CRLF>.<LF>": not an end; keep the dot
          Emit(".");
          BareNewline(true);
          ++i;
        } else {
          state_ = State::kText;  // the stuffed dot is dropped
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          done_ = true;
          ++i;
        } else {  // "<CRLF>.<CR>x": a bare CR, not an end
          Emit(".");
          BareNewline(false);
        }
        break;
      case State::kText: {
        size_t j = i;
        while (j < in.size() && in[j] != '\r' && in[j] != '\n') ++j;
        if (j > i) {
          Emit(in.substr(i, j - i));
          line_ += j - i;
          if (limits_.max_line != 0 && line_ > limits_.max_line) long_line_ = true;
          i = j;
        } else if (c == '\r') {
          state_ = State::kCr;
          ++i;
        } else {
          BareNewline(true);
          ++i;
        }
        break;
      }
      case State::kCr:
        if (c == '\n') {
          Emit("\r\n");
          EndLine();
          state_ = State::kLineStart;
          ++i;
        } else {
          BareNewline(false);  // and `c` is read again as text
        }
        break;
    }
  }
  return i;
}

void ContentDecoder::Finish() {
  if (state_ == State::kCr) BareNewline(false);
  done_ = true;
}

std::optional<SmtpReply> ContentDecoder::Verdict() const {
  if (oversize_) return MakeReply(552, "5.3.4", "Message size exceeds fixed maximum message size");
  if (bare_lf_ || bare_cr_) {
    return MakeReply(550, "5.6.0",
                     fmt::format("Message contains a bare {}; lines must end with <CR><LF> "
                                 "(RFC 5321 section 2.3.8)",
                                 bare_lf_ ? "<LF>" : "<CR>"));
  }
  if (long_line_) {
    return MakeReply(550, "5.6.0",
                     fmt::format("Message contains a line longer than {} octets "
                                 "(RFC 5322 section 2.1.1)",
                                 limits_.max_line));
  }
  return std::nullopt;
}

}  // namespace salvo::smtp
