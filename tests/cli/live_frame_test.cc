// The in-place redraw's bytes: where the cursor goes, what is erased, and
// how lines are kept from wrapping or scrolling the screen.
#include "live_frame.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hotswap::cli {
namespace {

TEST(LiveFrame, TheFirstDrawPrintsEachLineErasingTheRestOfIt) {
  std::ostringstream out;
  LiveFrame frame(out, {24, 80});
  frame.draw({"one", "two"});
  EXPECT_EQ(out.str(), "one\x1b[K\ntwo\x1b[K\n\x1b[J");
}

TEST(LiveFrame, ALaterDrawClimbsBackOverTheBlockDrawnBefore) {
  std::ostringstream out;
  LiveFrame frame(out, {24, 80});
  frame.draw({"one", "two", "three"});
  out.str("");
  frame.draw({"uno"});
  // Up three lines, then the shorter block; what is left below is erased.
  EXPECT_EQ(out.str(), "\r\x1b[3Auno\x1b[K\n\x1b[J");
  out.str("");
  frame.draw({"a", "b"});
  EXPECT_EQ(out.str(), "\r\x1b[1Aa\x1b[K\nb\x1b[K\n\x1b[J");
}

TEST(LiveFrame, LinesAreCutBeforeTheLastColumnAndFramesBeforeTheLastRow) {
  std::ostringstream out;
  LiveFrame frame(out, {3, 6});
  frame.draw({"0123456789", "ab", "never shown"});
  EXPECT_EQ(out.str(), "01234\x1b[K\nab\x1b[K\n\x1b[J");
  out.str("");
  frame.draw({"x"});
  EXPECT_EQ(out.str(), "\r\x1b[2Ax\x1b[K\n\x1b[J") << "it climbs only what it drew";
}

TEST(LiveFrame, FitToWidthKeepsCodePointsWholeAndDefusesControlCharacters) {
  EXPECT_EQ(fit_to_width("h\xC3\xA9llo", 2), "h\xC3\xA9");
  EXPECT_EQ(fit_to_width("abc", 3), "abc");
  EXPECT_EQ(fit_to_width("a\x1b[2Jb\tc", 10), "a [2Jb c");
}

}  // namespace
}  // namespace hotswap::cli
