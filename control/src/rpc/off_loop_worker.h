// Runs the RPC loop's blocking work (store commits, whose sync may stall
// for milliseconds on a busy disk) on a thread of its own, so that the
// loop goes on sending pushes and reading answers meanwhile.
#ifndef HOTSWAP_CONTROL_RPC_OFF_LOOP_WORKER_H_
#define HOTSWAP_CONTROL_RPC_OFF_LOOP_WORKER_H_

#include <kj/async.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace hotswap::control {

class OffLoopWorker {
 public:
  // Starts the thread.
  OffLoopWorker();
  // Runs every job still queued, then joins the thread.
  ~OffLoopWorker();
  OffLoopWorker(const OffLoopWorker&) = delete;
  OffLoopWorker& operator=(const OffLoopWorker&) = delete;

  // KJ loop thread only. Queues `job`; jobs run one at a time, in the order
  // queued. The promise resolves on the calling loop once `job` returned,
  // or is rejected with what it threw.
  kj::Promise<void> run(std::function<void()> job);

  // Runs every job queued so far and ends the thread; run() may not be
  // called after. Idempotent.
  void stop();

 private:
  struct Job {
    std::function<void()> work;
    kj::Own<kj::CrossThreadPromiseFulfiller<void>> done;
  };
  void serve();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;   // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_RPC_OFF_LOOP_WORKER_H_
