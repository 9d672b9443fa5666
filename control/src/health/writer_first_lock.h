// A reader-writer lock that lets a waiting writer in before new readers.
// glibc's default (and so std::shared_mutex) lets readers in while any
// reader holds the lock: REST handlers and the rollout engine reading in
// turn kept the RPC thread from adding reports for as long as they kept
// coming. Meets the SharedMutex requirements (std::shared_lock,
// std::unique_lock).
#ifndef HOTSWAP_CONTROL_HEALTH_WRITER_FIRST_LOCK_H_
#define HOTSWAP_CONTROL_HEALTH_WRITER_FIRST_LOCK_H_

#include <pthread.h>

namespace hotswap::control {

class WriterFirstLock {
 public:
  WriterFirstLock();
  ~WriterFirstLock();
  WriterFirstLock(const WriterFirstLock&) = delete;
  WriterFirstLock& operator=(const WriterFirstLock&) = delete;

  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

 private:
  pthread_rwlock_t lock_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_WRITER_FIRST_LOCK_H_
