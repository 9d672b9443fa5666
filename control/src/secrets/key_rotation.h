// Key rotation: re-reads the master key ring, then re-seals every secret
// not under its primary key, a batch of rows per short transaction on a
// thread of its own, so reads and publishes go on meanwhile. Afterwards
// the old keys may leave the ring. One rotation at a time. Thread-safe.
#ifndef HOTSWAP_CONTROL_SECRETS_KEY_ROTATION_H_
#define HOTSWAP_CONTROL_SECRETS_KEY_ROTATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "domain/error.h"
#include "secrets/secret_box.h"
#include "store/secret_rows.h"

namespace hotswap::control {

struct RotationStatus {
  std::string state = "idle";  // idle | running | succeeded | failed
  std::string primary;         // the key it re-seals under
  int64_t to_reseal = 0;       // values not under `primary` when it started
  int64_t resealed = 0;
  std::string error;  // why it failed
  int64_t started_at_ms = 0, finished_at_ms = 0;
};

class KeyRotation {
 public:
  // `box` may be null (no master key): start() then fails.
  KeyRotation(SecretRows& rows, std::shared_ptr<secrets::SecretBox> box, int batch_rows = 64);
  // Waits for a running rotation's current batch and stops it there.
  ~KeyRotation();

  // Re-reads the ring and starts re-sealing; the status it started with.
  // conflict while one runs or without a master key; invalid_argument
  // naming the problem when the ring cannot be re-read (nothing changes).
  Result<RotationStatus> start();
  RotationStatus status() const;
  // Secret values per key id now, the ring's ids and its primary.
  Result<std::map<std::string, int64_t>> counts() const;
  const secrets::SecretBox* box() const { return box_.get(); }

 private:
  void run();
  void finish(std::string error);

  SecretRows& rows_;
  std::shared_ptr<secrets::SecretBox> box_;
  const int batch_rows_;
  mutable std::mutex mu_;
  RotationStatus status_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_SECRETS_KEY_ROTATION_H_
