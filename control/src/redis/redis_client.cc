#include "redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace hotswap::control {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

RedisReply copy_of(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy_of(*r.element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
  }
  return out;
}

// What a call is about, for its error message: the command's name (never
// its arguments, which may be secrets or large).
std::string name_of(const std::vector<RedisArgs>& commands) {
  if (commands.empty() || commands[0].empty()) return "(nothing)";
  if (commands.size() == 1) return commands[0][0];
  return "pipeline of " + std::to_string(commands.size()) + " from " + commands[0][0];
}

}  // namespace

RedisClient::RedisClient(RedisAddress address, Options options)
    : address_(std::move(address)), options_(options) {}

RedisClient::~RedisClient() {
  if (context_ != nullptr) redisFree(context_);
}

void RedisClient::renew_unless(uint64_t generation) {
  std::lock_guard lock(mu_);
  if (generation == generation_) return;
  generation_ = generation;
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
}

bool RedisClient::connected() const {
  std::lock_guard lock(mu_);
  return context_ != nullptr;
}

RedisError RedisClient::drop(std::string_view command, std::string_view what) {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  return {"redis " + address_.str() + ": " + std::string(command) + ": " + std::string(what), true};
}

std::expected<void, RedisError> RedisClient::ensure_connected(std::string_view command) {
  if (context_ != nullptr) return {};
  const auto now = Clock::now();
  if (!last_error_.empty() && now - last_attempt_ < options_.retry_after) {
    return std::unexpected(RedisError{last_error_, true});
  }
  last_attempt_ = now;
  context_ = redisConnectWithTimeout(address_.host.c_str(), address_.port,
                                     to_timeval(options_.connect_timeout));
  std::string failed;
  if (context_ == nullptr) {
    failed = "cannot allocate a connection";
  } else if (context_->err != 0) {
    failed = std::string("connect failed: ") + context_->errstr;
  } else if (redisSetTimeout(context_, to_timeval(options_.command_timeout)) != REDIS_OK) {
    failed = "cannot set the socket timeout";
  }
  std::vector<RedisArgs> setup;
  if (!address_.password.empty()) setup.push_back({"AUTH", address_.password});
  if (address_.db != 0) setup.push_back({"SELECT", std::to_string(address_.db)});
  if (failed.empty() && !setup.empty()) {
    auto replies = exchange(setup, Clock::now() + options_.command_timeout);
    if (!replies) {
      failed = replies.error().message;
    } else {
      for (const RedisReply& r : *replies) {
        if (r.is_error()) failed = "connection setup refused: " + r.str;
      }
    }
  }
  if (!failed.empty()) {
    last_error_ = drop(command, failed).message;
    return std::unexpected(RedisError{last_error_, true});
  }
  last_error_.clear();
  return {};
}

std::expected<std::vector<RedisReply>, RedisError> RedisClient::exchange(
    const std::vector<RedisArgs>& commands, Clock::time_point deadline) {
  const std::string name = name_of(commands);
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const RedisArgs& args : commands) {
    argv.clear();
    lengths.clear();
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      return std::unexpected(drop(name, "cannot queue the command"));
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      const std::string why = context_->errstr[0] != '\0' ? context_->errstr : "no reply";
      return std::unexpected(drop(name, why));
    }
    replies.push_back(copy_of(*static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
    // Each read is bounded by the socket timeout; the call as a whole by
    // the deadline (a server answering slowly, reply by reply).
    if (i + 1 < commands.size() && Clock::now() > deadline) {
      return std::unexpected(drop(name, "timed out"));  // the rest unread: the connection goes
    }
  }
  return replies;
}

std::expected<RedisReply, RedisError> RedisClient::command(const RedisArgs& args) {
  auto replies = pipeline({args});
  if (!replies) return std::unexpected(replies.error());
  RedisReply& reply = replies->front();
  if (reply.is_error()) {
    return std::unexpected(RedisError{
        "redis " + address_.str() + ": " + (args.empty() ? "" : args[0]) + ": " + reply.str,
        false});
  }
  return std::move(reply);
}

std::expected<std::vector<RedisReply>, RedisError> RedisClient::pipeline(
    const std::vector<RedisArgs>& commands) {
  if (commands.empty()) return std::vector<RedisReply>{};
  std::lock_guard lock(mu_);
  if (auto up = ensure_connected(name_of(commands)); !up) return std::unexpected(up.error());
  return exchange(commands, Clock::now() + options_.command_timeout);
}

}  // namespace hotswap::control
