#include "hotswap/protocol/coalescing_stream.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace hotswap::protocol {

CoalescingStream::CoalescingStream(kj::Own<kj::AsyncIoStream> inner, size_t max_queued,
                                   size_t read_buffer)
    : inner_(kj::mv(inner)),
      max_queued_(max_queued),
      read_buffer_size_(read_buffer),
      tasks_(*this) {}

kj::Promise<void> CoalescingStream::write(const void* buffer, size_t size) {
  const kj::ArrayPtr<const kj::byte> piece(static_cast<const kj::byte*>(buffer), size);
  return queue(kj::arrayPtr(&piece, 1));
}

kj::Promise<void> CoalescingStream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return queue(pieces);
}

kj::Promise<void> CoalescingStream::queue(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  KJ_IF_MAYBE (failure, failed_) {
    return kj::cp(*failure);
  }
  const bool was_empty = queued_.empty();
  for (const auto& piece : pieces) queued_.insert(queued_.end(), piece.begin(), piece.end());
  if (!flushing_) {
    flushing_ = true;
    tasks_.add(kj::evalLast([this] { return flush(); }));
  }
  if (was_empty || queued_.size() <= max_queued_) return kj::READY_NOW;
  auto paf = kj::newPromiseAndFulfiller<void>();
  held_back_.add(kj::mv(paf.fulfiller));
  return kj::mv(paf.promise);
}

kj::Promise<void> CoalescingStream::flush() {
  if (queued_.empty()) {
    drained();
    return kj::READY_NOW;
  }
  auto out = kj::heap<std::vector<kj::byte>>(std::exchange(queued_, {}));
  auto written = inner_->write(out->data(), out->size());
  return written.attach(kj::mv(out)).then([this] { return flush(); });
}

void CoalescingStream::drained() {
  flushing_ = false;
  for (auto& writer : held_back_) writer->fulfill();
  held_back_.clear();
  if (shutdown_asked_) inner_->shutdownWrite();
}

void CoalescingStream::taskFailed(kj::Exception&& exception) {
  flushing_ = false;
  queued_.clear();
  for (auto& writer : held_back_) writer->reject(kj::cp(exception));
  held_back_.clear();
  failed_ = kj::mv(exception);
  // Cap'n Proto learns of a failed write through its reads.
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([this] { inner_->abortRead(); })) {
    (void)e;
  }
}

kj::Promise<size_t> CoalescingStream::tryRead(void* buffer, size_t min_bytes, size_t max_bytes) {
  auto* out = static_cast<kj::byte*>(buffer);
  const size_t taken = take_buffered(out, max_bytes);
  if (taken >= min_bytes) return taken;
  // The buffer is empty now. A large read is better made in place.
  if (max_bytes - taken >= read_buffer_size_) {
    return inner_->tryRead(out + taken, min_bytes - taken, max_bytes - taken)
        .then([taken](size_t n) { return taken + n; });
  }
  read_buffer_ = std::make_unique_for_overwrite<kj::byte[]>(read_buffer_size_);
  return inner_->tryRead(read_buffer_.get(), min_bytes - taken, read_buffer_size_)
      .then([this, out, taken, max_bytes](size_t n) {
        read_end_ = n;
        // Fewer than asked for only at the end of the stream, as below.
        return taken + take_buffered(out + taken, max_bytes - taken);
      });
}

size_t CoalescingStream::take_buffered(kj::byte* out, size_t max) {
  const size_t n = std::min(max, read_end_ - read_begin_);
  if (n > 0) std::memcpy(out, read_buffer_.get() + read_begin_, n);
  read_begin_ += n;
  if (read_begin_ == read_end_ && read_buffer_) {
    read_buffer_.reset();
    read_begin_ = read_end_ = 0;
  }
  return n;
}

kj::Promise<void> CoalescingStream::whenWriteDisconnected() {
  return inner_->whenWriteDisconnected();
}

void CoalescingStream::shutdownWrite() {
  if (flushing_) {
    shutdown_asked_ = true;
  } else {
    inner_->shutdownWrite();
  }
}

void CoalescingStream::abortRead() {
  inner_->abortRead();
}

void CoalescingStream::getsockopt(int level, int option, void* value, kj::uint* length) {
  inner_->getsockopt(level, option, value, length);
}

void CoalescingStream::setsockopt(int level, int option, const void* value, kj::uint length) {
  inner_->setsockopt(level, option, value, length);
}

void CoalescingStream::getsockname(struct sockaddr* addr, kj::uint* length) {
  inner_->getsockname(addr, length);
}

void CoalescingStream::getpeername(struct sockaddr* addr, kj::uint* length) {
  inner_->getpeername(addr, length);
}

kj::Maybe<int> CoalescingStream::getFd() const {
  return inner_->getFd();
}

}  // namespace hotswap::protocol
