#include "sim_fleet.h"

#include <stdexcept>

namespace hotswap::fleetsim {

// One thread and how to stop it from another.
struct SimFleet::Loop {
  std::thread thread;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop;
};

SimFleet::SimFleet(const SimOptions& options, const std::vector<std::string>& controls,
                   const std::string& node_prefix, int count, int threads, ApplyLog& log)
    : options_(options), controls_(controls), log_(log) {
  if (controls_.empty()) throw std::runtime_error("no control address");
  threads = std::max(1, std::min(threads, count));
  std::vector<std::vector<Member>> members(static_cast<size_t>(threads));
  for (int i = 0; i < count; ++i) {
    members[static_cast<size_t>(i % threads)].push_back(
        {node_prefix + std::to_string(i), static_cast<size_t>(i) % controls_.size()});
  }
  std::vector<std::future<void>> started;
  for (auto& m : members) {
    auto loop = std::make_unique<Loop>();
    auto ready = std::make_shared<std::promise<void>>();
    started.push_back(ready->get_future());
    loop->thread = std::thread([this, l = loop.get(), m = std::move(m), ready] {
      try {
        run(*l, m, *ready);
      } catch (...) {
        try {
          ready->set_exception(std::current_exception());
        } catch (const std::future_error&) {  // it had started: nothing waits
        }
      }
    });
    loops_.push_back(std::move(loop));
  }
  // Every thread is heard from before any is stopped: each sets its stop
  // handle before it says it started.
  std::exception_ptr failed;
  for (auto& s : started) {
    try {
      s.get();
    } catch (...) {
      if (!failed) failed = std::current_exception();
    }
  }
  if (failed) {
    stop_all();
    std::rethrow_exception(failed);
  }
}

SimFleet::~SimFleet() {
  stop_all();
}

void SimFleet::stop_all() {
  for (auto& loop : loops_) {
    if (loop->stop) loop->stop->fulfill();
  }
  for (auto& loop : loops_) {
    if (loop->thread.joinable()) loop->thread.join();
  }
}

void SimFleet::run(Loop& loop, const std::vector<Member>& members, std::promise<void>& ready) {
  auto io = kj::setupAsyncIo();
  std::vector<kj::Own<kj::NetworkAddress>> addresses;
  for (const std::string& c : controls_) {
    addresses.push_back(io.provider->getNetwork().parseAddress(c, 7701).wait(io.waitScope));
  }
  SimLoop shared{io.provider->getTimer(), options_, log_, attached_};
  auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
  loop.stop = kj::mv(stop.fulfiller);
  ready.set_value();

  std::vector<std::unique_ptr<SimSidecar>> sims;
  kj::Vector<kj::Promise<void>> running;
  for (const Member& m : members) {
    sims.push_back(std::make_unique<SimSidecar>(shared, m.node_id, *addresses[m.control]));
    running.add(sims.back()->run());
  }
  // Sims never end on their own: this returns when the fleet stops.
  kj::joinPromises(running.releaseAsArray()).exclusiveJoin(kj::mv(stop.promise)).wait(io.waitScope);
}

}  // namespace hotswap::fleetsim
