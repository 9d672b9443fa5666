// Column alignment shared by every list command.
#include "table.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hotswap::cli {
namespace {

std::string printed(const Table& table) {
  std::ostringstream out;
  table.print(out);
  return out.str();
}

TEST(Table, AlignsColumnsToTheWidestCellIncludingTheHeader) {
  Table table({"NUMBER", "AUTHOR", "MESSAGE"});
  table.add_row({"3", "alice", "raise limits"});
  table.add_row({"12", "bartholomew", "x"});
  EXPECT_EQ(printed(table),
            "NUMBER  AUTHOR       MESSAGE\n"
            "3       alice        raise limits\n"
            "12      bartholomew  x\n");
  EXPECT_EQ(table.row_count(), 2u);
}

TEST(Table, HeaderAloneWhenEmpty) {
  EXPECT_EQ(printed(Table({"A", "B"})), "A  B\n");
}

TEST(Table, CountsUtf8CodePointsNotBytes) {
  Table table({"NAME", "X"});
  table.add_row({"caf\xc3\xa9", "1"});  // "café": 5 bytes, 4 columns
  table.add_row({"abcd", "2"});
  EXPECT_EQ(printed(table),
            "NAME  X\n"
            "caf\xc3\xa9  1\n"
            "abcd  2\n");
}

TEST(Table, KeepsEachRowOnOneLine) {
  Table table({"A", "B"});
  table.add_row({"x\ny", "tab\there"});
  EXPECT_EQ(printed(table),
            "A    B\n"
            "x y  tab here\n");
}

TEST(Table, PadsMissingCellsDropsExtraOnesAndLeavesNoTrailingBlanks) {
  Table table({"A", "B", "C"});
  table.add_row({"long-a"});
  table.add_row({"a", "b", "c", "ignored"});
  EXPECT_EQ(printed(table),
            "A       B  C\n"
            "long-a\n"
            "a       b  c\n");
}

TEST(PrintFields, AlignsValuesAfterTheLongestName) {
  std::ostringstream out;
  print_fields(out, {{"id", "7"}, {"namespace", "acme/web"}, {"note", ""}});
  EXPECT_EQ(out.str(),
            "id:        7\n"
            "namespace: acme/web\n"
            "note:\n");
}

TEST(DisplayWidth, CountsCodePoints) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("\xe2\x82\xac"), 1u);  // "€"
}

}  // namespace
}  // namespace hotswap::cli
