// Writes coalesced per turn of the event loop: what is written in one turn
// goes out in one write below, in order; a writer that outruns its peer is
// held back; a failed write fails every later one and ends the reads; and
// shutting down waits for what is queued. Reads served from one read below
// where they can be, in order, with the stream's minimum and end kept.
#include "hotswap/protocol/coalescing_stream.h"

#include <gtest/gtest.h>

#include <kj/async-io.h>
#include <kj/debug.h>

#include <string>

namespace hotswap::protocol {
namespace {

// Passes everything to a socket's end, counting the writes and failing
// them when told.
class CountingStream final : public kj::AsyncIoStream {
 public:
  explicit CountingStream(kj::Own<kj::AsyncIoStream> inner) : inner_(kj::mv(inner)) {}
  kj::Promise<size_t> tryRead(void* buffer, size_t min_bytes, size_t max_bytes) override {
    ++reads;
    return inner_->tryRead(buffer, min_bytes, max_bytes);
  }
  kj::Promise<void> write(const void* buffer, size_t size) override {
    ++writes;
    if (fail) return KJ_EXCEPTION(DISCONNECTED, "peer went away");
    auto written = inner_->write(buffer, size);
    if (!hold) return written;
    // A peer that reads nothing: the write completes when released.
    auto paf = kj::newPromiseAndFulfiller<void>();
    release = kj::mv(paf.fulfiller);
    return paf.promise.then([written = kj::mv(written)]() mutable { return kj::mv(written); });
  }
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override {
    ++writes;
    if (fail) return KJ_EXCEPTION(DISCONNECTED, "peer went away");
    return inner_->write(pieces);
  }
  kj::Promise<void> whenWriteDisconnected() override { return inner_->whenWriteDisconnected(); }
  void shutdownWrite() override { inner_->shutdownWrite(); }
  void abortRead() override { read_aborted = true; }

  int writes = 0;
  int reads = 0;
  bool fail = false;
  bool hold = false;
  kj::Own<kj::PromiseFulfiller<void>> release;
  bool read_aborted = false;

 private:
  kj::Own<kj::AsyncIoStream> inner_;
};

class CoalescingStreamTest : public ::testing::Test {
 protected:
  CoalescingStreamTest() : io_(kj::setupAsyncIo()) { Open(size_t{1} << 20); }
  // kj's destructors may throw; a test's may not.
  ~CoalescingStreamTest() noexcept override {}

  void Open(size_t max_queued, size_t read_buffer = 16) {
    auto pipe = io_.provider->newTwoWayPipe();  // a socketpair
    peer_ = kj::mv(pipe.ends[0]);
    auto below = kj::heap<CountingStream>(kj::mv(pipe.ends[1]));
    below_ = below.get();
    stream_ = kj::heap<CoalescingStream>(kj::mv(below), max_queued, read_buffer);
  }

  kj::Promise<void> Write(const std::string& bytes) {
    return stream_->write(bytes.data(), bytes.size());
  }
  // What the peer reads: exactly `n` bytes, or fewer at the end.
  std::string PeerReads(size_t n) {
    std::string out(n, '\0');
    out.resize(peer_->tryRead(out.data(), n, n).wait(ws()));
    return out;
  }
  kj::WaitScope& ws() { return io_.waitScope; }
  void PeerWrites(const std::string& bytes) { peer_->write(bytes.data(), bytes.size()).wait(ws()); }
  // What the stream's reader gets asking for `min` to `max` bytes.
  std::string Reads(size_t min, size_t max) {
    std::string out(max, '\0');
    out.resize(stream_->tryRead(out.data(), min, max).wait(ws()));
    return out;
  }

  kj::AsyncIoContext io_;
  kj::Own<kj::AsyncIoStream> peer_;
  CountingStream* below_ = nullptr;
  kj::Own<CoalescingStream> stream_;
};

TEST_F(CoalescingStreamTest, WritesOfOneTurnGoOutAsOneWriteInOrder) {
  auto a = Write("call-1;");
  auto b = Write("finish-0;");
  const kj::byte c[] = {'x', 'y'};
  const kj::ArrayPtr<const kj::byte> pieces[] = {kj::arrayPtr(c, 1), kj::arrayPtr(c + 1, 1)};
  auto d = stream_->write(kj::arrayPtr(pieces, 2));
  // Each resolved at once, nothing written yet.
  EXPECT_TRUE(a.poll(ws()));
  EXPECT_TRUE(b.poll(ws()));
  EXPECT_TRUE(d.poll(ws()));
  EXPECT_EQ(PeerReads(18), "call-1;finish-0;xy");
  EXPECT_EQ(below_->writes, 1);
  EXPECT_EQ(stream_->queued(), 0u);
}

TEST_F(CoalescingStreamTest, WritesOfLaterTurnsGoOutLaterStillInOrder) {
  Write("first;").wait(ws());
  EXPECT_EQ(PeerReads(6), "first;");
  Write("second;").wait(ws());
  EXPECT_EQ(PeerReads(7), "second;");
  EXPECT_EQ(below_->writes, 2);
}

TEST_F(CoalescingStreamTest, AWriterThatOutrunsItsPeerIsHeldBackUntilTheQueueDrains) {
  Open(8);
  below_->hold = true;
  auto first = Write("0123456");  // into an empty queue: never held back
  EXPECT_TRUE(first.poll(ws()));
  ws().poll();  // the loop idles: flushed, and that write is now stuck below
  ASSERT_EQ(below_->writes, 1);
  auto second = Write("789");    // queued behind it, within the limit
  auto third = Write("abcdef");  // 9 queued, over 8: held back
  EXPECT_TRUE(second.poll(ws()));
  EXPECT_FALSE(third.poll(ws()));
  EXPECT_EQ(stream_->queued(), 9u);
  below_->hold = false;
  below_->release->fulfill();
  third.wait(ws());
  EXPECT_EQ(PeerReads(16), "0123456789abcdef");
  EXPECT_EQ(below_->writes, 2);  // what queued behind the stuck one went out together
}

TEST_F(CoalescingStreamTest, AFailedWriteFailsTheLaterOnesAndEndsTheReads) {
  below_->fail = true;
  Write("lost").wait(ws());  // queued: the failure comes with the flush
  ws().poll();               // which runs once the loop is idle
  EXPECT_TRUE(
      Write("after").then([] { return false; }, [](kj::Exception&&) { return true; }).wait(ws()));
  EXPECT_TRUE(below_->read_aborted);
  // The failure stays: every later write fails with it.
  EXPECT_TRUE(
      Write("again").then([] { return false; }, [](kj::Exception&&) { return true; }).wait(ws()));
  EXPECT_EQ(below_->writes, 1);
}

TEST_F(CoalescingStreamTest, ShuttingDownWaitsForWhatIsQueued) {
  Write("last words").wait(ws());
  stream_->shutdownWrite();
  EXPECT_EQ(PeerReads(64), "last words");  // then the end of the stream
  EXPECT_EQ(PeerReads(1), "");
}

// Cap'n Proto reads a message's first word, then the rest: with what the
// peer sent already there, both come from one read below.
TEST_F(CoalescingStreamTest, SmallReadsAreServedFromOneReadBelow) {
  PeerWrites("01234567abcdefgh");
  EXPECT_EQ(Reads(8, 8), "01234567");
  EXPECT_EQ(stream_->buffered(), 8u);
  EXPECT_EQ(Reads(4, 4), "abcd");
  EXPECT_EQ(Reads(1, 16), "efgh");  // no more than there is
  EXPECT_EQ(below_->reads, 1);
  EXPECT_EQ(stream_->buffered(), 0u);
}

TEST_F(CoalescingStreamTest, AReadWaitsForItsMinimumAcrossWritesOfThePeer) {
  PeerWrites("012");
  auto read = stream_->tryRead(nullptr, 0, 0);  // nothing asked: nothing read
  EXPECT_EQ(read.wait(ws()), 0u);
  std::string out(6, '\0');
  auto six = stream_->tryRead(out.data(), 6, 6);
  EXPECT_FALSE(six.poll(ws()));
  PeerWrites("345xyz");
  EXPECT_EQ(six.wait(ws()), 6u);
  EXPECT_EQ(out, "012345");
  EXPECT_EQ(Reads(3, 3), "xyz");
}

TEST_F(CoalescingStreamTest, AReadAsLargeAsTheBufferGoesStraightBelow) {
  const std::string big(40, 'b');
  PeerWrites("head" + big);
  EXPECT_EQ(Reads(4, 4), "head");  // 16 bytes read below: 12 of them kept
  EXPECT_EQ(stream_->buffered(), 12u);
  EXPECT_EQ(Reads(40, 40), big);  // 12 from the buffer, 28 read in place
  EXPECT_EQ(below_->reads, 2);
}

TEST_F(CoalescingStreamTest, TheEndOfTheStreamGivesWhatWasBufferedThenNothing) {
  PeerWrites("tail");
  peer_->shutdownWrite();
  EXPECT_EQ(Reads(8, 8), "tail");  // fewer than asked: the end
  EXPECT_EQ(Reads(1, 1), "");
}

}  // namespace
}  // namespace hotswap::protocol
