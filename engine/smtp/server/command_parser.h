// The I/O-free SMTP command parser of the server: one command line (without
// its CRLF) in, a verb and parsed parameters out, or the error reply.
//
//   SplitCommand("mail FROM:<a@b> SIZE=10")   -> {kMail, "FROM:<a@b> SIZE=10"}
//   ParseMail("FROM:<a@b> SIZE=10", &mail)    -> nullopt (ok), mail.size == 10
//
// Verbs are case-insensitive (RFC 5321 §2.4). Every parse function returns
// nullopt on success or the reply to send, with an RFC 3463 enhanced status:
// 501 for syntax, 555 for an unknown or unsupported MAIL/RCPT parameter
// (RFC 5321 §4.1.1.11), 552 for a declared SIZE over the limit (RFC 1870),
// 553 5.6.7 for a UTF-8 address without SMTPUTF8 (RFC 6531 §3.5).
//
// ESMTP parameters understood: MAIL SIZE, BODY=7BIT|8BITMIME, SMTPUTF8,
// RET=FULL|HDRS, ENVID (RFC 3461, xtext), AUTH= (RFC 4954, accepted and
// recorded); RCPT NOTIFY=NEVER|SUCCESS,FAILURE,DELAY and ORCPT=type;xtext.
// Keywords are case-insensitive; a parameter given twice is a syntax error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/smtp/reply.h"

namespace salvo::smtp {

enum class Verb {
  kUnknown,
  kEhlo,
  kHelo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kVrfy,
  kExpn,
  kHelp,
  kQuit,
  kStartTls,
  kAuth,
  kHttp,  // GET/POST/CONNECT...: a web client or proxy abuse, not SMTP
};

struct CommandLine {
  Verb verb = Verb::kUnknown;
  std::string_view verb_text;  // as sent
  std::string_view args;       // after the verb and its separating spaces
};

// Splits `line` into verb and arguments. Never fails: an unknown verb is
// kUnknown. Trailing spaces are dropped from `args`.
CommandLine SplitCommand(std::string_view line);

// True if `line` holds bytes no SMTP command may contain: NUL, control
// characters other than TAB, or DEL. (8-bit bytes are allowed: SMTPUTF8.)
bool HasForbiddenBytes(std::string_view line);

enum class BodyType { kUnspecified, k7Bit, k8BitMime };

struct MailCommand {
  std::string reverse_path;  // empty for <>
  std::optional<uint64_t> size;
  BodyType body = BodyType::kUnspecified;
  bool smtputf8 = false;
  std::string ret;    // "FULL", "HDRS" or ""
  std::string envid;  // xtext as sent, or ""
  std::string auth;   // RFC 4954 AUTH= value as sent, or ""
};

struct RcptCommand {
  std::string forward_path;
  std::string domain;  // "" for <Postmaster>
  std::string notify;  // "NEVER" or e.g. "SUCCESS,FAILURE", upper case; or ""
  std::string orcpt;   // "rfc822;bob@example.com" as sent, or ""
};

struct BdatCommand {
  uint64_t size = 0;
  bool last = false;
};

struct AuthCommand {
  std::string mechanism;                        // upper case
  std::optional<std::string> initial_response;  // base64 as sent ("=" for empty)
};

// `max_size` is the advertised SIZE limit (0: none).
std::optional<SmtpReply> ParseMail(std::string_view args, uint64_t max_size, MailCommand* out);
// `smtputf8`: the transaction's MAIL carried SMTPUTF8.
std::optional<SmtpReply> ParseRcpt(std::string_view args, bool smtputf8, RcptCommand* out);
std::optional<SmtpReply> ParseBdat(std::string_view args, BdatCommand* out);
std::optional<SmtpReply> ParseAuth(std::string_view args, AuthCommand* out);
// EHLO/HELO: the client's name, leniently (any token without characters that
// would corrupt a Received: header; an address literal must be valid).
std::optional<SmtpReply> ParseHelo(std::string_view args, std::string* out);

// RFC 3461 §4: xtext is printable ASCII except '+' and '=', with "+HH"
// hex escapes (upper-case hex digits).
bool IsValidXtext(std::string_view s);

}  // namespace salvo::smtp
