// POST /v1/campaigns/{id}/recipients (Content-Type: text/csv): adds the
// recipients of an open campaign from a CSV upload of any size.
//
//   address,first_name,plan
//   ann@example.com,Ann,gold
//
// The header row names the columns: "address" (required, any position) and
// the variables (names of A-Z a-z 0-9 _ . -). `?close=true` closes the
// campaign after the upload.
//
// Stage then commit: the body is parsed as it streams in (CsvReader), each
// row is validated, and valid rows are staged in a temporary file
// (RecipientStaging). Only when the whole body has been read without a
// single bad row are the staged rows read back and added to the spool in
// batches of kRecipientBatch; any bad row answers 400 "invalid_recipients"
// (row number, line, field, reason; the first 50 listed, all counted) and
// nothing reaches the spool. Memory per upload: one receive buffer, one CSV
// row (<= 64 KiB), the 1 MiB staging buffer, and one batch of at most 10,000
// rows / 8 MiB at commit — independent of the row count. Disk: about the
// upload's size, in the staging directory, until the request ends.
//
// A spool failure part-way through the commit (disk full) answers 507/503
// with {"campaign", "recipients_added"}: the batches before it are durable.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

inline constexpr uint64_t kCsvBodyLimit = uint64_t{4} << 30;

HttpHandler CampaignRecipientsV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
