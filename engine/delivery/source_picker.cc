#include "engine/delivery/source_picker.h"

namespace salvo::delivery {

SourcePicker::SourcePicker(const SourcePool* pool, const std::string& default_ehlo) {
  if (pool != nullptr) {
    for (const SourceAddress& s : pool->sources) {
      sources_.push_back(Source{.address = s.address,
                                .ehlo = s.ehlo.empty() ? default_ehlo : s.ehlo,
                                .weight = std::max(1, s.weight),
                                .index = static_cast<int>(sources_.size())});
    }
  }
  if (sources_.empty()) sources_.push_back(Source{.ehlo = default_ehlo});
  current_.assign(sources_.size(), 0);
  for (const Source& s : sources_) total_ += s.weight;
}

int SourcePicker::Next() {
  if (sources_.size() == 1) return 0;
  int best = 0;
  for (size_t i = 0; i < sources_.size(); ++i) {
    current_[i] += sources_[i].weight;
    if (current_[i] > current_[best]) best = static_cast<int>(i);
  }
  current_[best] -= total_;
  return best;
}

}  // namespace salvo::delivery
