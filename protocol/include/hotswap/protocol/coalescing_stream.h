// A stream that spends fewer system calls on Cap'n Proto's traffic.
// Writes within one turn of the event loop go out as one write: each is
// queued and resolves at once, and the queue is flushed when the loop has
// nothing else to run (kj::evalLast). Cap'n Proto writes each message by
// itself; with this, a call and the Finish of the call before it, or a
// burst of messages to one peer, cost one system call.
// Reads take what the socket holds, up to a small buffer: Cap'n Proto
// reads a message's first word, then the rest, each by itself, so a push
// and the messages around it cost one read rather than two or more each.
// Everything else passes straight through.
#ifndef HOTSWAP_PROTOCOL_COALESCING_STREAM_H_
#define HOTSWAP_PROTOCOL_COALESCING_STREAM_H_

#include <kj/async-io.h>
#include <kj/vector.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace hotswap::protocol {

class CoalescingStream final : public kj::AsyncIoStream, private kj::TaskSet::ErrorHandler {
 public:
  // A write that finds more than `max_queued` bytes queued resolves only
  // once they have gone out, so a peer that does not read holds back its
  // writer rather than growing the queue.
  // Reads go through a buffer of `read_buffer` bytes, held only while it
  // holds bytes not yet read (a control has thousands of connections); a
  // read asking for at least that much goes straight to the stream below.
  explicit CoalescingStream(kj::Own<kj::AsyncIoStream> inner, size_t max_queued = size_t{1} << 20,
                            size_t read_buffer = size_t{16} << 10);

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
  // Bytes read from the stream below and not yet by the reader.
  size_t buffered() const { return read_end_ - read_begin_; }

 private:
  kj::Promise<void> queue(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces);
  // Writes what is queued, then what was queued meanwhile, until empty.
  kj::Promise<void> flush();
  // The queue is empty: wakes the writers held back, shuts down if asked.
  void drained();
  // A write below failed: every later write fails with it, and the read
  // side ends, so that the connection's reader sees the failure too.
  void taskFailed(kj::Exception&& exception) override;

  // Moves up to `max` buffered bytes to `out`; frees the buffer once empty
  // and sets both offsets to 0, so that no buffer means offsets 0.
  size_t take_buffered(kj::byte* out, size_t max);

  kj::Own<kj::AsyncIoStream> inner_;
  const size_t max_queued_;
  const size_t read_buffer_size_;
  std::unique_ptr<kj::byte[]> read_buffer_;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  std::vector<kj::byte> queued_;
  bool flushing_ = false;
  bool shutdown_asked_ = false;
  kj::Maybe<kj::Exception> failed_;
  kj::Vector<kj::Own<kj::PromiseFulfiller<void>>> held_back_;
  // Last: its flush refers to the members above.
  kj::TaskSet tasks_;
};

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_COALESCING_STREAM_H_
