#include "api/handlers/csv_reader.h"

#include "fmt/format.h"

namespace salvo::api {

absl::Status CsvReader::Fail(std::string_view what) {
  error_ = absl::InvalidArgumentError(fmt::format("CSV line {}: {}", line_, what));
  return error_;
}

absl::Status CsvReader::Append(char c) {
  if (++row_bytes_ > limits_.max_row_bytes) {
    return Fail(fmt::format("a row is longer than {} bytes", limits_.max_row_bytes));
  }
  if (field_.size() >= limits_.max_field_bytes) {
    return Fail(fmt::format("a field is longer than {} bytes", limits_.max_field_bytes));
  }
  field_.push_back(c);
  return absl::OkStatus();
}

absl::Status CsvReader::EndField() {
  if (row_.fields.size() >= limits_.max_columns) {
    return Fail(fmt::format("more than {} columns", limits_.max_columns));
  }
  row_.fields.push_back(std::move(field_));
  field_.clear();
  state_ = State::kFieldStart;
  return absl::OkStatus();
}

absl::Status CsvReader::EndRow(std::vector<CsvRow>& rows) {
  if (absl::Status s = EndField(); !s.ok()) return s;
  bool blank = row_.fields.size() == 1 && row_.fields[0].empty() && row_bytes_ == 0;
  if (!blank) rows.push_back(std::move(row_));
  row_ = CsvRow{};
  row_bytes_ = 0;
  ++line_;
  row_.line = line_;
  return absl::OkStatus();
}

absl::Status CsvReader::Feed(std::string_view data, std::vector<CsvRow>& rows) {
  if (!error_.ok()) return error_;
  if (row_.line == 0) row_.line = line_;
  for (char c : data) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    absl::Status s;
    switch (state_) {
      case State::kFieldStart:
      case State::kUnquoted:
      case State::kQuoteInQuoted:
        if (c == ',') {
          s = EndField();
        } else if (c == '\r' || c == '\n') {
          skip_lf_ = c == '\r';
          s = EndRow(rows);
        } else if (state_ == State::kQuoteInQuoted && c == '"') {
          state_ = State::kQuoted;
          s = Append('"');
        } else if (state_ == State::kQuoteInQuoted) {
          s = Fail("text after a closing quote");
        } else if (c == '"' && state_ == State::kFieldStart) {
          state_ = State::kQuoted;
          ++row_bytes_;
        } else if (c == '"') {
          s = Fail("a quote inside an unquoted field (quote the whole field)");
        } else {
          state_ = State::kUnquoted;
          s = Append(c);
        }
        break;
      case State::kQuoted:
        if (c == '"') {
          state_ = State::kQuoteInQuoted;
          ++row_bytes_;
        } else {
          if (c == '\n') ++line_;
          s = Append(c);
        }
        break;
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CsvReader::Finish(std::vector<CsvRow>& rows) {
  if (!error_.ok()) return error_;
  if (state_ == State::kQuoted) return Fail("a quoted field is never closed");
  if (row_bytes_ > 0 || !row_.fields.empty() || !field_.empty()) return EndRow(rows);
  return absl::OkStatus();
}

}  // namespace salvo::api
