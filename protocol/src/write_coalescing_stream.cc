#include "hotswap/protocol/write_coalescing_stream.h"

#include <utility>

namespace hotswap::protocol {

WriteCoalescingStream::WriteCoalescingStream(kj::Own<kj::AsyncIoStream> inner, size_t max_queued)
    : inner_(kj::mv(inner)), max_queued_(max_queued), tasks_(*this) {}

kj::Promise<void> WriteCoalescingStream::write(const void* buffer, size_t size) {
  const kj::ArrayPtr<const kj::byte> piece(static_cast<const kj::byte*>(buffer), size);
  return queue(kj::arrayPtr(&piece, 1));
}

kj::Promise<void> WriteCoalescingStream::write(
    kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return queue(pieces);
}

kj::Promise<void> WriteCoalescingStream::queue(
    kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
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

kj::Promise<void> WriteCoalescingStream::flush() {
  if (queued_.empty()) {
    drained();
    return kj::READY_NOW;
  }
  auto out = kj::heap<std::vector<kj::byte>>(std::exchange(queued_, {}));
  auto written = inner_->write(out->data(), out->size());
  return written.attach(kj::mv(out)).then([this] { return flush(); });
}

void WriteCoalescingStream::drained() {
  flushing_ = false;
  for (auto& writer : held_back_) writer->fulfill();
  held_back_.clear();
  if (shutdown_asked_) inner_->shutdownWrite();
}

void WriteCoalescingStream::taskFailed(kj::Exception&& exception) {
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

kj::Promise<size_t> WriteCoalescingStream::tryRead(void* buffer, size_t min_bytes,
                                                   size_t max_bytes) {
  return inner_->tryRead(buffer, min_bytes, max_bytes);
}

kj::Promise<void> WriteCoalescingStream::whenWriteDisconnected() {
  return inner_->whenWriteDisconnected();
}

void WriteCoalescingStream::shutdownWrite() {
  if (flushing_) {
    shutdown_asked_ = true;
  } else {
    inner_->shutdownWrite();
  }
}

void WriteCoalescingStream::abortRead() {
  inner_->abortRead();
}

void WriteCoalescingStream::getsockopt(int level, int option, void* value, kj::uint* length) {
  inner_->getsockopt(level, option, value, length);
}

void WriteCoalescingStream::setsockopt(int level, int option, const void* value, kj::uint length) {
  inner_->setsockopt(level, option, value, length);
}

void WriteCoalescingStream::getsockname(struct sockaddr* addr, kj::uint* length) {
  inner_->getsockname(addr, length);
}

void WriteCoalescingStream::getpeername(struct sockaddr* addr, kj::uint* length) {
  inner_->getpeername(addr, length);
}

kj::Maybe<int> WriteCoalescingStream::getFd() const {
  return inner_->getFd();
}

}  // namespace hotswap::protocol
