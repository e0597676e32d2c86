// Small text helpers shared by the DSN composer and the bounce parser: RFC 5322
// style field blocks (unfolded, case-insensitive names), address and status
// code extraction from free text. Pure functions over string_views; every
// scan is linear and bounded by its input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace salvo::dsn {

// A diagnostic taken from a bounce is cut at this many bytes.
inline constexpr size_t kMaxDiagnostic = 1000;

// One "Name: value" field; value is unfolded and trimmed.
struct Field {
  std::string name;
  std::string value;
};
using FieldBlock = std::vector<Field>;

// Splits `text` into blocks of fields separated by blank lines (the layout of
// message/delivery-status and message/feedback-report). At most `max_blocks`
// blocks are returned; *truncated is set when more were present.
std::vector<FieldBlock> ParseFieldBlocks(std::string_view text, size_t max_blocks, bool* truncated);
// The header section of a message (up to the first blank line) as one block.
FieldBlock ParseHeaderSection(std::string_view message);
// The body after the first blank line (empty if none).
std::string_view BodyOf(std::string_view message);

// First value of field `name` (case-insensitive), or nullopt.
std::optional<std::string_view> FindField(const FieldBlock& block, std::string_view name);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);
std::string ToLower(std::string_view text);
std::string_view Trim(std::string_view text);

// "rfc822; <User@Example.com>" -> "User@Example.com"; strips the type prefix,
// angle brackets and comments-free whitespace.
std::string StripAddressType(std::string_view typed_value);
// The first thing that looks like local@domain in `text` (bracketed or not),
// or "" when none.
std::string FindAddress(std::string_view text);
// All addresses in `text`, in order, at most `max`.
std::vector<std::string> FindAddresses(std::string_view text, size_t max);
// First RFC 3463 enhanced status code "c.s.d" with c in {2,4,5}, or "".
std::string FindEnhancedStatus(std::string_view text);
// First SMTP reply code (3 digits, first 4 or 5, standing alone), or 0.
int FindReplyCode(std::string_view text);

// Replaces CR, LF and other C0 controls with spaces (header injection guard).
std::string OneLine(std::string_view text);

}  // namespace salvo::dsn
