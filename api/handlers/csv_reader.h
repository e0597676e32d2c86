// CsvReader: an incremental, I/O-free RFC 4180 reader for recipient uploads.
//
// Bytes go in as they arrive (any split, even one byte at a time); complete
// rows come out. Fields may be quoted ("a, b", "say ""hi""", line breaks
// inside quotes); rows end with CRLF, LF or a bare CR; blank lines are
// skipped. Memory is bounded by one row (max_row_bytes). A structural error
// (a quote inside an unquoted field, text after a closing quote, an
// unterminated quote, an over-long row or field, too many columns) stops the
// reader: it is InvalidArgument naming the line, and every later call
// returns it again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace salvo::api {

struct CsvRow {
  std::vector<std::string> fields;
  uint64_t line = 0;  // the physical line the row starts on (1-based)
};

struct CsvLimits {
  size_t max_field_bytes = 4096;
  size_t max_row_bytes = 64 << 10;
  size_t max_columns = 101;
};

class CsvReader {
 public:
  explicit CsvReader(CsvLimits limits = {}) : limits_(limits) {}

  // Appends the rows completed by `data` to `rows`.
  absl::Status Feed(std::string_view data, std::vector<CsvRow>& rows);
  // The input has ended: completes a last row without a line break.
  absl::Status Finish(std::vector<CsvRow>& rows);

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  absl::Status Fail(std::string_view what);
  absl::Status EndField();
  absl::Status EndRow(std::vector<CsvRow>& rows);
  absl::Status Append(char c);

  CsvLimits limits_;
  State state_ = State::kFieldStart;
  CsvRow row_;
  std::string field_;
  size_t row_bytes_ = 0;
  uint64_t line_ = 1;
  bool skip_lf_ = false;  // a CR ended the row; a following LF belongs to it
  absl::Status error_;
};

}  // namespace salvo::api
