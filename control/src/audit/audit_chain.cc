#include "audit/audit_chain.h"

#include <string>

#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/sha256.h"

namespace hotswap::control {
namespace {

void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ',';
}

void put(std::string& out, int64_t value) {
  put(out, std::to_string(value));
}

}  // namespace

const std::string& audit_genesis_hash() {
  static const std::string kGenesis(64, '0');
  return kGenesis;
}

std::string audit_canonical(const AuditEvent& e) {
  std::string out;
  out.reserve(512 + e.detail.size());
  put(out, "hotswap-audit-v1");
  put(out, e.id);
  put(out, e.at_ms);
  put(out, e.actor.token_id);
  put(out, e.actor.token_name);
  put(out, e.actor.role);
  put(out, e.action);
  put(out, e.tenant);
  put(out, e.ns);
  put(out, e.object);
  put(out, int64_t{e.status});
  put(out, e.detail);
  put(out, e.client);
  put(out, e.request_id);
  put(out, e.before_digest);
  put(out, e.after_digest);
  put(out, e.prev_hash);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  return protocol::to_hex(protocol::sha256(bytes.data(), bytes.size()));
}

std::string audit_hash(const AuditEvent& e) {
  return sha256_hex(audit_canonical(e));
}

std::optional<AuditBreak> AuditChainCheck::feed(const AuditEvent& e) {
  std::optional<AuditBreak> broken;
  if (e.id != last_id_ + 1) {
    broken = AuditBreak{e.id, "id " + std::to_string(e.id) + " follows " +
                                  std::to_string(last_id_) + ": rows are missing"};
  } else if (e.prev_hash != last_hash_) {
    broken = AuditBreak{e.id, "prev_hash " + e.prev_hash + " is not the hash of the row before (" +
                                  last_hash_ + ")"};
  } else if (const std::string computed = audit_hash(e); computed != e.hash) {
    broken = AuditBreak{e.id,
                        "hash " + e.hash + " does not match the row's contents (" + computed + ")"};
  }
  last_id_ = e.id;
  last_hash_ = e.hash;
  ++rows_;
  return broken;
}

}  // namespace hotswap::control
