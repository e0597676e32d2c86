#include "engine/delivery/recipient_loader.h"

#include "fmt/format.h"

namespace salvo::delivery {

Task<std::vector<absl::Status>> LoadRecipients(queue::Spool& spool,
                                               std::vector<LeasedRecipient>& recipients) {
  std::vector<queue::RecipientRef> refs;
  refs.reserve(recipients.size());
  for (const LeasedRecipient& r : recipients) {
    refs.push_back(queue::RecipientRef{.content = r.due.content, .id = r.due.id});
  }
  absl::StatusOr<std::vector<absl::StatusOr<queue::Recipient>>> read =
      co_await spool.ReadRecipientRecords(std::move(refs));
  if (!read.ok()) co_return std::vector<absl::Status>(recipients.size(), read.status());
  std::vector<absl::Status> errors(recipients.size());
  for (size_t i = 0; i < recipients.size(); ++i) {
    absl::StatusOr<queue::Recipient>& r = (*read)[i];
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
  }
  co_return errors;
}

}  // namespace salvo::delivery
