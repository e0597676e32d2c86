#include "queue/deletion_collector.h"

#include <algorithm>
#include <array>
#include <string>

namespace salvo::queue {
namespace {

class DeletionCompactionCollector final : public rocksdb::TablePropertiesCollector {
 public:
  DeletionCompactionCollector(size_t window, size_t trigger, double ratio)
      : bucket_size_(std::max<size_t>(1, (window + kBuckets - 1) / kBuckets)),
        trigger_(trigger),
        ratio_(ratio) {}

  rocksdb::Status AddUserKey(const rocksdb::Slice&, const rocksdb::Slice&, rocksdb::EntryType type,
                             rocksdb::SequenceNumber, uint64_t) override {
    bool deletion = type == rocksdb::kEntryDelete || type == rocksdb::kEntrySingleDelete;
    ++entries_;
    deletions_ += deletion;
    if (need_compaction_) return rocksdb::Status::OK();
    if (keys_in_bucket_ == bucket_size_) {  // slide the window by one bucket
      current_ = (current_ + 1) % kBuckets;
      in_window_ -= buckets_[current_];
      buckets_[current_] = 0;
      keys_in_bucket_ = 0;
    }
    ++keys_in_bucket_;
    if (deletion) {
      ++buckets_[current_];
      if (++in_window_ >= trigger_) need_compaction_ = true;
    }
    return rocksdb::Status::OK();
  }

  rocksdb::Status Finish(rocksdb::UserCollectedProperties*) override {
    if (!need_compaction_ && ratio_ > 0 && entries_ > 0) {
      need_compaction_ = static_cast<double>(deletions_) / entries_ >= ratio_;
    }
    return rocksdb::Status::OK();
  }
  rocksdb::UserCollectedProperties GetReadableProperties() const override { return {}; }
  const char* Name() const override { return "SalvoDeletionCompactionCollector"; }
  bool NeedCompact() const override { return need_compaction_; }

 private:
  static constexpr size_t kBuckets = 128;
  const size_t bucket_size_;
  const size_t trigger_;
  const double ratio_;
  std::array<size_t, kBuckets> buckets_{};
  size_t current_ = 0;
  size_t keys_in_bucket_ = 0;
  size_t in_window_ = 0;
  uint64_t entries_ = 0;
  uint64_t deletions_ = 0;
  bool need_compaction_ = false;
};

class Factory final : public rocksdb::TablePropertiesCollectorFactory {
 public:
  Factory(size_t window, size_t trigger, double ratio)
      : window_(window), trigger_(trigger), ratio_(ratio) {}
  rocksdb::TablePropertiesCollector* CreateTablePropertiesCollector(
      rocksdb::TablePropertiesCollectorFactory::Context) override {
    return new DeletionCompactionCollector(window_, trigger_, ratio_);
  }
  const char* Name() const override { return "SalvoDeletionCompactionCollector"; }

 private:
  const size_t window_, trigger_;
  const double ratio_;
};

}  // namespace

std::shared_ptr<rocksdb::TablePropertiesCollectorFactory> NewDeletionCompactionCollectorFactory(
    size_t window, size_t trigger, double ratio) {
  return std::make_shared<Factory>(window, trigger, ratio);
}

}  // namespace salvo::queue
