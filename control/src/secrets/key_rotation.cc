#include "secrets/key_rotation.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "hotswap/telemetry/log_format.h"
#include "store/results.h"

namespace hotswap::control {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

KeyRotation::KeyRotation(SecretRows& rows, std::shared_ptr<secrets::SecretBox> box, int batch_rows)
    : rows_(rows), box_(std::move(box)), batch_rows_(batch_rows) {}

KeyRotation::~KeyRotation() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

Result<RotationStatus> KeyRotation::start() {
  std::lock_guard lock(mu_);
  if (box_ == nullptr) {
    return std::unexpected(Error{ErrorCode::conflict,
                                 "control has no master key (--master-key-file or "
                                 "HOTSWAP_MASTER_KEY): there is nothing to rotate",
                                 {}});
  }
  if (status_.state == "running") {
    return std::unexpected(Error{ErrorCode::conflict,
                                 "a key rotation is running (" + std::to_string(status_.resealed) +
                                     " of " + std::to_string(status_.to_reseal) + " re-sealed)",
                                 {}});
  }
  if (auto reloaded = box_->reload(); !reloaded) {
    return std::unexpected(invalid_argument(reloaded.error() + "; nothing was re-sealed"));
  }
  auto by_key = lift(rows_.secret_counts());
  if (!by_key) return std::unexpected(by_key.error());
  if (worker_.joinable()) worker_.join();
  status_ = RotationStatus{};
  status_.state = "running";
  status_.primary = box_->primary_id();
  for (const auto& [key_id, n] : *by_key) {
    if (key_id != status_.primary) status_.to_reseal += n;
  }
  status_.started_at_ms = now_ms();
  spdlog::info("event=key_rotation state=running primary={} to_reseal={}", status_.primary,
               status_.to_reseal);
  worker_ = std::thread([this] { run(); });
  return status_;
}

void KeyRotation::run() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return finish("control stopped before the rotation finished");
    }
    auto resealed = rows_.reseal_batch(batch_rows_);
    if (!resealed) return finish(resealed.error().message);
    if (*resealed == 0) return finish("");
    std::lock_guard lock(mu_);
    status_.resealed += *resealed;
  }
}

void KeyRotation::finish(std::string error) {
  std::lock_guard lock(mu_);
  status_.state = error.empty() ? "succeeded" : "failed";
  status_.error = std::move(error);
  status_.finished_at_ms = now_ms();
  if (status_.error.empty()) {
    spdlog::info("event=key_rotation state=succeeded primary={} resealed={}", status_.primary,
                 status_.resealed);
  } else {
    spdlog::error("event=key_rotation state=failed primary={} resealed={} error=\"{}\"",
                  status_.primary, status_.resealed, telemetry::escape_quoted(status_.error));
  }
}

RotationStatus KeyRotation::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

Result<std::map<std::string, int64_t>> KeyRotation::counts() const {
  return lift(rows_.secret_counts());
}

}  // namespace hotswap::control
