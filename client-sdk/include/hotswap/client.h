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
  HOTSWAP_ERR_NOT_FOUND = 1,            /* no such key in the active snapshot */
  HOTSWAP_ERR_TYPE_MISMATCH = 2,        /* the key holds another type */
  HOTSWAP_ERR_NO_SEGMENT = 3,           /* no sidecar has published this namespace */
  HOTSWAP_ERR_NO_SNAPSHOT = 4,          /* the namespace exists but nothing is active */
  HOTSWAP_ERR_INCOMPATIBLE_LAYOUT = 5,  /* written by an unknown layout version */
  HOTSWAP_ERR_CORRUPT = 6,              /* checksum, size or offset check failed */
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

/* Opens the namespace `ns` (e.g. "acme/checkout-prod"). */
hotswap_status hotswap_open(const char* ns, hotswap_client** out);
void hotswap_close(hotswap_client* client);

hotswap_status hotswap_get_int64(hotswap_client* client, const char* key, int64_t* out);
hotswap_status hotswap_get_double(hotswap_client* client, const char* key, double* out);
hotswap_status hotswap_get_bool(hotswap_client* client, const char* key, int* out);
hotswap_status hotswap_get_duration_ns(hotswap_client* client, const char* key, int64_t* out);
/* Copies a string or JSON value and a terminating NUL into buf. *len gets the
 * value's length without the NUL; HOTSWAP_ERR_BUFFER_TOO_SMALL if cap <= *len. */
hotswap_status hotswap_get_string(hotswap_client* client, const char* key, char* buf, size_t cap,
                                  size_t* len);

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

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_CLIENT_H_ */
