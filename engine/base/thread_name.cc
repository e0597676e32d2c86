#include "engine/base/thread_name.h"

#include <pthread.h>

#include <algorithm>

namespace salvo {

void NameCurrentThread(std::string_view name) {
  char buf[16];
  size_t n = std::min(name.size(), sizeof(buf) - 1);
  name.copy(buf, n);
  buf[n] = '\0';
  pthread_setname_np(pthread_self(), buf);
}

}  // namespace salvo
