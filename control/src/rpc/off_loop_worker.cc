#include "rpc/off_loop_worker.h"

#include <kj/debug.h>

#include <exception>
#include <utility>

namespace hotswap::control {

OffLoopWorker::OffLoopWorker() : thread_([this] { serve(); }) {}

OffLoopWorker::~OffLoopWorker() {
  stop();
}

kj::Promise<void> OffLoopWorker::run(std::function<void()> job) {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
  {
    std::lock_guard lock(mu_);
    KJ_REQUIRE(!stopping_, "OffLoopWorker::run after stop()");
    jobs_.push_back({std::move(job), kj::mv(paf.fulfiller)});
  }
  wake_.notify_one();
  return kj::mv(paf.promise);
}

void OffLoopWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void OffLoopWorker::serve() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job.work();
      job.done->fulfill();
    } catch (const std::exception& e) {
      job.done->reject(KJ_EXCEPTION(FAILED, "off-loop job failed", e.what()));
    } catch (...) {
      job.done->reject(KJ_EXCEPTION(FAILED, "off-loop job failed"));
    }
  }
}

}  // namespace hotswap::control
