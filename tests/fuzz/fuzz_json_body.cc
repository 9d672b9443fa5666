// Fuzz target over how control reads REST request bodies: parse_object
// (the strict JSON reader: duplicate keys, NUL bytes, depth), then each
// route's Fields reads as the handlers make them, and the typed values of a
// draft entry or a publish's entries (parse_typed, check_key).
//
// Properties: an accepted body is an object; when Fields reports no error,
// every required field was there; an accepted typed value is canonical:
// rendered back to JSON (typed_to_json) it parses to itself, and it turns
// into an SDK value without throwing. And the publish body's own reader
// (read_publish_body, simdjson) reads only what parse_object accepts, to
// the same fields and the same entries: each entry's value, or its error,
// is the one parse_typed gives.
#include <string>
#include <string_view>

#include "domain/names.h"
#include "domain/values.h"
#include "exact_bytes.h"
#include "fuzz_target.h"
#include "rest/json_body.h"
#include "rest/publish_body.h"

namespace hotswap::fuzz {
namespace {

using control::Fields;
using nlohmann::json;

// A required field read without error must have a value.
template <class T>
void check_required(const Fields& f, const std::optional<T>& value, const char* name) {
  if (!f.error() && !value) fail(std::string("required field '") + name + "' missing, no error");
}

void check_typed(const json& typed) {
  auto value = control::parse_typed(typed);
  if (!value) return;
  const json rendered = control::typed_to_json(*value);
  json form = {{"type", rendered["type"]}, {"value", rendered["value"]}};
  auto again = control::parse_typed(form);
  if (!again)
    fail("typed value " + typed.dump() + " rendered as " + form.dump() + ": " + again.error());
  if (!(*again == *value)) fail("typed value " + typed.dump() + " is not canonical");
  (void)control::to_value(*value);
}

// POST /tenants, /tenants/{t}/namespaces, /deployments/{id}/cancel.
void small_bodies(const json& body) {
  Fields tenant(body, {"name"});
  check_required(tenant, tenant.string("name", true), "name");
  Fields ns(body, {"name", "description"});
  check_required(ns, ns.string("name", true), "name");
  (void)ns.string("description", false);
  Fields cancel(body, {"author"});
  (void)cancel.string("author", false);
}

// POST /namespaces/{t}/{n}/versions: the publish, its entries, its deploy.
void publish_body(const json& body) {
  Fields f(body, {"message", "author", "expected_parent", "entries", "deploy"});
  (void)f.string("message", false);
  (void)f.string("author", false);
  (void)f.u64("expected_parent", false);
  const bool has_entries = f.has_object("entries", false);
  const auto deploy = f.object("deploy", false);
  if (f.error()) return;
  if (has_entries) {
    for (const auto& [key, typed] : body["entries"].items()) {
      if (control::check_key(key).empty()) check_typed(typed);
    }
  }
  if (deploy) {
    Fields d(*deploy, {"strategy", "selector"}, "deploy.");
    (void)d.string("strategy", false);
    (void)d.string_map("selector");
  }
}

// POST /deployments.
void deployment_body(const json& body) {
  Fields f(body, {"namespace", "version", "strategy", "selector", "author"});
  check_required(f, f.string("namespace", true), "namespace");
  check_required(f, f.u64("version", true), "version");
  (void)f.string("strategy", false);
  (void)f.string_map("selector");
  (void)f.string("author", false);
}

// What the publish body's reader made of `text`, against parse_object's
// `general` (nullopt when it refused the text).
void same_publish(std::string_view text, const std::optional<json>& general) {
  auto fast = control::read_publish_body(text);
  if (!fast) return;  // left to parse_object: always allowed
  if (!general) fail("read_publish_body read a body parse_object refuses");
  json fields = *general;
  fields.erase("entries");
  if (fast->fields != fields)
    fail("fields differ: " + fast->fields.dump() + " vs " + fields.dump());
  if (fast->entries.has_value() != general->contains("entries")) fail("entries present differ");
  if (!fast->entries) return;
  const json& entries = (*general)["entries"];
  if (fast->entries->size() != entries.size()) fail("entry counts differ");
  for (const control::SentEntry& e : *fast->entries) {
    if (!entries.contains(e.key)) fail("entry '" + e.key + "' not in parse_object's");
    auto expected = control::parse_typed(entries[e.key]);
    auto got = control::typed_value(e.type, e.value, e.secret);
    if (expected.has_value() != got.has_value() ||
        (expected ? !(*expected == *got) : expected.error() != got.error())) {
      fail("entry '" + e.key + "' reads differently");
    }
  }
}

}  // namespace

bool run_one(const uint8_t* data, size_t size) {
  ExactBytes text(data, size);
  const std::string_view bytes(text.data(), text.size());
  auto body = control::parse_object(bytes);
  same_publish(bytes, body ? std::optional<json>(*body) : std::nullopt);
  if (!body) return false;
  if (!body->is_object()) fail("parse_object accepted a non-object");
  small_bodies(*body);
  publish_body(*body);
  deployment_body(*body);
  check_typed(*body);  // PUT /namespaces/{t}/{n}/draft/{key}
  return true;
}

}  // namespace hotswap::fuzz
