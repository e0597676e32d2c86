// What the inbound SMTP session hands over, and to whom.
//
// MessageSink: where a complete, accepted-looking message goes. The session
// answers the final 250 of DATA / BDAT LAST only after Accept() returned OK:
// an implementation returns OK only once the message is durable (the
// queue's group commit, DESIGN.md "nothing is acknowledged before it is
// durable"). Its status decides the reply:
//
//   OK                       250 2.0.0 Ok: queued as <queue_id>
//   ResourceExhausted        452 4.3.1 Insufficient system storage
//   Unavailable              451 4.3.0 Temporary local problem
//   DeadlineExceeded         451 4.3.0 Temporary local problem
//   InvalidArgument          554 5.6.0 <message>   (content refused for good)
//   PermissionDenied         550 5.7.1 <message>   (policy refusal)
//   anything else            451 4.3.0 (never lose mail on an unknown error)
//
// SuppressionCheck (optional): consulted at RCPT for every recipient the
// relay policy accepted. A suppressed recipient is refused at RCPT with
// 550 5.7.1 (SuppressionAction::kReject) or accepted and marked
// (kAcceptAndMark) for the queue to record and skip.
//
// Threading: the session calls these on its ring thread and awaits them;
// an implementation must not block the ring (hand work to a writer thread
// and complete back on the calling ring). One instance may serve every
// shard, so it must be safe to call from several rings at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/loop/task.h"
#include "engine/net/socket_address.h"
#include "engine/smtp/server/command_parser.h"

namespace salvo::smtp {

struct InboundRecipient {
  std::string address;             // forward-path without <>; "Postmaster" possible
  std::string notify;              // RFC 3461 NOTIFY, upper case, or ""
  std::string orcpt;               // RFC 3461 ORCPT as sent ("rfc822;bob@example.com") or ""
  bool suppressed = false;         // kAcceptAndMark: on the suppression list
  std::string suppression_reason;  // why, when suppressed
};

struct InboundTls {
  bool active = false;
  std::string protocol;  // "TLSv1.3"
  std::string cipher;    // "TLS_AES_256_GCM_SHA384"
  int bits = 0;
  std::string sni;  // server name the client asked for, or ""
};

struct InboundMessage {
  std::string reverse_path;  // "" for the null sender <>
  std::vector<InboundRecipient> recipients;
  // RFC 3461 envelope DSN parameters.
  std::string ret;    // "FULL", "HDRS" or ""
  std::string envid;  // xtext as sent, or ""
  BodyType body = BodyType::kUnspecified;
  bool smtputf8 = false;
  uint64_t declared_size = 0;  // MAIL SIZE=, 0 if none

  std::string auth_identity;  // SMTP AUTH user, "" if not authenticated
  SocketAddress client_address;
  std::string helo;  // EHLO/HELO name as sent
  bool esmtp = false;
  InboundTls tls;
  std::string listener;    // the listener's name, for logs and routing
  std::string session_id;  // also the Received: header's "id"

  // The message with CRLF line endings, dot-unstuffed, starting with the
  // Received: header the session prepended.
  std::string content;
};

struct AcceptedMessage {
  std::string queue_id;  // shown to the client: "250 2.0.0 Ok: queued as <queue_id>"
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual Task<absl::StatusOr<AcceptedMessage>> Accept(InboundMessage message) = 0;
};

enum class SuppressionAction { kReject, kAcceptAndMark };

class SuppressionCheck {
 public:
  virtual ~SuppressionCheck() = default;
  // The reason `recipient` is suppressed ("hard bounce 2024-05-01"), or
  // nullopt when it is not. An error makes RCPT answer 451 4.3.0.
  virtual Task<absl::StatusOr<std::optional<std::string>>> Check(std::string recipient) = 0;
};

}  // namespace salvo::smtp
