// JsonLine and AppendJsonString against nlohmann::json, an independent
// implementation: every string, valid UTF-8 or not, must come out byte for
// byte as nlohmann's dump() with error_handler_t::replace writes it, and
// parse back.
#include "engine/base/json_line.h"

#include <gtest/gtest.h>

#include <random>

#include "nlohmann/json.hpp"

namespace salvo {
namespace {

std::string Ours(std::string_view s) {
  std::string out;
  AppendJsonString(s, out);
  return out;
}

std::string Nlohmann(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonLineTest, EscapesAsRfc8259Requires) {
  EXPECT_EQ(Ours("plain text"), "\"plain text\"");
  EXPECT_EQ(Ours("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
  EXPECT_EQ(Ours(std::string("\b\f\n\r\t\x01\x1f\x7f", 8)),
            "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
  EXPECT_EQ(Ours(std::string("nul\0in", 6)), "\"nul\\u0000in\"");
  EXPECT_EQ(Ours("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"");
}

TEST(JsonLineTest, IllFormedUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(Ours("a\xff"
                 "b"),
            "\"a" + fffd + "b\"");
  EXPECT_EQ(Ours("\xc0\xaf"), "\"" + fffd + fffd + "\"");             // overlong '/'
  EXPECT_EQ(Ours("\xed\xa0\x80"), "\"" + fffd + fffd + fffd + "\"");  // a surrogate
  EXPECT_EQ(Ours("\xe2\x82"
                 "A"),
            "\"" + fffd + "A\"");                             // cut short, A read again
  EXPECT_EQ(Ours("end\xf0\x9f\x93"), "\"end" + fffd + "\"");  // cut by the end
  EXPECT_EQ(Ours("\xf4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
}

TEST(JsonLineTest, RandomBytesMatchNlohmannAndParseBack) {
  std::mt19937 rng(8259);
  // Weighted toward what breaks UTF-8: lead bytes, continuation bytes, the
  // edges of the valid ranges, controls and the two escaped printables.
  static constexpr unsigned char kBytes[] = {
      'a',  ' ',  '"',  '\\', '\n', 0x00, 0x1f, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
      0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
  std::uniform_int_distribution<size_t> pick(0, std::size(kBytes) - 1);
  std::uniform_int_distribution<int> length(0, 24);
  for (int i = 0; i < 50000; ++i) {
    std::string s;
    for (int n = length(rng); n > 0; --n) s.push_back(static_cast<char>(kBytes[pick(rng)]));
    std::string ours = Ours(s);
    ASSERT_EQ(ours, Nlohmann(s)) << testing::PrintToString(s);
    auto parsed = nlohmann::json::parse(ours, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << ours;
  }
}

TEST(JsonLineTest, ValidUtf8RoundTrips) {
  std::mt19937 rng(3629);
  std::uniform_int_distribution<uint32_t> cp(0, 0x10FFFF);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    for (int n = 0; n < 8; ++n) {
      uint32_t c = cp(rng);
      if (c >= 0xD800 && c <= 0xDFFF) continue;  // surrogates are not characters
      if (c < 0x80) {
        s.push_back(static_cast<char>(c));
      } else if (c < 0x800) {
        s.push_back(static_cast<char>(0xC0 | (c >> 6)));
        s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      } else if (c < 0x10000) {
        s.push_back(static_cast<char>(0xE0 | (c >> 12)));
        s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      } else {
        s.push_back(static_cast<char>(0xF0 | (c >> 18)));
        s.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
    }
    ASSERT_EQ(nlohmann::json::parse(Ours(s)).get<std::string>(), s);
  }
}

TEST(JsonLineTest, FieldsInTheOrderGiven) {
  std::string line = "prefix ";
  JsonLine j(line);
  j.Str("z", "last?").Int("n", -42).Bool("ok", true).Str("q\"k", "v");
  j.End();
  EXPECT_EQ(line, "prefix {\"z\":\"last?\",\"n\":-42,\"ok\":true,\"q\\\"k\":\"v\"}");
  std::string empty;
  JsonLine(empty).End();
  EXPECT_EQ(empty, "{}");
}

}  // namespace
}  // namespace salvo
