// The inbound SMTP listeners' bridge to the spool: SpoolMessageSink turns an
// accepted SMTP transaction into one durable AcceptMessage (content stored
// once for all its recipients, with their RFC 3461 parameters), and
// SpoolSuppressionCheck answers RCPT from the spool's suppression list.
//
// Durability: Accept() resolves only when the spool's group commit has made
// the message durable, so the session's "250 ... queued as <id>" is never
// given for mail that a crash could lose. Spool errors keep their codes
// (ResourceExhausted → 452 4.3.1, Unavailable → 451 4.3.0; see
// engine/smtp/server/message_sink.h).
//
// Threading: both are called on ring threads and await SpoolOps, which
// resume on the calling ring. The spool must outlive every session.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/smtp/server/message_sink.h"
#include "queue/spool.h"

namespace salvo {

// RFC 3461 NOTIFY ("SUCCESS,DELAY", "NEVER", "") → queue::DsnNotify bits.
uint8_t ParseDsnNotify(std::string_view notify);

class SpoolMessageSink final : public smtp::MessageSink {
 public:
  // `accepted` runs after every durable accept (the delivery engine's Kick).
  SpoolMessageSink(queue::Spool* spool, std::function<void()> accepted);
  Task<absl::StatusOr<smtp::AcceptedMessage>> Accept(smtp::InboundMessage message) override;

 private:
  queue::Spool* spool_;
  std::function<void()> accepted_;
};

class SpoolSuppressionCheck final : public smtp::SuppressionCheck {
 public:
  explicit SpoolSuppressionCheck(queue::Spool* spool) : spool_(spool) {}
  Task<absl::StatusOr<std::optional<std::string>>> Check(std::string recipient) override;

 private:
  queue::Spool* spool_;
};

}  // namespace salvo
