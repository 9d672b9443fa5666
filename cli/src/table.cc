#include "table.h"

#include <algorithm>

namespace hotswap::cli {
namespace {

std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return text;
}

void pad(std::string& out, const std::string& text, size_t width) {
  out += text;
  for (size_t n = display_width(text); n < width; ++n) out += ' ';
}

// Writes `line` without trailing blanks (empty last cells leave some).
void print_line(std::ostream& out, std::string line) {
  line.erase(line.find_last_not_of(' ') + 1);
  out << line << '\n';
}

}  // namespace

size_t display_width(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {
  for (std::string& cell : header_) cell = one_line(std::move(cell));
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (std::string& cell : cells) cell = one_line(std::move(cell));
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
  std::vector<size_t> widths(header_.size());
  auto widen = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  };
  widen(header_);
  for (const auto& row : rows_) widen(row);

  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      pad(line, row[i], widths[i]);
      line += "  ";
    }
    print_line(out, std::move(line));
  };
  print_row(header_);
  for (const auto& row : rows_) print_row(row);
}

void print_fields(std::ostream& out, const Fields& fields) {
  size_t width = 0;
  for (const auto& [name, value] : fields) width = std::max(width, display_width(name) + 1);
  for (const auto& [name, value] : fields) {
    std::string line;
    pad(line, name + ":", width);
    print_line(out, line + ' ' + one_line(value));
  }
}

}  // namespace hotswap::cli
