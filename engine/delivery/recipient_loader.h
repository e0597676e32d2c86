// LoadRecipients: reads the stored records (address, variables, DSN
// parameters) of leased recipients from the spool in one job on the spool's
// reader thread (one batched RocksDB read), and resumes the caller on its
// ring once for the whole group. With a read-ahead budget, the same job also
// reads the contents of the single messages among them, so that sending
// them needs no further spool read (LeasedRecipient::content).
//
// A recipient whose record cannot be read keeps loaded == false and its
// error in `errors`; one whose address is on the suppression list now gets
// FailedPrecondition("suppressed: <reason> (<source>)").
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "engine/delivery/lease.h"
#include "engine/delivery/read_ahead_budget.h"
#include "engine/loop/task.h"
#include "queue/spool.h"

namespace salvo::delivery {

// A content larger than this is read when it is sent; so is everything past
// kMaxReadAheadPerLoad in one load.
inline constexpr size_t kMaxReadAheadContent = size_t{128} << 10;
inline constexpr size_t kMaxReadAheadPerLoad = size_t{8} << 20;

// errors[i] is OK when recipients[i] was loaded. `read_ahead` may be null
// (no contents read ahead).
Task<std::vector<absl::Status>> LoadRecipients(queue::Spool& spool,
                                               std::vector<LeasedRecipient>& recipients,
                                               ReadAheadBudget* read_ahead = nullptr);

}  // namespace salvo::delivery
