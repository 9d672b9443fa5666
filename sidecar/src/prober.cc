#include "prober.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <optional>

#include "hotswap/client.hpp"
#include "hotswap/str_cat.h"
#include "hotswap/telemetry/log_format.h"

namespace hotswap::sidecar {
namespace {

size_t discard_body(char*, size_t size, size_t count, void*) {
  return size * count;
}

// One GET: the status code, or nullopt with the reason in *error.
std::optional<long> get(CURL* curl, const std::string& url, std::chrono::milliseconds timeout,
                        std::string* error) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    *error = curl_easy_strerror(code);
    return std::nullopt;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

}  // namespace

std::expected<ProbeTarget, Error> parse_probe(const std::string& flag) {
  const auto eq = flag.find('=');
  if (eq == std::string::npos || eq == 0) {
    return std::unexpected(
        Error{ErrorCode::invalid_argument, str_cat("--probe '", flag, "': expected NS=URL")});
  }
  ProbeTarget target{flag.substr(0, eq), flag.substr(eq + 1)};
  if (!target.url.starts_with("http://") && !target.url.starts_with("https://")) {
    return std::unexpected(
        Error{ErrorCode::invalid_argument,
              str_cat("--probe '", flag, "': the URL must start with http:// or https://")});
  }
  return target;
}

Prober::Prober(std::vector<ProbeTarget> targets, Options options) : options_(std::move(options)) {
  for (ProbeTarget& target : targets) {
    threads_.emplace_back([this, target = std::move(target)] { run(target); });
  }
}

Prober::~Prober() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

HealthByKey Prober::take() {
  std::lock_guard lock(mu_);
  return std::exchange(counted_, {});
}

void Prober::count(const std::string& ns, uint64_t version, bool ok, uint64_t latency_us) {
  std::lock_guard lock(mu_);
  VersionHealth& into = counted_[{ns, version}];
  into.outcomes.latency.record(latency_us);
  if (ok) {
    ++into.outcomes.ok;
    ++into.probe_ok;
  } else {
    ++into.outcomes.errors;
    ++into.probe_errors;
  }
}

void Prober::run(const ProbeTarget& target) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    spdlog::error("event=probe_failed ns={} error=\"curl_easy_init failed\"", target.ns);
    return;
  }
  std::optional<Client> client;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (!client) {
      if (auto opened = Client::open(target.ns, {.scope = options_.scope}))
        client.emplace(std::move(*opened));
    }
    // The version the node runs now: the probe's outcome is that version's.
    const auto version = client ? client->version() : std::expected<uint64_t, Error>(0);
    if (version && *version != 0) {
      std::string error;
      const auto start = std::chrono::steady_clock::now();
      const std::optional<long> status = get(curl, target.url, options_.timeout, &error);
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
      const bool ok = status && *status >= 200 && *status < 300;
      if (!ok) {
        spdlog::debug("event=probe_error ns={} version={} url={} status={} error=\"{}\"", target.ns,
                      *version, target.url, status.value_or(0), telemetry::escape_quoted(error));
      }
      count(target.ns, *version, ok, static_cast<uint64_t>(us));
    } else {
      spdlog::debug("event=probe_skipped ns={} reason=\"no version active yet\"", target.ns);
    }
    lock.lock();
    stop_cv_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
  lock.unlock();
  curl_easy_cleanup(curl);
}

}  // namespace hotswap::sidecar
