// The RocksDB border of the spool (internal: never included by a public
// header). Opens the database with its column families and options, and
// turns rocksdb::Status into absl::Status:
//   IOError(NoSpace)              -> ResourceExhausted  (SMTP 452, HTTP 507)
//   IOError, Busy, TryAgain, ...  -> Unavailable        (SMTP 451, HTTP 503)
//   Corruption                    -> DataLoss
//   NotFound                      -> NotFound
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "queue/group_commit.h"
#include "queue/keys.h"
#include "queue/spool_options.h"

namespace salvo::queue {

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);

inline rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
inline std::string_view ToView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

class RocksDb : public PointReader {
 public:
  static absl::StatusOr<std::unique_ptr<RocksDb>> Open(const SpoolOptions& options);
  ~RocksDb();

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf c) { return cfs_[static_cast<size_t>(c)]; }

  // One write of the group commit, synced unless SpoolOptions::sync_wal is
  // off.
  absl::Status WriteSynced(rocksdb::WriteBatch* batch) { return Write(batch, /*sync=*/true); }
  // sync == false: into the log without an fsync (SyncLog() later).
  absl::Status Write(rocksdb::WriteBatch* batch, bool sync);
  // Fsyncs the log (every write made so far); nothing when sync_wal is off.
  absl::Status SyncLog();
  absl::Status Get(Cf cf, std::string_view key, std::string* value) override;
  // Point reads of many keys of one column family in one batched call;
  // result[i] is Get's status for keys[i], values[i] its value when OK.
  std::vector<absl::Status> MultiGet(Cf cf, const std::vector<std::string>& keys,
                                     rocksdb::PinnableSlice* values);
  std::unique_ptr<rocksdb::Iterator> Scan(Cf cf, bool fill_cache);
  // Flushes every memtable (so the spool's size on disk can be measured).
  absl::Status Flush();
  // Disk space RocksDB may still take beyond what statvfs already counts:
  // the memtables' flush output (their data is in the WAL until the flush
  // ends), the preallocation of the next two WAL files and of a new MANIFEST.
  // Accepts keep this much free on top of SpoolOptions::min_free_bytes, so
  // that a flush right after the last accept does not hit ENOSPC.
  uint64_t PendingSpace();

 private:
  RocksDb() = default;
  std::unique_ptr<rocksdb::DB> db_;
  bool sync_wal_ = true;        // SpoolOptions::sync_wal
  uint64_t preallocation_ = 0;  // two WAL blocks and a MANIFEST's
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
};

class RocksBatch final : public BatchWriter {
 public:
  RocksBatch(RocksDb* db) : db_(db) {}
  void Put(Cf cf, std::string_view key, std::string_view value) override {
    batch_.Put(db_->cf(cf), ToSlice(key), ToSlice(value));
  }
  void Delete(Cf cf, std::string_view key) override { batch_.Delete(db_->cf(cf), ToSlice(key)); }
  void SingleDelete(Cf cf, std::string_view key) override {
    batch_.SingleDelete(db_->cf(cf), ToSlice(key));
  }
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end) override {
    batch_.DeleteRange(db_->cf(cf), ToSlice(begin), ToSlice(end));
  }
  rocksdb::WriteBatch* raw() { return &batch_; }

 private:
  RocksDb* db_;
  rocksdb::WriteBatch batch_;
};

}  // namespace salvo::queue
