// CsvReader (api/handlers/csv_reader.h): RFC 4180 quoting, line ends, and
// structural errors, with the input fed whole and one byte at a time.
#include "api/handlers/csv_reader.h"

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace salvo::api {
namespace {

// Rows as "a|b|c@line", fed in pieces of `step` bytes (0 = whole).
absl::StatusOr<std::vector<std::string>> Read(std::string_view input, size_t step) {
  CsvReader reader;
  std::vector<CsvRow> rows;
  if (step == 0) step = input.size() + 1;
  for (size_t at = 0; at < input.size(); at += step) {
    if (absl::Status s = reader.Feed(input.substr(at, step), rows); !s.ok()) return s;
  }
  if (absl::Status s = reader.Finish(rows); !s.ok()) return s;
  std::vector<std::string> out;
  for (const CsvRow& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.fields.size(); ++i) line += (i ? "|" : "") + r.fields[i];
    out.push_back(line + "@" + std::to_string(r.line));
  }
  return out;
}

TEST(CsvReader, QuotingAndLineEndsAtEverySplit) {
  std::string input =
      "address,name\r\n"
      "a@x.example,\"Smith, Ann\"\r\n"
      "\n"
      "b@x.example,\"say \"\"hi\"\"\"\n"
      "c@x.example,\"two\nlines\"\r"
      "d@x.example,\n"
      "\"\",last";
  std::vector<std::string> want = {"address|name@1",           "a@x.example|Smith, Ann@2",
                                   "b@x.example|say \"hi\"@4", "c@x.example|two\nlines@5",
                                   "d@x.example|@7",           "|last@8"};
  for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{7}}) {
    SCOPED_TRACE(step);
    absl::StatusOr<std::vector<std::string>> rows = Read(input, step);
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(*rows, want);
  }
}

TEST(CsvReader, StructuralErrorsNameTheLine) {
  struct Case {
    std::string input;
    std::string message;
  };
  std::vector<Case> cases = {
      {"a\nb\"c\n", "CSV line 2: a quote inside an unquoted field"},
      {"a\n\"b\"c\n", "CSV line 2: text after a closing quote"},
      {"a\n\"open\n", "CSV line 3: a quoted field is never closed"},
      {"a\n" + std::string(5000, 'x') + "\n", "CSV line 2: a field is longer than 4096 bytes"},
      {std::string(200, ',') + "\n", "CSV line 1: more than 101 columns"},
  };
  for (const Case& c : cases) {
    for (size_t step : {size_t{0}, size_t{1}}) {
      absl::StatusOr<std::vector<std::string>> rows = Read(c.input, step);
      ASSERT_FALSE(rows.ok()) << c.input.substr(0, 20);
      EXPECT_TRUE(std::string(rows.status().message()).starts_with(c.message))
          << rows.status() << " want " << c.message;
    }
  }
  CsvReader reader(CsvLimits{.max_field_bytes = 100, .max_row_bytes = 150, .max_columns = 10});
  std::vector<CsvRow> rows;
  absl::Status s = reader.Feed(std::string(90, 'a') + "," + std::string(90, 'b') + "\n", rows);
  EXPECT_EQ(s.message(), "CSV line 1: a row is longer than 150 bytes");
  EXPECT_EQ(reader.Feed("a\n", rows), s);  // sticky
}

}  // namespace
}  // namespace salvo::api
