// The template language of `hotswap-watch render`: text with actions in
// {{ }} over the keys of one version. docs in watch/README.md.
//
//   upstream {{ service.name }} {
//   {{- range "backend." }}
//     server {{ .value }};   # {{ .name }}
//   {{- end }}
//   }
//   log_level {{ log.level | default "warn" }};
//   {{ if feature.gzip }}gzip on;{{ else }}gzip off;{{ end }}
//   export BANNER={{ banner | shell }}
#ifndef HOTSWAP_WATCH_SRC_TEMPLATE_H_
#define HOTSWAP_WATCH_SRC_TEMPLATE_H_

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hotswap/value.hpp"

namespace hotswap::watch {

// Where a template went wrong: 1-based line and column of the action or
// token, and what is wrong. to_string gives "NAME:LINE:COL: message".
struct TemplateError {
  std::string name;  // the template's file name, as given
  int line = 0;
  int column = 0;
  std::string message;
  std::string to_string() const;
};

// What a template reads: the keys of one version.
class TemplateData {
 public:
  virtual ~TemplateData() = default;
  // The value of `key`, nullopt if the version lacks it.
  virtual std::optional<Value> find(std::string_view key) const = 0;
  // The keys starting with `prefix` and their values, in key order.
  virtual std::vector<std::pair<std::string, Value>> with_prefix(std::string_view prefix) const = 0;
};

struct TemplateNode;

// A parsed template. Parsing finds every syntax error (the first is
// reported); rendering can fail only on data: a key that is absent with no
// default, a key of JSON or another type where a filter needs text.
class Template {
 public:
  static std::expected<Template, TemplateError> parse(std::string name, std::string_view text);
  std::expected<std::string, TemplateError> render(const TemplateData& data) const;

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

 private:
  Template(std::string name, std::vector<TemplateNode> nodes);
  std::string name_;
  std::unique_ptr<std::vector<TemplateNode>> nodes_;
};

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_TEMPLATE_H_
