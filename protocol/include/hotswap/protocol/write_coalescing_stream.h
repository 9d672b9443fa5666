// A stream whose writes within one turn of the event loop go out as one
// write: each is queued and resolves at once, and the queue is flushed
// when the loop has nothing else to run (kj::evalLast). Cap'n Proto writes
// each message by itself; with this, a call and the Finish of the call
// before it, or a burst of messages to one peer, cost one system call.
// Reads and everything else pass straight through.
#ifndef HOTSWAP_PROTOCOL_WRITE_COALESCING_STREAM_H_
#define HOTSWAP_PROTOCOL_WRITE_COALESCING_STREAM_H_

#include <kj/async-io.h>
#include <kj/vector.h>

#include <cstddef>
#include <vector>

namespace hotswap::protocol {

class WriteCoalescingStream final : public kj::AsyncIoStream, private kj::TaskSet::ErrorHandler {
 public:
  // A write that finds more than `max_queued` bytes queued resolves only
  // once they have gone out, so a peer that does not read holds back its
  // writer rather than growing the queue.
  explicit WriteCoalescingStream(kj::Own<kj::AsyncIoStream> inner,
                                 size_t max_queued = size_t{1} << 20);

  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override;
  kj::Promise<void> whenWriteDisconnected() override;
  // After what is queued has gone out.
  void shutdownWrite() override;
  void abortRead() override;
  void getsockopt(int level, int option, void* value, kj::uint* length) override;
  void setsockopt(int level, int option, const void* value, kj::uint length) override;
  void getsockname(struct sockaddr* addr, kj::uint* length) override;
  void getpeername(struct sockaddr* addr, kj::uint* length) override;
  kj::Maybe<int> getFd() const override;

  // Bytes queued and not yet handed to the stream below.
  size_t queued() const { return queued_.size(); }

 private:
  kj::Promise<void> queue(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces);
  // Writes what is queued, then what was queued meanwhile, until empty.
  kj::Promise<void> flush();
  // The queue is empty: wakes the writers held back, shuts down if asked.
  void drained();
  // A write below failed: every later write fails with it, and the read
  // side ends, so that the connection's reader sees the failure too.
  void taskFailed(kj::Exception&& exception) override;

  kj::Own<kj::AsyncIoStream> inner_;
  const size_t max_queued_;
  std::vector<kj::byte> queued_;
  bool flushing_ = false;
  bool shutdown_asked_ = false;
  kj::Maybe<kj::Exception> failed_;
  kj::Vector<kj::Own<kj::PromiseFulfiller<void>>> held_back_;
  // Last: its flush refers to the members above.
  kj::TaskSet tasks_;
};

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_WRITE_COALESCING_STREAM_H_
