// The mail-domain records the spool stores and hands out.
//
// A single message (SMTP submission, POST /v1/messages) stores its raw RFC 5322
// content once for all of its recipients; a campaign stores its template
// (headers, text and HTML parts, attachments) and settings once, and each
// recipient only its address, variables and DSN parameters. A recipient's
// delivery state (attempts, next attempt, last response) lives beside it and
// changes with every attempt. These are plain values: how they are encoded
// on disk is codec.h's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "queue/ids.h"

namespace salvo::queue {

// RFC 3461 NOTIFY, as a bit set. 0 means "not given" (the MTA's default:
// FAILURE and DELAY); kNever excludes every other bit.
enum DsnNotify : uint8_t {
  kNotifyNever = 1,
  kNotifySuccess = 2,
  kNotifyFailure = 4,
  kNotifyDelay = 8,
};

// RFC 3461 RET: how much of the message a failure DSN returns.
enum class DsnReturn : uint8_t { kUnspecified = 0, kFull = 1, kHeaders = 2 };

// Per-recipient DSN parameters (RFC 3461 NOTIFY and ORCPT).
struct DsnParams {
  uint8_t notify = 0;  // DsnNotify bits
  std::string orcpt;   // "addr-type;xtext", as received
  friend bool operator==(const DsnParams&, const DsnParams&) = default;
};

using Variables = std::vector<std::pair<std::string, std::string>>;

// A recipient as submitted, before it has an id.
struct NewRecipient {
  std::string address;  // RFC 5321 forward-path, without angle brackets
  Variables variables;  // campaign substitutions; empty for single messages
  DsnParams dsn;
};

// A single message: raw content stored once for all its recipients.
struct Message {
  std::string envelope_from;  // reverse-path; empty for the null sender <>
  std::string content;        // raw RFC 5322 message (headers and body)
  DsnReturn ret = DsnReturn::kUnspecified;
  std::string envid;                      // RFC 3461 ENVID, xtext as received
  std::optional<absl::Duration> max_age;  // overrides the retry policy's
  friend bool operator==(const Message&, const Message&) = default;
};

struct Header {
  std::string name;
  std::string value;
  friend bool operator==(const Header&, const Header&) = default;
};

struct Attachment {
  std::string filename;
  std::string content_type;
  std::string data;        // raw bytes (encoded at delivery time)
  std::string content_id;  // for inline parts referenced from HTML; may be empty
  friend bool operator==(const Attachment&, const Attachment&) = default;
};

// What a campaign renders for each recipient, stored once.
struct CampaignTemplate {
  std::vector<Header> headers;  // From, Subject, ... (may contain variables)
  std::string text;             // text/plain part; empty if none
  std::string html;             // text/html part; empty if none
  std::vector<Attachment> attachments;
  friend bool operator==(const CampaignTemplate&, const CampaignTemplate&) = default;
};

struct CampaignSettings {
  std::string name;
  std::string envelope_from;  // reverse-path (a VERP base is derived from it)
  DsnReturn ret = DsnReturn::kUnspecified;
  std::string envid;
  std::optional<absl::Duration> max_age;                      // overrides the retry policy's
  std::vector<std::pair<std::string, std::string>> metadata;  // tags for reports
  friend bool operator==(const CampaignSettings&, const CampaignSettings&) = default;
};

struct Campaign {
  CampaignTemplate message_template;
  CampaignSettings settings;
  friend bool operator==(const Campaign&, const Campaign&) = default;
};

// The stored content a recipient points at.
using Content = std::variant<Message, Campaign>;

// The last answer of a delivery attempt. A local problem (DNS, connect
// timeout) has code 0 and says what happened in text.
struct RemoteResponse {
  std::string host;             // MX host name
  std::string ip;               // remote address
  int code = 0;                 // SMTP reply code, 0 if none
  std::string enhanced_status;  // "4.2.2", may be empty
  std::string text;
  friend bool operator==(const RemoteResponse&, const RemoteResponse&) = default;
};

enum class RecipientState : uint8_t {
  kQueued = 0,    // waiting for its first attempt
  kDeferred = 1,  // tried, waiting for the next attempt
  kDelivered = 2,
  kFailed = 3,
  kExpired = 4,  // failed because it stayed queued past the maximum age
};
const char* RecipientStateName(RecipientState state);

// Feedback that arrives after delivery: a bounce (DSN) or complaint (ARF)
// at the bounce MX, or a one-click unsubscribe. Values are on-disk contract.
enum class FeedbackKind : uint8_t { kBounced = 1, kComplained = 2, kUnsubscribed = 3 };
const char* FeedbackKindName(FeedbackKind kind);  // "bounced", "complained", "unsubscribed"

// A stored recipient as read back from the spool.
struct Recipient {
  RecipientId id;
  ContentId content;
  std::string address;
  Variables variables;
  DsnParams dsn;
  RecipientState state = RecipientState::kQueued;
  int attempts = 0;
  absl::Time accepted_at;   // from the id
  absl::Time next_attempt;  // accepted_at until the first attempt
  std::optional<absl::Time> last_attempt;
  std::optional<RemoteResponse> last_response;
  // Set by ReadRecipient when the address is on the suppression list now
  // (added after the recipient was accepted): the delivery engine skips it.
  bool suppressed = false;
  std::string suppression;  // "<reason> (<source>)" when suppressed
};

// What a delivery attempt came to, reported by the delivery engine.
struct DeliveryOutcome {
  enum class Kind : uint8_t { kDelivered, kDeferred, kFailed };
  Kind kind = Kind::kDeferred;
  RemoteResponse response;
  std::string reason;  // local explanation, e.g. "no MX", "TLS required"
  // For kDeferred: when to try again; unset = the retry policy decides.
  std::optional<absl::Time> retry_at;
  // The recipient's address, when the caller has already read it: the
  // outcome's event then needs no read of the recipient record. Empty: the
  // spool reads it.
  std::string address;
};

// One line of delivery history, kept after the recipient is gone (reports,
// DSNs, webhooks read these).
struct DeliveryEvent {
  EventId id;  // time-ordered
  RecipientId recipient;
  ContentId content;
  RecipientState kind = RecipientState::kDelivered;  // delivered/deferred/failed/expired
  absl::Time time;
  int attempts = 0;
  std::string address;
  RemoteResponse response;
  std::string reason;
  std::optional<absl::Time> next_attempt;  // for deferrals
  // Set for a feedback event (campaign events only, spool.h
  // RecordCampaignFeedback): then `kind` is kDelivered, `reason` the detail,
  // `category` e.g. "bad-mailbox", "complaint", "one-click".
  std::optional<FeedbackKind> feedback;
  std::string category;
};

// An address mail must not be sent to (hard bounces, complaints, manual).
struct SuppressionEntry {
  std::string address;  // normalised: see NormalizeAddress()
  std::string reason;
  std::string source;  // "bounce", "complaint", "api", ...
  absl::Time created;
  friend bool operator==(const SuppressionEntry&, const SuppressionEntry&) = default;
};

// Lower-cases the domain (and the local part too: suppression lists and
// reports compare addresses case-insensitively, as every receiving MTA in
// practice does).
std::string NormalizeAddress(std::string_view address);
// The domain of an address, lower-cased; empty if there is no '@'.
std::string AddressDomain(std::string_view address);

}  // namespace salvo::queue
