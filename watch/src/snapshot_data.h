// One version of a namespace as templates, dumps and environments read it.
#ifndef HOTSWAP_WATCH_SRC_SNAPSHOT_DATA_H_
#define HOTSWAP_WATCH_SRC_SNAPSHOT_DATA_H_

#include <string>
#include <utility>
#include <vector>

#include "hotswap/client.hpp"
#include "template.h"

namespace hotswap::watch {

// TemplateData over a held SnapshotView: every read sees its version.
class SnapshotData : public TemplateData {
 public:
  explicit SnapshotData(SnapshotView view) : view_(std::move(view)) {}
  std::optional<Value> find(std::string_view key) const override;
  std::vector<std::pair<std::string, Value>> with_prefix(std::string_view prefix) const override;
  uint64_t version() const { return view_.version(); }

 private:
  SnapshotView view_;
};

// The environment variable a key becomes: the key less `strip`, letters
// upper-cased, every other character but digits turned into '_', after
// `prefix` ("db.host" -> "DB_HOST"; strip "db.", prefix "APP_" ->
// "APP_HOST").
std::string env_name(std::string_view key, std::string_view strip, std::string_view prefix);

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_SNAPSHOT_DATA_H_
