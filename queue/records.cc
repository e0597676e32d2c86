#include "queue/records.h"

#include "absl/strings/ascii.h"
#include "engine/base/strings.h"

namespace salvo::queue {

const char* RecipientStateName(RecipientState state) {
  switch (state) {
    case RecipientState::kQueued:
      return "queued";
    case RecipientState::kDeferred:
      return "deferred";
    case RecipientState::kDelivered:
      return "delivered";
    case RecipientState::kFailed:
      return "failed";
    case RecipientState::kExpired:
      return "expired";
  }
  return "unknown";
}

const char* FeedbackKindName(FeedbackKind kind) {
  switch (kind) {
    case FeedbackKind::kBounced:
      return "bounced";
    case FeedbackKind::kComplained:
      return "complained";
    case FeedbackKind::kUnsubscribed:
      return "unsubscribed";
  }
  return "unknown";
}

std::string NormalizeAddress(std::string_view address) {
  return absl::AsciiStrToLower(ToAbsl(address));
}

std::string AddressDomain(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return absl::AsciiStrToLower(ToAbsl(address.substr(at + 1)));
}

}  // namespace salvo::queue
