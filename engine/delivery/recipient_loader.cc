#include "engine/delivery/recipient_loader.h"

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"

namespace salvo::delivery {

Task<std::vector<absl::Status>> LoadRecipients(queue::Spool& spool,
                                               std::vector<LeasedRecipient>& recipients,
                                               ReadAheadBudget* read_ahead) {
  std::vector<queue::RecipientRef> refs;
  refs.reserve(recipients.size());
  absl::flat_hash_map<queue::ContentId, std::shared_ptr<const queue::Content>> ahead;
  std::vector<queue::ContentId> contents;
  queue::ReadAheadLimits limits;
  if (read_ahead != nullptr) {
    limits = {.max_content_bytes = kMaxReadAheadContent,
              .max_total_bytes = std::min(read_ahead->available(), kMaxReadAheadPerLoad)};
  }
  for (const LeasedRecipient& r : recipients) {
    refs.push_back(queue::RecipientRef{.content = r.due.content, .id = r.due.id});
    if (limits.max_total_bytes > 0 && r.due.single_message &&
        ahead.try_emplace(r.due.content).second) {
      contents.push_back(r.due.content);
    }
  }
  absl::StatusOr<queue::DeliveryRead> read =
      co_await spool.ReadForDelivery(std::move(refs), contents, limits);
  if (!read.ok()) co_return std::vector<absl::Status>(recipients.size(), read.status());
  for (size_t i = 0; i < contents.size(); ++i) {
    if (read->contents[i]) ahead[contents[i]] = read_ahead->Hold(std::move(*read->contents[i]));
  }
  std::vector<absl::Status> errors(recipients.size());
  for (size_t i = 0; i < recipients.size(); ++i) {
    absl::StatusOr<queue::Recipient>& r = read->recipients[i];
    if (!r.ok()) {
      errors[i] = r.status();
      continue;
    }
    recipients[i].address = std::move(r->address);
    if (r->suppressed) {
      errors[i] = absl::FailedPreconditionError(fmt::format("suppressed: {}", r->suppression));
      continue;
    }
    recipients[i].variables = std::move(r->variables);
    recipients[i].dsn = std::move(r->dsn);
    recipients[i].loaded = true;
    if (auto it = ahead.find(recipients[i].due.content); it != ahead.end()) {
      recipients[i].content = it->second;
    }
  }
  co_return errors;
}

}  // namespace salvo::delivery
