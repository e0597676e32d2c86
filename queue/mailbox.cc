// The bounce mailbox's API: metadata from the index, contents on the reader
// threads, changes as group-commit write requests (see mailbox.h).
#include "queue/mailbox.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "queue/mailbox_plans.h"
#include "queue/mailbox_state.h"

namespace salvo::queue {
namespace {

using mailbox::CopyResult;
using mailbox::FlagUpdate;
using mailbox::FolderEvent;

// One mailbox change in a group commit (see mailbox_index.h).
class MailboxRequest final : public WriteRequest {
 public:
  using Plan = absl::AnyInvocable<absl::Status(MailboxTxn&)>;
  MailboxRequest(Mailbox::State& state, bool needs_space, size_t size_hint, Plan plan,
                 StatusDone done)
      : state_(state),
        needs_space_(needs_space),
        size_hint_(size_hint),
        plan_(std::move(plan)),
        done_(std::move(done)) {}

  bool needs_space() const override { return needs_space_; }
  size_t size_hint() const override { return size_hint_; }

  absl::Status Prepare(BatchWriter& batch) override {
    std::lock_guard<std::mutex> lock(state_.mu);
    MailboxTxn txn(state_.index, state_.pending, state_.counters, batch);
    absl::Status s = plan_(txn);
    if (!s.ok()) {
      if (txn.changed()) spdlog::error("mailbox: a refused change left tentative state behind");
      return s;
    }
    changes_ = txn.TakeChanges();
    events_ = txn.TakeEvents();
    ++state_.pending.requests;
    return absl::OkStatus();
  }

  void Apply() override {
    std::lock_guard<std::mutex> lock(state_.mu);
    state_.index.Apply(changes_);
    Finish();
  }

  void Undo() override {
    std::lock_guard<std::mutex> lock(state_.mu);
    events_.clear();
    Finish();
  }

  void Complete(absl::Status status) override {
    if (status.ok()) state_.Dispatch(events_);
    done_(std::move(status));
  }

 private:
  void Finish() {  // mu held
    if (--state_.pending.requests == 0) state_.pending.Clear();
  }

  Mailbox::State& state_;
  bool needs_space_;
  size_t size_hint_;
  Plan plan_;
  StatusDone done_;
  std::vector<MailboxChange> changes_;
  std::vector<FolderEvent> events_;
};

// An op whose plan returns StatusOr<T>.
template <typename T, typename PlanFn>
AsyncOp<absl::StatusOr<T>> Submit(Mailbox::State* state, bool needs_space, size_t size_hint,
                                  PlanFn plan) {
  using Op = AsyncOp<absl::StatusOr<T>>;
  return Op(
      [state, needs_space, size_hint, plan = std::move(plan)](typename Op::Done done) mutable {
        auto result = std::make_shared<std::optional<T>>();
        state->core.committer->Submit(std::make_unique<MailboxRequest>(
            *state, needs_space, size_hint,
            [plan = std::move(plan), result](MailboxTxn& txn) mutable -> absl::Status {
              absl::StatusOr<T> r = plan(txn);
              if (!r.ok()) return r.status();
              result->emplace(std::move(*r));
              return absl::OkStatus();
            },
            [result, done = std::move(done)](absl::Status s) mutable {
              if (s.ok()) {
                done(std::move(**result));
              } else {
                done(std::move(s));
              }
            }));
      });
}

// An op whose plan returns a Status.
template <typename PlanFn>
AsyncOp<absl::Status> SubmitStatus(Mailbox::State* state, bool needs_space, PlanFn plan) {
  using Op = AsyncOp<absl::Status>;
  return Op([state, needs_space, plan = std::move(plan)](Op::Done done) mutable {
    state->core.committer->Submit(std::make_unique<MailboxRequest>(
        *state, needs_space, 256, std::move(plan), std::move(done)));
  });
}

}  // namespace

void Mailbox::State::Dispatch(const std::vector<FolderEvent>& events) {
  if (events.empty()) return;
  std::lock_guard<std::recursive_mutex> lock(watch_mu);
  std::vector<uint64_t> handles;
  for (const FolderEvent& event : events) {
    handles.clear();
    for (const auto& [handle, slot] : watchers) {
      if (slot.folder == event.folder) handles.push_back(handle);
    }
    for (uint64_t handle : handles) {
      auto it = watchers.find(handle);  // an earlier one may have unwatched it
      if (it == watchers.end()) continue;
      std::shared_ptr<Watcher> on_event = it->second.on_event;
      (*on_event)(event);
    }
  }
}

Mailbox::Mailbox(std::unique_ptr<State> state) : state_(std::move(state)) {}

Mailbox::~Mailbox() {
  if (state_->readers) state_->readers->Stop();
}

void Mailbox::set_max_message_bytes(uint64_t max) { state_->max_message_bytes = max; }

std::vector<mailbox::FolderInfo> Mailbox::ListFolders() const {
  std::vector<mailbox::FolderInfo> out;
  std::lock_guard<std::mutex> lock(state_->mu);
  for (const auto& [name, id] : state_->index.by_name()) {
    const FolderRecord& r = state_->index.folders().at(id).record;
    out.push_back({.name = name, .system = r.system, .subscribed = r.subscribed});
  }
  return out;
}

absl::StatusOr<mailbox::FolderStatus> Mailbox::Status(std::string_view folder) const {
  std::string name = NormalizeFolderName(folder);
  std::lock_guard<std::mutex> lock(state_->mu);
  const MailboxFolder* f = state_->index.FindFolder(name);
  if (f == nullptr) return NoFolderError(name);
  return f->Status();
}

absl::StatusOr<mailbox::FolderView> Mailbox::View(std::string_view folder, bool claim_recent) {
  std::string name = NormalizeFolderName(folder);
  std::lock_guard<std::mutex> lock(state_->mu);
  MailboxFolder* f = state_->index.FindFolder(name);
  if (f == nullptr) return NoFolderError(name);
  mailbox::FolderView view{.status = f->Status()};
  view.messages.reserve(f->entries.size());
  for (MailboxEntry& e : f->entries) {
    view.messages.push_back(e.ToMeta());
    if (claim_recent && e.recent) {
      view.messages.back().recent = true;
      e.recent = false;
    }
  }
  if (claim_recent) f->recent = 0;
  return view;
}

AsyncOp<absl::StatusOr<std::string>> Mailbox::Read(std::string folder, uint32_t uid) {
  using R = absl::StatusOr<std::string>;
  using Op = AsyncOp<R>;
  return Op([state = state_.get(), folder = NormalizeFolderName(folder),
             uid](Op::Done done) mutable {
    auto job = std::make_shared<Op::Done>(std::move(done));
    auto read = [state, folder = std::move(folder), uid]() -> R {
      uint64_t blob = 0;
      {
        std::lock_guard<std::mutex> lock(state->mu);
        const MailboxFolder* f = state->index.FindFolder(folder);
        if (f == nullptr) return NoFolderError(folder);
        const MailboxEntry* e = f->Find(uid);
        if (e == nullptr) {
          return absl::NotFoundError(fmt::format("no UID {} in \"{}\"", uid, folder));
        }
        blob = e->blob;
      }
      std::shared_lock<std::shared_mutex> lock(state->core.db_mu);
      if (state->core.db == nullptr) return absl::UnavailableError("spool is being reopened");
      std::string content;
      absl::Status s = state->core.db->Get(Cf::kMailbox, MailboxBlobKey(blob), &content);
      if (absl::IsNotFound(s)) {  // expunged meanwhile
        return absl::NotFoundError(fmt::format("UID {} in \"{}\" is gone", uid, folder));
      }
      if (!s.ok()) return s;
      return content;
    };
    bool posted = state->readers->Post([job, read = std::move(read)]() mutable { (*job)(read()); });
    if (!posted) (*job)(absl::UnavailableError("mailbox is shutting down"));
  });
}

AsyncOp<absl::Status> Mailbox::CreateFolder(std::string name) {
  name = NormalizeFolderName(name);
  return SubmitStatus(state_.get(), true, [name = std::move(name)](MailboxTxn& txn) {
    return PlanCreateFolder(txn, name, absl::Now());
  });
}

AsyncOp<absl::Status> Mailbox::DeleteFolder(std::string name) {
  name = NormalizeFolderName(name);
  return SubmitStatus(state_.get(), false, [name = std::move(name)](MailboxTxn& txn) {
    return PlanDeleteFolder(txn, name);
  });
}

AsyncOp<absl::Status> Mailbox::RenameFolder(std::string from, std::string to) {
  from = NormalizeFolderName(from);
  to = NormalizeFolderName(to);
  return SubmitStatus(state_.get(), false,
                      [from = std::move(from), to = std::move(to)](MailboxTxn& txn) {
                        return PlanRenameFolder(txn, from, to);
                      });
}

AsyncOp<absl::Status> Mailbox::SetSubscribed(std::string name, bool subscribed) {
  name = NormalizeFolderName(name);
  return SubmitStatus(state_.get(), false, [name = std::move(name), subscribed](MailboxTxn& txn) {
    return PlanSubscribe(txn, name, subscribed);
  });
}

AsyncOp<absl::StatusOr<std::vector<FlagUpdate>>> Mailbox::StoreFlags(std::string folder,
                                                                     std::vector<uint32_t> uids,
                                                                     mailbox::FlagOp op,
                                                                     uint8_t flags) {
  folder = NormalizeFolderName(folder);
  size_t hint = 128 + 64 * uids.size();
  return Submit<std::vector<FlagUpdate>>(
      state_.get(), false, hint,
      [folder = std::move(folder), uids = std::move(uids), op, flags](MailboxTxn& txn) mutable {
        return PlanStoreFlags(txn, folder, std::move(uids), op, flags);
      });
}

AsyncOp<absl::StatusOr<CopyResult>> Mailbox::Copy(std::string from, std::vector<uint32_t> uids,
                                                  std::string to) {
  from = NormalizeFolderName(from);
  to = NormalizeFolderName(to);
  size_t hint = 128 + 64 * uids.size();
  return Submit<CopyResult>(state_.get(), true, hint,
                            [from = std::move(from), uids = std::move(uids),
                             to = std::move(to)](MailboxTxn& txn) mutable {
                              return PlanCopy(txn, from, std::move(uids), to, /*move=*/false);
                            });
}

AsyncOp<absl::StatusOr<CopyResult>> Mailbox::Move(std::string from, std::vector<uint32_t> uids,
                                                  std::string to) {
  from = NormalizeFolderName(from);
  to = NormalizeFolderName(to);
  size_t hint = 128 + 96 * uids.size();
  return Submit<CopyResult>(state_.get(), false, hint,
                            [from = std::move(from), uids = std::move(uids),
                             to = std::move(to)](MailboxTxn& txn) mutable {
                              return PlanCopy(txn, from, std::move(uids), to, /*move=*/true);
                            });
}

AsyncOp<absl::StatusOr<std::vector<uint32_t>>> Mailbox::Expunge(
    std::string folder, std::optional<std::vector<uint32_t>> only_uids) {
  folder = NormalizeFolderName(folder);
  return Submit<std::vector<uint32_t>>(
      state_.get(), false, 256,
      [folder = std::move(folder), only = std::move(only_uids)](MailboxTxn& txn) {
        return PlanExpunge(txn, folder, only);
      });
}

AsyncOp<absl::StatusOr<uint32_t>> Mailbox::Append(std::string folder, std::string content,
                                                  uint8_t flags, absl::Time internal_date,
                                                  mailbox::MessageAttributes attributes) {
  using Op = AsyncOp<absl::StatusOr<uint32_t>>;
  uint64_t max = state_->max_message_bytes.load();
  if (content.size() > max) {
    return Op::Ready(absl::ResourceExhaustedError(fmt::format(
        "message of {} octets is over the mailbox's limit of {}", content.size(), max)));
  }
  std::vector<std::string> folders{NormalizeFolderName(folder)};
  size_t hint = content.size() + 256;
  return Submit<uint32_t>(
      state_.get(), true, hint,
      [folders = std::move(folders), content = std::move(content), flags, internal_date,
       attributes = std::move(attributes)](MailboxTxn& txn) -> absl::StatusOr<uint32_t> {
        NewMessage m{.content = content,
                     .flags = flags,
                     .internal_date = internal_date,
                     .attributes = &attributes};
        auto uids = PlanAppend(txn, folders, m);
        if (!uids.ok()) return uids.status();
        return uids->front();
      });
}

AsyncOp<absl::StatusOr<DeliveredUids>> Mailbox::Deliver(std::string content, absl::Time when,
                                                        mailbox::MessageAttributes attrs,
                                                        std::string category_folder) {
  using Op = AsyncOp<absl::StatusOr<DeliveredUids>>;
  uint64_t max = state_->max_message_bytes.load();
  if (content.size() > max) {
    return Op::Ready(absl::ResourceExhaustedError(fmt::format(
        "message of {} octets is over the mailbox's limit of {}", content.size(), max)));
  }
  std::vector<std::string> folders{"INBOX"};
  std::string category = NormalizeFolderName(category_folder);
  if (!category.empty() && category != "INBOX") folders.push_back(std::move(category));
  size_t hint = content.size() + 512;
  return Submit<DeliveredUids>(
      state_.get(), true, hint,
      [folders = std::move(folders), content = std::move(content), when,
       attrs = std::move(attrs)](MailboxTxn& txn) -> absl::StatusOr<DeliveredUids> {
        NewMessage m{.content = content, .internal_date = when, .attributes = &attrs};
        auto uids = PlanAppend(txn, folders, m);
        if (!uids.ok()) return uids.status();
        return DeliveredUids{.inbox_uid = (*uids)[0],
                             .folder_uid = uids->size() > 1 ? (*uids)[1] : 0};
      });
}

uint64_t Mailbox::Watch(std::string folder, Watcher on_event) {
  std::lock_guard<std::recursive_mutex> lock(state_->watch_mu);
  uint64_t handle = state_->next_watch++;
  state_->watchers[handle] = {NormalizeFolderName(folder),
                              std::make_shared<Watcher>(std::move(on_event))};
  return handle;
}

void Mailbox::Unwatch(uint64_t handle) {
  std::shared_ptr<Watcher> last;  // destroyed after the lock is released
  std::lock_guard<std::recursive_mutex> lock(state_->watch_mu);
  auto it = state_->watchers.find(handle);
  if (it == state_->watchers.end()) return;
  last = std::move(it->second.on_event);
  state_->watchers.erase(it);
}

MailboxStats Mailbox::stats() const {
  MailboxStats s;
  std::lock_guard<std::mutex> lock(state_->mu);
  s.folders = state_->index.folders().size();
  for (const auto& [id, f] : state_->index.folders()) {
    s.messages += f.entries.size();
    s.bytes += f.bytes;
  }
  s.blobs = state_->index.blobs();
  return s;
}

MailboxAudit Mailbox::Audit() {
  using Op = AsyncOp<MailboxAudit>;
  State* state = state_.get();
  return Op([state](Op::Done done) mutable {
           auto job = std::make_shared<Op::Done>(std::move(done));
           bool posted = state->readers->Post([state, job] {
             std::shared_lock<std::shared_mutex> lock(state->core.db_mu);
             if (state->core.db == nullptr) {
               (*job)(MailboxAudit{.problems = {"spool database is being reopened"}});
               return;
             }
             (*job)(AuditMailbox(*state->core.db, *state));
           });
           if (!posted) (*job)(MailboxAudit{.problems = {"mailbox is shutting down"}});
         })
      .Wait();
}

}  // namespace salvo::queue
