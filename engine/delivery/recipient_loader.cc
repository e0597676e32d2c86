#include "engine/delivery/recipient_loader.h"

#include <atomic>
#include <coroutine>
#include <memory>

#include "engine/loop/ring.h"
#include "fmt/format.h"

namespace salvo::delivery {
namespace {

struct LoadState {
  std::vector<absl::StatusOr<queue::Recipient>> results;
  std::atomic<size_t> remaining{0};
  Ring* ring = nullptr;
  std::coroutine_handle<> waiter;
};

struct LoadAwaiter {
  queue::Spool& spool;
  std::vector<LeasedRecipient>& recipients;
  std::shared_ptr<LoadState> state;

  bool await_ready() const noexcept { return recipients.empty(); }
  void await_suspend(std::coroutine_handle<> h) {
    state->ring = Ring::Current();
    state->waiter = h;
    state->results.assign(recipients.size(), absl::UnknownError("not read"));
    state->remaining.store(recipients.size());
    for (size_t i = 0; i < recipients.size(); ++i) {
      const queue::DueRecipient& due = recipients[i].due;
      spool.ReadRecipient(due.content, due.id)
          .Then([s = state, i](absl::StatusOr<queue::Recipient> r) {
            s->results[i] = std::move(r);
            if (s->remaining.fetch_sub(1) == 1) s->ring->Post([s] { s->waiter.resume(); });
          });
    }
  }
  void await_resume() const noexcept {}
};

}  // namespace

Task<std::vector<absl::Status>> LoadRecipients(queue::Spool& spool,
                                               std::vector<LeasedRecipient>& recipients) {
  auto state = std::make_shared<LoadState>();
  // Named first: g++ 12 mishandles braced temporaries inside co_await.
  LoadAwaiter load{spool, recipients, state};
  co_await load;
  std::vector<absl::Status> errors(recipients.size());
  for (size_t i = 0; i < recipients.size(); ++i) {
    auto& r = state->results[i];
    if (!r.ok()) {
      errors[i] = r.status();
      continue;
    }
    if (r->suppressed) {
      errors[i] = absl::FailedPreconditionError(fmt::format("suppressed: {}", r->suppression));
      recipients[i].address = std::move(r->address);
      continue;
    }
    recipients[i].address = std::move(r->address);
    recipients[i].variables = std::move(r->variables);
    recipients[i].dsn = std::move(r->dsn);
    recipients[i].loaded = true;
  }
  co_return errors;
}

}  // namespace salvo::delivery
