#include "store/postgres_connection.h"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <utility>

namespace hotswap::control::sql {

namespace {

constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// libpq's NOTICEs (e.g. "table exists, skipping") are not errors.
void ignore_notice(void*, const char*) {}

// Frees a result however the scope ends.
struct ResultFree {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultFree>;

bool succeeded(const PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// The lease session a fenced thread's writes require (Fence); -1: none.
thread_local int fenced_by = -1;

}  // namespace

Fence::Fence(int lease_pid) {
  fenced_by = lease_pid;
}
Fence::~Fence() {
  fenced_by = -1;
}

// The whole result of one statement, run when made (libpq returns every
// row at once); next() walks it.
class PostgresRows final : public Rows {
 public:
  PostgresRows(Result result, std::optional<StoreError> error)
      : result_(std::move(result)), error_(std::move(error)) {}
  StoreResult<bool> next() override {
    if (error_) return std::unexpected(*error_);
    return ++row_ < PQntuples(result_.get());
  }
  int64_t int64(int column) const override {
    const char* value = PQgetvalue(result_.get(), row_, column);
    int64_t number = 0;
    std::from_chars(value, value + PQgetlength(result_.get(), row_, column), number);
    return number;
  }
  std::string text(int column) const override {
    return std::string(PQgetvalue(result_.get(), row_, column),
                       static_cast<size_t>(PQgetlength(result_.get(), row_, column)));
  }
  bool is_null(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }

 private:
  Result result_;
  std::optional<StoreError> error_;
  int row_ = -1;
};

std::string postgres_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // the quote character of the literal or identifier we are in
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote reopens at once
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out += '$';
      continue;
    }
    out += c;
  }
  return out;
}

PGconn* connect_postgres(const std::string& conninfo, const std::string& application_name) {
  // The URL's own settings win over these defaults (expand_dbname: later
  // keywords override earlier ones).
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", application_name.c_str(), conninfo.c_str(), nullptr};
  return PQconnectdbParams(keywords, values, 1);
}

std::string postgres_message(const PGconn* connection) {
  std::string text = connection != nullptr ? PQerrorMessage(connection) : "no memory";
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string redact_conninfo(std::string_view conninfo) {
  std::string text(conninfo);
  if (const size_t scheme = text.find("://"); scheme != std::string::npos) {
    const size_t at = text.find('@', scheme);
    const size_t colon = text.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      text.replace(colon + 1, at - colon - 1, "***");
  }
  for (size_t at = text.find("password="); at != std::string::npos;
       at = text.find("password=", at + 1)) {
    const size_t start = at + 9;
    const size_t end = text.find_first_of(" &", start);
    text.replace(start, (end == std::string::npos ? text.size() : end) - start, "***");
  }
  return text;
}

PostgresConnection::PostgresConnection(pg_conn* handle, std::string conninfo)
    : handle_(handle), conninfo_(std::move(conninfo)) {
  PQsetNoticeProcessor(handle_, ignore_notice, nullptr);
}

StoreResult<std::unique_ptr<PostgresConnection>> PostgresConnection::open(
    const std::string& conninfo) {
  PGconn* handle = connect_postgres(conninfo, "hotswap-control");
  if (handle == nullptr || PQstatus(handle) != CONNECTION_OK) {
    StoreError error{StoreErrorCode::internal, "cannot connect to PostgreSQL '" +
                                                   redact_conninfo(conninfo) +
                                                   "': " + postgres_message(handle)};
    PQfinish(handle);
    return std::unexpected(std::move(error));
  }
  return std::unique_ptr<PostgresConnection>(new PostgresConnection(handle, conninfo));
}

PostgresConnection::~PostgresConnection() {
  PQfinish(handle_);
}

std::unique_ptr<Rows> PostgresConnection::run(std::string_view sql, std::vector<Param> params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size());
    Result prepared(
        PQprepare(handle_, name.c_str(), postgres_placeholders(sql).c_str(), 0, nullptr));
    if (!succeeded(prepared.get())) {
      return std::make_unique<PostgresRows>(nullptr, error("preparing '" + std::string(sql) + "'"));
    }
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  std::vector<std::string> numbers;
  numbers.reserve(params.size());  // never reallocated: the pointers below stay valid
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    if (const auto* number = std::get_if<int64_t>(&params[i])) {
      values[i] = numbers.emplace_back(std::to_string(*number)).c_str();
    } else if (const auto* text = std::get_if<std::string>(&params[i])) {
      values[i] = text->c_str();
    }
  }
  Result result(PQexecPrepared(handle_, it->second.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, 0));
  if (!succeeded(result.get())) {
    return std::make_unique<PostgresRows>(nullptr, error("running '" + std::string(sql) + "'"));
  }
  const char* tuples = PQcmdTuples(result.get());
  changes_ = 0;
  std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), changes_);
  return std::make_unique<PostgresRows>(std::move(result), std::nullopt);
}

StoreResult<void> PostgresConnection::exec_script(std::string_view sql) {
  const std::string script(sql);
  Result result(PQexec(handle_, script.c_str()));
  if (!succeeded(result.get())) return std::unexpected(error("running a script"));
  // A COMMIT of a transaction a failed statement aborted reports success
  // but rolls back: never let that pass for a commit.
  if (script == "COMMIT" && std::string_view(PQcmdStatus(result.get())) != "COMMIT")
    return std::unexpected(error("committing", "the transaction was rolled back"));
  return {};
}

StoreResult<void> PostgresConnection::reconnect_if_lost() {
  if (PQstatus(handle_) == CONNECTION_OK) return {};
  prepared_.clear();
  PQreset(handle_);
  if (PQstatus(handle_) != CONNECTION_OK) return std::unexpected(error("reconnecting"));
  return {};
}

StoreResult<void> PostgresConnection::begin(bool write) {
  HOTSWAP_RETURN_IF_ERROR(reconnect_if_lost());
  if (!write) return exec_script(kBeginRead);
  static const std::string begin_write =
      "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" +
      std::to_string(kWriteLockKey) + ")";
  HOTSWAP_RETURN_IF_ERROR(exec_script(begin_write));
  if (fenced_by < 0) return {};
  auto held =
      run("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
          "pid = ?1 AND ((classid::bigint << 32) | objid::bigint) = ?2",
          {int64_t{fenced_by}, kLeaderLockKey});
  auto row = held->next();
  if (row && *row && held->int64(0) == 1) return {};
  rollback();
  return std::unexpected(
      StoreError{StoreErrorCode::conflict, "this replica no longer holds the leader lease"});
}

void PostgresConnection::rollback() {
  if (PQstatus(handle_) != CONNECTION_OK) return;
  if (PQtransactionStatus(handle_) == PQTRANS_IDLE) return;
  Result result(PQexec(handle_, "ROLLBACK"));
}

int PostgresConnection::backend_pid() const {
  return PQbackendPID(handle_);
}

StoreError PostgresConnection::error(std::string_view doing, std::string_view message) const {
  const std::string said = message.empty() ? postgres_message(handle_) : std::string(message);
  return StoreError{StoreErrorCode::internal, "PostgreSQL '" + redact_conninfo(conninfo_) +
                                                  "': " + std::string(doing) + ": " + said};
}

}  // namespace hotswap::control::sql
