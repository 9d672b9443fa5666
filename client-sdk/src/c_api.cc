// The C API over the C++ client. Nothing here throws: every allocation
// failure or unexpected exception becomes a status.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iterator>
#include <new>
#include <string>

#include "health_state.h"  // error_class_known
#include "hotswap/client.h"
#include "hotswap/client.hpp"
#include "hotswap/health.h"
#include "hotswap/health.hpp"

// The vocabulary does not include this C header, so its enums spell the
// numbers out; a status and an ErrorCode convert with a cast, and the type
// byte in shared memory is both.
#define HOTSWAP_SAME_NUMBER(cpp, c) static_assert(static_cast<int>(cpp) == static_cast<int>(c))
HOTSWAP_SAME_NUMBER(hotswap::ValueType::int64, HOTSWAP_TYPE_INT64);
HOTSWAP_SAME_NUMBER(hotswap::ValueType::float64, HOTSWAP_TYPE_DOUBLE);
HOTSWAP_SAME_NUMBER(hotswap::ValueType::boolean, HOTSWAP_TYPE_BOOL);
HOTSWAP_SAME_NUMBER(hotswap::ValueType::string, HOTSWAP_TYPE_STRING);
HOTSWAP_SAME_NUMBER(hotswap::ValueType::json, HOTSWAP_TYPE_JSON);
HOTSWAP_SAME_NUMBER(hotswap::ValueType::duration, HOTSWAP_TYPE_DURATION);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::not_found, HOTSWAP_ERR_NOT_FOUND);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::type_mismatch, HOTSWAP_ERR_TYPE_MISMATCH);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::no_segment, HOTSWAP_ERR_NO_SEGMENT);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::no_snapshot, HOTSWAP_ERR_NO_SNAPSHOT);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::incompatible_layout, HOTSWAP_ERR_INCOMPATIBLE_LAYOUT);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::corrupt, HOTSWAP_ERR_CORRUPT);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::permission_denied, HOTSWAP_ERR_PERMISSION_DENIED);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::timeout, HOTSWAP_ERR_TIMEOUT);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::invalid_argument, HOTSWAP_ERR_INVALID_ARGUMENT);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::io, HOTSWAP_ERR_IO);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::buffer_too_small, HOTSWAP_ERR_BUFFER_TOO_SMALL);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::busy, HOTSWAP_ERR_BUSY);
HOTSWAP_SAME_NUMBER(hotswap::ErrorCode::not_resident, HOTSWAP_ERR_NOT_RESIDENT);
#undef HOTSWAP_SAME_NUMBER

struct hotswap_client {
  hotswap::Client client;
};

struct hotswap_snapshot {
  hotswap::SnapshotView view;
  // The last entry read by index, so that reading in order steps once.
  hotswap::SnapshotView::Iterator cursor;
  size_t cursor_index;
};

struct hotswap_subscription {
  hotswap::Subscription subscription;
};

struct hotswap_health {
  hotswap::HealthRecorder recorder;
};

struct hotswap_handle {
  hotswap_type type;
  std::variant<hotswap::Handle<int64_t>, hotswap::Handle<double>, hotswap::Handle<bool>,
               hotswap::Handle<hotswap::Duration>>
      handle;
};

namespace {

thread_local std::string last_error;

hotswap_status fail(const hotswap::Error& error) {
  last_error = error.message;
  return static_cast<hotswap_status>(error.code);
}

hotswap_status fail(hotswap_status status, const char* message) {
  last_error = message;
  return status;
}

// Runs `body`, turning any escaping exception into HOTSWAP_ERR_IO.
template <class Fn>
hotswap_status guarded(Fn&& body) noexcept {
  try {
    last_error.clear();
    return body();
  } catch (const std::bad_alloc&) {
    return fail(HOTSWAP_ERR_IO, "out of memory");
  } catch (...) {
    return fail(HOTSWAP_ERR_IO, "unexpected internal error");
  }
}

template <class T, class Out, class Convert>
hotswap_status get_scalar(hotswap_client* c, const char* key, Out* out, Convert convert) {
  if (c == nullptr || key == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client, key and out must not be NULL");
  }
  return guarded([&] {
    auto v = c->client.get<T>(key);
    if (!v) return fail(v.error());
    *out = convert(*v);
    return HOTSWAP_OK;
  });
}

template <class T, class Out, class Convert>
hotswap_status handle_get(hotswap_handle* h, Out* out, hotswap_type type, Convert convert) {
  if (h == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "handle and out must not be NULL");
  }
  if (h->type != type) return fail(HOTSWAP_ERR_TYPE_MISMATCH, "handle was opened for another type");
  return guarded([&] {
    auto v = std::get<hotswap::Handle<T>>(h->handle).get();
    if (!v) return fail(v.error());
    *out = convert(*v);
    return HOTSWAP_OK;
  });
}

auto identity = [](auto v) { return v; };

}  // namespace

extern "C" {

const char* hotswap_status_string(hotswap_status status) {
  switch (status) {
    case HOTSWAP_OK:
      return "ok";
    case HOTSWAP_ERR_NOT_FOUND:
      return "key not found";
    case HOTSWAP_ERR_TYPE_MISMATCH:
      return "type mismatch";
    case HOTSWAP_ERR_NO_SEGMENT:
      return "no shared-memory segment";
    case HOTSWAP_ERR_NO_SNAPSHOT:
      return "no active snapshot";
    case HOTSWAP_ERR_INCOMPATIBLE_LAYOUT:
      return "incompatible layout version";
    case HOTSWAP_ERR_CORRUPT:
      return "corrupt segment";
    case HOTSWAP_ERR_PERMISSION_DENIED:
      return "permission denied";
    case HOTSWAP_ERR_TIMEOUT:
      return "timeout";
    case HOTSWAP_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case HOTSWAP_ERR_IO:
      return "I/O error";
    case HOTSWAP_ERR_BUFFER_TOO_SMALL:
      return "buffer too small";
    case HOTSWAP_ERR_BUSY:
      return "busy";
    case HOTSWAP_ERR_NOT_RESIDENT:
      return "version not resident";
  }
  return "unknown status";
}

const char* hotswap_last_error(void) {
  return last_error.c_str();
}

void hotswap_open_options_init(hotswap_open_options* options) {
  if (options == nullptr) return;
  const hotswap::ClientOptions defaults;
  *options = hotswap_open_options{
      .size = sizeof(hotswap_open_options),
      .scope = nullptr,
      .verify_checksum = defaults.verify_checksum ? 1 : 0,
      .copy_up_to = defaults.copy_up_to,
      .open_timeout_ms = defaults.open_timeout.count(),
  };
}

hotswap_status hotswap_open(const char* ns, hotswap_client** out) {
  return hotswap_open_with(ns, nullptr, out);
}

hotswap_status hotswap_open_with(const char* ns, const hotswap_open_options* options,
                                 hotswap_client** out) {
  if (ns == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "ns and out must not be NULL");
  }
  *out = nullptr;
  if (options != nullptr && options->size != sizeof(hotswap_open_options)) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT,
                "options->size is not sizeof(hotswap_open_options): fill options with "
                "hotswap_open_options_init");
  }
  return guarded([&] {
    hotswap::ClientOptions cpp;
    if (options != nullptr) {
      cpp.scope = options->scope != nullptr ? options->scope : "";
      cpp.verify_checksum = options->verify_checksum != 0;
      cpp.copy_up_to = options->copy_up_to;
      cpp.open_timeout = std::chrono::milliseconds(options->open_timeout_ms);
    }
    auto client = hotswap::Client::open(ns, std::move(cpp));
    if (!client) return fail(client.error());
    *out = new hotswap_client{std::move(*client)};
    return HOTSWAP_OK;
  });
}

void hotswap_close(hotswap_client* client) {
  delete client;
}

hotswap_status hotswap_get_int64(hotswap_client* c, const char* key, int64_t* out) {
  return get_scalar<int64_t>(c, key, out, identity);
}
hotswap_status hotswap_get_double(hotswap_client* c, const char* key, double* out) {
  return get_scalar<double>(c, key, out, identity);
}
hotswap_status hotswap_get_bool(hotswap_client* c, const char* key, int* out) {
  return get_scalar<bool>(c, key, out, [](bool v) { return v ? 1 : 0; });
}
hotswap_status hotswap_get_duration_ns(hotswap_client* c, const char* key, int64_t* out) {
  return get_scalar<hotswap::Duration>(c, key, out,
                                       [](hotswap::Duration v) { return int64_t{v.count()}; });
}

hotswap_status hotswap_get_string(hotswap_client* c, const char* key, char* buf, size_t cap,
                                  size_t* len) {
  if (c == nullptr || key == nullptr || len == nullptr || (buf == nullptr && cap > 0)) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client, key and len must not be NULL");
  }
  return guarded([&] {
    // By key, as the typed getters: a view would also check the key order.
    auto text = c->client.get<std::string>(key);
    if (!text && text.error().code == hotswap::ErrorCode::type_mismatch) {
      if (auto json = c->client.get<hotswap::Json>(key)) text = std::move(json->text);
    }
    if (!text) return fail(text.error());
    *len = text->size();
    if (cap <= text->size()) {
      return fail(HOTSWAP_ERR_BUFFER_TOO_SMALL, "buffer too small: *len holds the length needed");
    }
    std::memcpy(buf, text->data(), text->size());
    buf[text->size()] = '\0';
    return HOTSWAP_OK;
  });
}

hotswap_status hotswap_get_type(hotswap_client* c, const char* key, hotswap_type* out) {
  if (c == nullptr || key == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client, key and out must not be NULL");
  }
  return guarded([&] {
    auto view = c->client.snapshot();
    if (!view) return fail(view.error());
    auto entry = view->find(key);
    if (!entry) return fail(entry.error());
    *out = static_cast<hotswap_type>(entry->type());
    return HOTSWAP_OK;
  });
}

hotswap_status hotswap_handle_open(hotswap_client* c, const char* key, hotswap_type type,
                                   hotswap_handle** out) {
  if (c == nullptr || key == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client, key and out must not be NULL");
  }
  *out = nullptr;
  return guarded([&]() -> hotswap_status {
    auto make = [&]<class T>() -> hotswap_status {
      auto h = c->client.handle<T>(key);
      if (!h) return fail(h.error());
      *out = new hotswap_handle{type, std::move(*h)};
      return HOTSWAP_OK;
    };
    switch (type) {
      case HOTSWAP_TYPE_INT64:
        return make.template operator()<int64_t>();
      case HOTSWAP_TYPE_DOUBLE:
        return make.template operator()<double>();
      case HOTSWAP_TYPE_BOOL:
        return make.template operator()<bool>();
      case HOTSWAP_TYPE_DURATION:
        return make.template operator()<hotswap::Duration>();
      default:
        return fail(HOTSWAP_ERR_INVALID_ARGUMENT,
                    "handles read scalar types: int64, double, bool, duration");
    }
  });
}

void hotswap_handle_close(hotswap_handle* handle) {
  delete handle;
}

hotswap_status hotswap_handle_int64(hotswap_handle* h, int64_t* out) {
  return handle_get<int64_t>(h, out, HOTSWAP_TYPE_INT64, identity);
}
hotswap_status hotswap_handle_double(hotswap_handle* h, double* out) {
  return handle_get<double>(h, out, HOTSWAP_TYPE_DOUBLE, identity);
}
hotswap_status hotswap_handle_bool(hotswap_handle* h, int* out) {
  return handle_get<bool>(h, out, HOTSWAP_TYPE_BOOL, [](bool v) { return v ? 1 : 0; });
}
hotswap_status hotswap_handle_duration_ns(hotswap_handle* h, int64_t* out) {
  return handle_get<hotswap::Duration>(h, out, HOTSWAP_TYPE_DURATION,
                                       [](hotswap::Duration v) { return int64_t{v.count()}; });
}

hotswap_status hotswap_version(hotswap_client* c, uint64_t* version) {
  if (c == nullptr || version == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client and version must not be NULL");
  }
  return guarded([&] {
    auto v = c->client.version();
    if (!v) return fail(v.error());
    *version = *v;
    return HOTSWAP_OK;
  });
}

hotswap_status hotswap_wait_for_change(hotswap_client* c, int64_t timeout_ms, uint64_t* version) {
  if (c == nullptr || version == nullptr || timeout_ms < 0) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client and version must not be NULL, timeout >= 0");
  }
  return guarded([&] {
    auto v = c->client.wait_for_change(std::chrono::milliseconds(timeout_ms));
    if (!v) return fail(v.error());
    *version = *v;
    return HOTSWAP_OK;
  });
}

// ---- snapshots ----

namespace {

hotswap_status fill_entry(const hotswap::SnapshotView::Entry& entry, hotswap_entry* out) {
  const std::string_view key = entry.key();
  *out = hotswap_entry{.key = key.data(),
                       .key_len = key.size(),
                       .type = static_cast<hotswap_type>(entry.type()),
                       .int64_value = 0,
                       .double_value = 0,
                       .text = nullptr,
                       .text_len = 0};
  if (entry.type() == hotswap::ValueType::string || entry.type() == hotswap::ValueType::json) {
    // The bytes in the snapshot, never copied.
    auto text = entry.text();
    if (!text) return fail(text.error());
    out->text = text->data();
    out->text_len = text->size();
    return HOTSWAP_OK;
  }
  auto value = entry.value();
  if (!value) return fail(value.error());
  if (auto* i = std::get_if<int64_t>(&*value)) out->int64_value = *i;
  if (auto* d = std::get_if<double>(&*value)) out->double_value = *d;
  if (auto* b = std::get_if<bool>(&*value)) out->int64_value = *b ? 1 : 0;
  if (auto* ns = std::get_if<hotswap::Duration>(&*value)) out->int64_value = ns->count();
  return HOTSWAP_OK;
}

}  // namespace

hotswap_status hotswap_snapshot_open(hotswap_client* c, hotswap_snapshot** out) {
  if (c == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client and out must not be NULL");
  }
  *out = nullptr;
  return guarded([&] {
    auto view = c->client.snapshot();
    if (!view) return fail(view.error());
    auto begin = view->begin();
    *out = new hotswap_snapshot{std::move(*view), begin, 0};
    return HOTSWAP_OK;
  });
}

void hotswap_snapshot_close(hotswap_snapshot* snapshot) {
  delete snapshot;
}

hotswap_status hotswap_snapshot_version(const hotswap_snapshot* snapshot, uint64_t* version) {
  if (snapshot == nullptr || version == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "snapshot and version must not be NULL");
  }
  *version = snapshot->view.version();
  return HOTSWAP_OK;
}

hotswap_status hotswap_snapshot_size(const hotswap_snapshot* snapshot, size_t* count) {
  if (snapshot == nullptr || count == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "snapshot and count must not be NULL");
  }
  *count = snapshot->view.size();
  return HOTSWAP_OK;
}

hotswap_status hotswap_snapshot_entry(hotswap_snapshot* snapshot, size_t index,
                                      hotswap_entry* out) {
  if (snapshot == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "snapshot and out must not be NULL");
  }
  if (index >= snapshot->view.size()) {
    return fail(HOTSWAP_ERR_NOT_FOUND, "index past the snapshot's last key");
  }
  return guarded([&] {
    if (index < snapshot->cursor_index) {
      snapshot->cursor = snapshot->view.begin();
      snapshot->cursor_index = 0;
    }
    snapshot->cursor =
        std::next(snapshot->cursor, static_cast<std::ptrdiff_t>(index - snapshot->cursor_index));
    snapshot->cursor_index = index;
    return fill_entry(*snapshot->cursor, out);
  });
}

hotswap_status hotswap_snapshot_find(const hotswap_snapshot* snapshot, const char* key,
                                     size_t key_len, hotswap_entry* out) {
  if (snapshot == nullptr || (key == nullptr && key_len > 0) || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "snapshot, key and out must not be NULL");
  }
  return guarded([&] {
    auto entry = snapshot->view.find(std::string_view(key, key_len));
    if (!entry) return fail(entry.error());
    return fill_entry(*entry, out);
  });
}

// ---- change callbacks ----

hotswap_status hotswap_on_change(hotswap_client* c, hotswap_change_callback callback,
                                 void* user_data, hotswap_subscription** out) {
  if (c == nullptr || callback == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client, callback and out must not be NULL");
  }
  *out = nullptr;
  return guarded([&] {
    auto subscription = c->client.on_change(
        [callback, user_data](uint64_t version) { callback(version, user_data); });
    *out = new hotswap_subscription{std::move(subscription)};
    return HOTSWAP_OK;
  });
}

void hotswap_subscription_close(hotswap_subscription* subscription) {
  delete subscription;
}

// ---- health ----

namespace {

bool valid_outcome(hotswap_outcome outcome) {
  return outcome == HOTSWAP_OUTCOME_OK || outcome == HOTSWAP_OUTCOME_ERROR;
}

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

hotswap_status hotswap_health_open(hotswap_client* c, hotswap_health** out) {
  if (c == nullptr || out == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "client and out must not be NULL");
  }
  *out = nullptr;
  return guarded([&] {
    auto recorder = hotswap::HealthRecorder::open(c->client);
    if (!recorder) return fail(recorder.error());
    *out = new hotswap_health{std::move(*recorder)};
    return HOTSWAP_OK;
  });
}

void hotswap_health_close(hotswap_health* health) {
  delete health;
}

hotswap_status hotswap_health_error_class(const char* name, uint32_t* id) {
  if (name == nullptr || id == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "name and id must not be NULL");
  }
  return guarded([&] {
    auto error_class = hotswap::ErrorClass::named(name);
    if (!error_class) return fail(error_class.error());
    *id = error_class->id();
    return HOTSWAP_OK;
  });
}

// Not guarded: nothing on the recording path throws or allocates.
hotswap_status hotswap_health_record(hotswap_health* health, hotswap_outcome outcome,
                                     uint64_t latency_us, uint32_t error_class) {
  if (health == nullptr || !valid_outcome(outcome) ||
      !hotswap::detail::error_class_known(error_class)) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT,
                "health must not be NULL, outcome HOTSWAP_OUTCOME_OK or _ERROR, error_class 0 or "
                "a registered id");
  }
  const auto latency = std::chrono::microseconds(
      static_cast<int64_t>(std::min<uint64_t>(latency_us, hotswap::kLatencyMaxMicros)));
  health->recorder.record(static_cast<hotswap::Outcome>(outcome), latency,
                          hotswap::ErrorClass::from_id(error_class));
  return HOTSWAP_OK;
}

hotswap_status hotswap_health_start(hotswap_health* health, hotswap_health_scope* scope) {
  if (health == nullptr || scope == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "health and scope must not be NULL");
  }
  scope->version = health->recorder.active_version();
  scope->start_ns = monotonic_ns();
  return HOTSWAP_OK;
}

hotswap_status hotswap_health_finish(hotswap_health* health, const hotswap_health_scope* scope,
                                     hotswap_outcome outcome, uint32_t error_class) {
  if (health == nullptr || scope == nullptr) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT, "health and scope must not be NULL");
  }
  if (!valid_outcome(outcome) || !hotswap::detail::error_class_known(error_class)) {
    return fail(HOTSWAP_ERR_INVALID_ARGUMENT,
                "outcome must be HOTSWAP_OUTCOME_OK or _ERROR, error_class 0 or a registered id");
  }
  const int64_t elapsed_ns = monotonic_ns() - scope->start_ns;
  health->recorder.record_for(scope->version, static_cast<hotswap::Outcome>(outcome),
                              std::chrono::microseconds(elapsed_ns / 1000),
                              hotswap::ErrorClass::from_id(error_class));
  return HOTSWAP_OK;
}

}  // extern "C"
