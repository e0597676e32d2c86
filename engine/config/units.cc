#include "engine/config/units.h"

#include <array>
#include <cctype>
#include <limits>

#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo {
namespace {

struct Unit {
  std::string_view name;
  uint64_t scale;
};

// Reads a run of decimal digits into *out; false on overflow or no digits.
bool TakeNumber(std::string_view& s, uint64_t* out) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    uint64_t d = s[i] - '0';
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
    ++i;
  }
  if (i == 0) return false;
  s.remove_prefix(i);
  *out = v;
  return true;
}

std::string_view TakeLetters(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  std::string_view letters = s.substr(0, i);
  s.remove_prefix(i);
  return letters;
}

bool MulAdd(uint64_t a, uint64_t b, uint64_t c, uint64_t limit, uint64_t* out) {
  if (b != 0 && a > (limit - c) / b) return false;
  *out = a * b + c;
  return *out <= limit;
}

constexpr uint64_t kNanosPerSecond = 1'000'000'000;
constexpr std::array<Unit, 7> kDurationUnits = {{
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", kNanosPerSecond},
    {"m", 60 * kNanosPerSecond},
    {"min", 60 * kNanosPerSecond},
    {"h", 3600 * kNanosPerSecond},
    {"d", 86400 * kNanosPerSecond},
}};

const Unit* FindUnit(std::string_view name, const auto& units) {
  for (const Unit& u : units) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(message); }

}  // namespace

absl::StatusOr<Duration> ParseDuration(std::string_view text) {
  if (text == "0") return Duration::zero();
  if (text.empty()) return Invalid("empty duration (write e.g. \"30s\", \"5m\", \"2h\")");
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max());
  uint64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    uint64_t n = 0;
    if (!TakeNumber(rest, &n)) {
      return Invalid(
          fmt::format("bad duration \"{}\": expected a whole number followed by a "
                      "unit (us, ms, s, m, h, d), e.g. \"30s\"",
                      text));
    }
    std::string_view unit = TakeLetters(rest);
    if (unit.empty()) {
      return Invalid(fmt::format("bad duration \"{}\": missing unit (us, ms, s, m, h, d)", text));
    }
    const Unit* u = FindUnit(unit, kDurationUnits);
    if (u == nullptr) {
      return Invalid(fmt::format(
          "bad duration \"{}\": unknown unit \"{}\" (use us, ms, s, m, h or d)", text, unit));
    }
    if (!MulAdd(n, u->scale, total, kMax, &total)) {
      return Invalid(fmt::format("duration \"{}\" is too large", text));
    }
  }
  return std::chrono::duration_cast<Duration>(
      std::chrono::nanoseconds(static_cast<int64_t>(total)));
}

std::string FormatDuration(Duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns <= 0) return "0s";
  static constexpr std::array<Unit, 6> kOrder = {{{"d", 86400 * kNanosPerSecond},
                                                  {"h", 3600 * kNanosPerSecond},
                                                  {"m", 60 * kNanosPerSecond},
                                                  {"s", kNanosPerSecond},
                                                  {"ms", 1'000'000},
                                                  {"us", 1'000}}};
  std::string out;
  uint64_t left = static_cast<uint64_t>(ns);
  for (const Unit& u : kOrder) {
    if (left >= u.scale) {
      out += fmt::format("{}{}", left / u.scale, u.name);
      left %= u.scale;
    }
  }
  if (left > 0) out += fmt::format("{}ns", left);
  return out;
}

double Rate::PerSecond() const {
  double seconds = std::chrono::duration<double>(period).count();
  return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}

absl::StatusOr<Rate> ParseRate(std::string_view text) {
  std::string_view rest = text;
  uint64_t n = 0;
  auto bad = [&] {
    return Invalid(fmt::format(
        "bad rate \"{}\": expected <count>/<unit> with unit s, min, h or d, e.g. \"10/s\"", text));
  };
  if (!TakeNumber(rest, &n) || rest.empty() || rest.front() != '/') return bad();
  rest.remove_prefix(1);
  static constexpr std::array<Unit, 8> kRateUnits = {{{"s", 1},
                                                      {"sec", 1},
                                                      {"m", 60},
                                                      {"min", 60},
                                                      {"h", 3600},
                                                      {"hour", 3600},
                                                      {"d", 86400},
                                                      {"day", 86400}}};
  const Unit* u = FindUnit(rest, kRateUnits);
  if (u == nullptr) return bad();
  if (n == 0) {
    return Invalid(
        fmt::format("rate \"{}\" is zero (leave the key out, or write "
                    "\"unlimited\" where allowed, for no limit)",
                    text));
  }
  if (n > (uint64_t{1} << 40)) return Invalid(fmt::format("rate \"{}\" is too large", text));
  return Rate{n, std::chrono::seconds(u->scale)};
}

std::string FormatRate(const Rate& rate) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(rate.period).count();
  const char* unit = s == 1 ? "s" : s == 60 ? "min" : s == 3600 ? "h" : s == 86400 ? "d" : nullptr;
  if (unit != nullptr) return fmt::format("{}/{}", rate.count, unit);
  return fmt::format("{}/{}", rate.count, FormatDuration(rate.period));
}

absl::StatusOr<uint64_t> ParseSize(std::string_view text) {
  static constexpr std::array<Unit, 10> kSizeUnits = {{
      {"", 1},
      {"b", 1},
      {"kb", 1'000},
      {"mb", 1'000'000},
      {"gb", 1'000'000'000},
      {"tb", 1'000'000'000'000},
      {"kib", uint64_t{1} << 10},
      {"mib", uint64_t{1} << 20},
      {"gib", uint64_t{1} << 30},
      {"tib", uint64_t{1} << 40},
  }};
  std::string_view rest = text;
  uint64_t n = 0;
  if (!TakeNumber(rest, &n)) {
    return Invalid(
        fmt::format("bad size \"{}\": expected a whole number of bytes with an optional unit "
                    "(B, KB, MB, GB, KiB, MiB, GiB), e.g. \"10MiB\"",
                    text));
  }
  if (rest.size() > 1 && rest.front() == ' ') rest.remove_prefix(1);  // "10 MiB"
  std::string unit = AsciiLower(rest);
  const Unit* u = FindUnit(unit, kSizeUnits);
  if (u == nullptr) {
    return Invalid(fmt::format(
        "bad size \"{}\": unknown unit \"{}\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", text,
        rest));
  }
  uint64_t bytes = 0;
  if (!MulAdd(n, u->scale, 0, std::numeric_limits<int64_t>::max(), &bytes)) {
    return Invalid(fmt::format("size \"{}\" is too large", text));
  }
  return bytes;
}

std::string FormatSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  static constexpr std::array<Unit, 6> kOrder = {{{"TiB", uint64_t{1} << 40},
                                                  {"GiB", uint64_t{1} << 30},
                                                  {"MiB", uint64_t{1} << 20},
                                                  {"KiB", uint64_t{1} << 10},
                                                  {"GB", 1'000'000'000},
                                                  {"MB", 1'000'000}}};
  for (const Unit& u : kOrder) {
    if (bytes % u.scale == 0) return fmt::format("{}{}", bytes / u.scale, u.name);
  }
  if (bytes % 1000 == 0) return fmt::format("{}KB", bytes / 1000);
  return fmt::format("{}", bytes);
}

}  // namespace salvo
