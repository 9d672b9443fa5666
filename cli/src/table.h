// Plain-text layout shared by every command's table output: aligned
// columns under a header row, and aligned "field: value" lines.
#ifndef HOTSWAP_CLI_SRC_TABLE_H_
#define HOTSWAP_CLI_SRC_TABLE_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace hotswap::cli {

// Columns are left-aligned and separated by two spaces; widths count UTF-8
// code points, so non-ASCII text stays aligned. Tabs and line breaks in a
// cell print as spaces so that a row stays one line. The last column is
// not padded (no trailing blanks).
class Table {
 public:
  explicit Table(std::vector<std::string> header);

  // Missing trailing cells print empty; cells beyond the header are dropped.
  void add_row(std::vector<std::string> cells);
  size_t row_count() const { return rows_.size(); }

  // The header and every row, one line each.
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "name: value" lines, values aligned one column after the longest name.
using Fields = std::vector<std::pair<std::string, std::string>>;
void print_fields(std::ostream& out, const Fields& fields);

// The number of UTF-8 code points in `text` (bytes that do not continue one).
size_t display_width(const std::string& text);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_TABLE_H_
