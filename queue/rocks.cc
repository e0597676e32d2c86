#include "queue/rocks.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_buffer_manager.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/base/strings.h"
#include "engine/loop/ring.h"
#include "queue/codec.h"
#include "queue/deletion_collector.h"
#include "queue/wire.h"

namespace salvo::queue {

const char* CfName(Cf cf) {
  static constexpr const char* kNames[kCfCount] = {
      "default",   "content_meta",    "contents",     "recipients",
      "schedule",  "events",          "suppressions", "mailbox",
      "campaigns", "campaign_events", "attributions", "soft_bounces"};
  return kNames[static_cast<size_t>(cf)];
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = fmt::format("spool {}: {}", what, s.ToString());
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(fmt::format("spool disk full: {}", msg));
  }
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNotSupported()) return absl::UnimplementedError(msg);
  if (s.IsAborted()) return absl::AbortedError(msg);
  // IOError, Busy, TimedOut, TryAgain, Incomplete, ShutdownInProgress: the
  // caller may retry later.
  return absl::UnavailableError(msg);
}

namespace {

// No RocksDB call may block a ring thread (spool.h): reads and writes run on
// the spool's own threads. Debug builds (and so the ASan test suite) check it
// at every call.
void CheckNotOnRing([[maybe_unused]] const char* what) {
#ifndef NDEBUG
  if (Ring::Current() != nullptr) {
    spdlog::critical("spool: RocksDB {} called on a ring thread", what);
    std::abort();
  }
#endif
}

// RocksDB's own log goes to spdlog rather than to a LOG file in the spool
// directory: on a full disk a failed LOG append would otherwise stop (and in
// Debian's build of RocksDB 7.8, abort) the process.
class SpdLogger final : public rocksdb::Logger {
 public:
  SpdLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    int n = vsnprintf(buf, sizeof(buf), format, ap);
    if (n > 0 && static_cast<size_t>(n) < sizeof(buf) && buf[n - 1] == '\n') buf[n - 1] = 0;
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      spdlog::error("rocksdb: {}", buf);
    } else if (level >= rocksdb::InfoLogLevel::WARN_LEVEL) {
      spdlog::warn("rocksdb: {}", buf);
    } else {
      spdlog::info("rocksdb: {}", buf);
    }
  }
};

constexpr size_t kWriteBufferSize = 32 << 20;

rocksdb::ColumnFamilyOptions CfOptions(Cf cf, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = kWriteBufferSize;
  o.max_write_buffer_number = 4;
  o.level_compaction_dynamic_level_bytes = true;
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kLZ4Compression;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.format_version = 5;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  // Spool records are deleted as fast as they are written: compact a file
  // early when a window of its keys is mostly tombstones.
  switch (cf) {
    case Cf::kRecipients:
      // Recipients go with SingleDelete, which RocksDB's collector does not
      // count (deletion_collector.h).
      o.table_properties_collector_factories.push_back(
          NewDeletionCompactionCollectorFactory(16384, 8192, 0.5));
      break;
    case Cf::kSchedule:
    case Cf::kContents:
    case Cf::kContentMeta:
      o.table_properties_collector_factories.push_back(
          rocksdb::NewCompactOnDeletionCollectorFactory(16384, 8192, 0.5));
      break;
    default:
      break;
  }
  if (cf == Cf::kContents) {
    // Bodies (10 KB messages, templates) go to blob files: compactions move
    // small pointers instead of rewriting bodies.
    o.enable_blob_files = true;
    o.min_blob_size = 2048;
    o.blob_compression_type = rocksdb::kLZ4Compression;
    o.enable_blob_garbage_collection = true;
    o.blob_garbage_collection_age_cutoff = 0.5;
  }
  return o;
}

rocksdb::DBOptions MakeDbOptions(const SpoolOptions& options,
                                 const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  o.max_total_wal_size = 4 * options.memtable_bytes;
  o.keep_log_file_num = 4;
  o.max_manifest_file_size = 64 << 20;
  o.info_log = std::make_shared<SpdLogger>();
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // The memtables of all column families together stay under this (charged to
  // the block cache, so the spool's RocksDB memory has one bound).
  o.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memtable_bytes, cache);
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDb>> RocksDb::Open(const SpoolOptions& options) {
  CheckNotOnRing("open");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);  // RocksDB would log its absence
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes + options.memtable_bytes);
  rocksdb::DBOptions db_options = MakeDbOptions(options, cache);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (size_t i = 0; i < kCfCount; ++i) {
    Cf cf = static_cast<Cf>(i);
    cfs.emplace_back(CfName(cf), CfOptions(cf, cache));
  }
  std::unique_ptr<RocksDb> r(new RocksDb);
  r->sync_wal_ = options.sync_wal;
  // RocksDB preallocates each WAL file in blocks of the smallest of 1.1 x
  // write_buffer_size, max_total_wal_size and the write buffer manager's
  // budget (DBImpl::GetWalPreallocateBlockSize); a file being written and the
  // next one can both hold a block.
  uint64_t wal_block = std::min<uint64_t>(
      {kWriteBufferSize / 10 * 11, db_options.max_total_wal_size, options.memtable_bytes});
  r->preallocation_ = 2 * wal_block + db_options.manifest_preallocation_size;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, cfs, &handles, &raw);
  if (!s.ok()) return FromRocks(s, fmt::format("open {}", options.path));
  r->db_.reset(raw);
  r->cfs_ = std::move(handles);
  return r;
}

RocksDb::~RocksDb() {
  if (!db_) return;
  for (auto* h : cfs_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::Status RocksDb::Write(rocksdb::WriteBatch* batch, bool sync) {
  CheckNotOnRing("write");
  rocksdb::WriteOptions wo;
  wo.sync = sync && sync_wal_;
  // The writer thread is allowed to wait through a write stall: the stall
  // then reaches callers as latency, and as Unavailable once the committer's
  // queue is full. A ring thread never gets here.
  wo.no_slowdown = false;
  return FromRocks(db_->Write(wo, batch), "write");
}

absl::Status RocksDb::Get(Cf cf, std::string_view key, std::string* value) {
  CheckNotOnRing("get");
  rocksdb::PinnableSlice v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), this->cf(cf), ToSlice(key), &v);
  if (!s.ok()) return FromRocks(s, fmt::format("read {}", CfName(cf)));
  value->assign(v.data(), v.size());
  return absl::OkStatus();
}

absl::Status RocksDb::SyncLog() {
  CheckNotOnRing("sync");
  if (!sync_wal_) return absl::OkStatus();
  return FromRocks(db_->SyncWAL(), "sync log");
}

std::vector<absl::Status> RocksDb::MultiGet(Cf cf, const std::vector<std::string>& keys,
                                            rocksdb::PinnableSlice* values) {
  CheckNotOnRing("multiget");
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& k : keys) slices.push_back(ToSlice(k));
  std::vector<rocksdb::Status> found(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), this->cf(cf), keys.size(), slices.data(), values,
                found.data());
  std::vector<absl::Status> out;
  out.reserve(keys.size());
  for (const rocksdb::Status& s : found) {
    out.push_back(s.ok() ? absl::OkStatus() : FromRocks(s, fmt::format("read {}", CfName(cf))));
  }
  return out;
}

std::unique_ptr<rocksdb::Iterator> RocksDb::Scan(Cf cf, bool fill_cache) {
  CheckNotOnRing("scan");
  rocksdb::ReadOptions ro;
  ro.fill_cache = fill_cache;
  ro.readahead_size = 2 << 20;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, this->cf(cf)));
}

absl::Status RocksDb::Flush() {
  CheckNotOnRing("flush");
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> all(cfs_.begin(), cfs_.end());
  return FromRocks(db_->Flush(fo, all), "flush");
}

uint64_t RocksDb::PendingSpace() {
  uint64_t unflushed = 0;  // active and immutable memtables, all column families
  db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &unflushed);
  return unflushed + preallocation_;
}

}  // namespace salvo::queue
