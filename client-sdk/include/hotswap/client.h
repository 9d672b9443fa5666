/* hotswap C API: lock-free reads of the configuration a hotswap sidecar
 * publishes into shared memory, for applications in languages other than
 * C++. Every function returns a hotswap_status; no function aborts or throws.
 * A client and its handles may be used from any number of threads; a client
 * must outlive its handles. */
#ifndef HOTSWAP_CLIENT_H_
#define HOTSWAP_CLIENT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hotswap_status {
  HOTSWAP_OK = 0,
  HOTSWAP_ERR_NOT_FOUND = 1,           /* no such key in the active snapshot */
  HOTSWAP_ERR_TYPE_MISMATCH = 2,       /* the key holds another type */
  HOTSWAP_ERR_NO_SEGMENT = 3,          /* no sidecar has published this namespace */
  HOTSWAP_ERR_NO_SNAPSHOT = 4,         /* the namespace exists but nothing is active */
  HOTSWAP_ERR_INCOMPATIBLE_LAYOUT = 5, /* written by an unknown layout version */
  HOTSWAP_ERR_CORRUPT = 6,             /* checksum, size or offset check failed */
  HOTSWAP_ERR_PERMISSION_DENIED = 7,
  HOTSWAP_ERR_TIMEOUT = 8,
  HOTSWAP_ERR_INVALID_ARGUMENT = 9,
  HOTSWAP_ERR_IO = 10,
  HOTSWAP_ERR_BUFFER_TOO_SMALL = 11, /* *len holds the size needed */
  HOTSWAP_ERR_BUSY = 12,             /* another writer owns the namespace */
  HOTSWAP_ERR_NOT_RESIDENT = 13      /* the version is not held in shared memory */
} hotswap_status;

/* Value types, as stored in shared memory. */
typedef enum hotswap_type {
  HOTSWAP_TYPE_INT64 = 1,
  HOTSWAP_TYPE_DOUBLE = 2,
  HOTSWAP_TYPE_BOOL = 3,
  HOTSWAP_TYPE_STRING = 4,
  HOTSWAP_TYPE_JSON = 5,
  HOTSWAP_TYPE_DURATION = 6 /* nanoseconds, int64 */
} hotswap_type;

typedef struct hotswap_client hotswap_client;
typedef struct hotswap_handle hotswap_handle;

/* A short, static description of a status. */
const char* hotswap_status_string(hotswap_status status);

/* The message of the last failed call on this thread ("" if none). Valid
 * until the next call on this thread. */
const char* hotswap_last_error(void);

/* How hotswap_open_with attaches to a namespace; mirrors the C++
 * ClientOptions. Fill one with hotswap_open_options_init, then change the
 * fields you need: `size` lets a later release add fields at the end and
 * still read structs compiled against this header. */
typedef struct hotswap_open_options {
  size_t size;             /* sizeof(hotswap_open_options), set by _init */
  const char* scope;       /* the sidecar's --scope (0-63 of [a-z0-9-]); NULL or "": the
                              HOTSWAP_SCOPE environment variable if set, else no scope */
  int verify_checksum;     /* nonzero (default): check each version's full data
                              checksum when it is first read (about 7 ms per 64 MiB) */
  size_t copy_up_to;       /* versions up to this many bytes (default 16 MiB) are copied
                              into the process once; larger ones are mapped and shared */
  int64_t open_timeout_ms; /* how long to wait for the namespace to be published: for
                              its segment (HOTSWAP_ERR_NO_SEGMENT after that), then for a
                              first version; 0 (default): fail at once */
} hotswap_open_options;

/* Sets every field to its default. */
void hotswap_open_options_init(hotswap_open_options* options);

/* Opens the namespace `ns` (e.g. "acme/checkout-prod") with default
 * options: the scope comes from HOTSWAP_SCOPE when it is set. */
hotswap_status hotswap_open(const char* ns, hotswap_client** out);
/* Opens `ns` with `options` (NULL: the defaults). HOTSWAP_ERR_INVALID_ARGUMENT
 * for a bad name or scope, a negative timeout or an unknown options size. */
hotswap_status hotswap_open_with(const char* ns, const hotswap_open_options* options,
                                 hotswap_client** out);
void hotswap_close(hotswap_client* client);

hotswap_status hotswap_get_int64(hotswap_client* client, const char* key, int64_t* out);
hotswap_status hotswap_get_double(hotswap_client* client, const char* key, double* out);
hotswap_status hotswap_get_bool(hotswap_client* client, const char* key, int* out);
hotswap_status hotswap_get_duration_ns(hotswap_client* client, const char* key, int64_t* out);
/* Copies a string or JSON value and a terminating NUL into buf. *len gets the
 * value's length without the NUL; HOTSWAP_ERR_BUFFER_TOO_SMALL if cap <= *len. */
hotswap_status hotswap_get_string(hotswap_client* client, const char* key, char* buf, size_t cap,
                                  size_t* len);

/* The type of `key`'s value in the active version. */
hotswap_status hotswap_get_type(hotswap_client* client, const char* key, hotswap_type* out);

/* Handles resolve a key once and then read it in nanoseconds. `type` is one
 * of the scalar types (int64, double, bool, duration). */
hotswap_status hotswap_handle_open(hotswap_client* client, const char* key, hotswap_type type,
                                   hotswap_handle** out);
void hotswap_handle_close(hotswap_handle* handle);
hotswap_status hotswap_handle_int64(hotswap_handle* handle, int64_t* out);
hotswap_status hotswap_handle_double(hotswap_handle* handle, double* out);
hotswap_status hotswap_handle_bool(hotswap_handle* handle, int* out);
hotswap_status hotswap_handle_duration_ns(hotswap_handle* handle, int64_t* out);

/* The active version of the namespace. */
hotswap_status hotswap_version(hotswap_client* client, uint64_t* version);

/* Blocks (without spinning) until the active snapshot changes after the
 * previous wait on this client returned (or after open), or timeout_ms
 * passes. On success *version is the new active version. */
hotswap_status hotswap_wait_for_change(hotswap_client* client, int64_t timeout_ms,
                                       uint64_t* version);

/* ---- snapshots: one consistent version, its keys in order ---- */

typedef struct hotswap_snapshot hotswap_snapshot;

/* One key and its value. `key` and `text` point into the snapshot and stay
 * valid while it is open; neither is NUL-terminated. */
typedef struct hotswap_entry {
  const char* key;
  size_t key_len;
  hotswap_type type;
  int64_t int64_value; /* INT64, DURATION (nanoseconds), BOOL (0 or 1) */
  double double_value; /* DOUBLE */
  const char* text;    /* STRING, JSON */
  size_t text_len;
} hotswap_entry;

/* The active version, held until hotswap_snapshot_close: later publishes do
 * not change what it reads. HOTSWAP_ERR_NO_SNAPSHOT if none is active. */
hotswap_status hotswap_snapshot_open(hotswap_client* client, hotswap_snapshot** out);
void hotswap_snapshot_close(hotswap_snapshot* snapshot);
hotswap_status hotswap_snapshot_version(const hotswap_snapshot* snapshot, uint64_t* version);
/* The number of keys. */
hotswap_status hotswap_snapshot_size(const hotswap_snapshot* snapshot, size_t* count);
/* The entry at `index` in key order (bytewise); HOTSWAP_ERR_NOT_FOUND past
 * the end. Reading the indexes in increasing order costs O(1) each. */
hotswap_status hotswap_snapshot_entry(hotswap_snapshot* snapshot, size_t index, hotswap_entry* out);
/* The entry of `key` (key_len bytes); HOTSWAP_ERR_NOT_FOUND if absent. */
hotswap_status hotswap_snapshot_find(const hotswap_snapshot* snapshot, const char* key,
                                     size_t key_len, hotswap_entry* out);

/* ---- change callbacks ---- */

typedef struct hotswap_subscription hotswap_subscription;
typedef void (*hotswap_change_callback)(uint64_t version, void* user_data);

/* Calls `callback(version, user_data)` on a watcher thread of the SDK after
 * each change of the active version, until hotswap_subscription_close. */
hotswap_status hotswap_on_change(hotswap_client* client, hotswap_change_callback callback,
                                 void* user_data, hotswap_subscription** out);
/* Unregisters the callback; when it returns the callback is not running
 * and will not run again (called from the callback itself, that call
 * finishes first). May be called after hotswap_close of its client. */
void hotswap_subscription_close(hotswap_subscription* subscription);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_CLIENT_H_ */
