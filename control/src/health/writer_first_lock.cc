#include "health/writer_first_lock.h"

#include <cstdlib>

namespace hotswap::control {
namespace {

// A lock that cannot be taken or released is a bug: stop here.
void must(int rc) {
  if (rc != 0) std::abort();
}

}  // namespace

WriterFirstLock::WriterFirstLock() {
  pthread_rwlockattr_t attr;
  must(pthread_rwlockattr_init(&attr));
  // Not recursive for readers: the only kind glibc gives writers priority.
  must(pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
  must(pthread_rwlock_init(&lock_, &attr));
  pthread_rwlockattr_destroy(&attr);
}

WriterFirstLock::~WriterFirstLock() {
  pthread_rwlock_destroy(&lock_);
}

void WriterFirstLock::lock() {
  must(pthread_rwlock_wrlock(&lock_));
}
void WriterFirstLock::unlock() {
  must(pthread_rwlock_unlock(&lock_));
}
void WriterFirstLock::lock_shared() {
  must(pthread_rwlock_rdlock(&lock_));
}
void WriterFirstLock::unlock_shared() {
  must(pthread_rwlock_unlock(&lock_));
}

}  // namespace hotswap::control
