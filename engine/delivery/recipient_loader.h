// LoadRecipients: reads the stored records (address, variables, DSN
// parameters) of leased recipients from the spool in one job on the spool's
// reader thread (one batched RocksDB read), and resumes the caller on its
// ring once for the whole group. A recipient whose record cannot be read keeps loaded ==
// false and its error in `errors`; one whose address is on the suppression
// list now gets FailedPrecondition("suppressed: <reason> (<source>)").
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "engine/delivery/lease.h"
#include "engine/loop/task.h"
#include "queue/spool.h"

namespace salvo::delivery {

// errors[i] is OK when recipients[i] was loaded.
Task<std::vector<absl::Status>> LoadRecipients(queue::Spool& spool,
                                               std::vector<LeasedRecipient>& recipients);

}  // namespace salvo::delivery
