// Bounces in: one received message -> what it is (a DSN, an ARF complaint, an
// auto-reply, or unknown), which recipients failed and why, and the hints that
// tie it to what we sent (the VERP return path and the original Message-ID).
// I/O-free and bounded: a message over max_message_bytes is not parsed, MIME
// is walked at most max_mime_depth deep and max_mime_parts wide, and at most
// max_recipients are reported; hitting a bound sets `truncated`, never aborts.
// GMime provides the MIME structure; it is initialised once, on first use,
// and is safe to call from any thread afterwards.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dsn/bounce_classify.h"

namespace salvo::dsn {

enum class BounceKind { kUnknown, kDsn, kArfComplaint, kAutoReply };
std::string_view KindName(BounceKind kind);

struct BouncedRecipient {
  std::string address;
  std::string original_recipient;  // Original-Recipient, type prefix removed
  std::string status;              // "5.1.1", or "" if none could be found
  std::string action;              // "failed" / "delayed" (lowercase)
  std::string diagnostic;          // Diagnostic-Code without "smtp;", or the text block
  std::string remote_mta;          // without "dns;"
  Classification classification;
};

struct BounceReport {
  BounceKind kind = BounceKind::kUnknown;
  // True for bounces recognised from free text rather than message/delivery-status.
  bool non_standard = false;
  // Worst over the recipients (hard > soft > unknown), complaint, or auto_reply.
  Classification classification;
  std::vector<BouncedRecipient> recipients;  // failed and delayed ones only
  bool truncated = false;
  std::string truncation;  // why, when truncated: "size", "depth", "parts", "recipients"

  std::string reporting_mta;
  std::string original_envelope_id;
  std::string feedback_type;        // ARF: "abuse", "fraud", ...
  std::string verp_address;         // "bounce+TOKEN@domain" if one was found
  std::string original_message_id;  // with angle brackets, as written
};

struct BounceLimits {
  size_t max_message_bytes = 10 << 20;
  int max_mime_depth = 8;
  size_t max_mime_parts = 256;
  size_t max_recipients = 100;
  std::string verp_prefix = "bounce+";
  // Classification rules; nullptr = the built-in ones. Not owned.
  const BounceRules* rules = nullptr;
};

BounceReport ParseBounce(std::string_view message, const BounceLimits& limits = {});

}  // namespace salvo::dsn
