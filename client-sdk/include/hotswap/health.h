/* hotswap C API for recording request outcomes (see hotswap/health.hpp):
 * each outcome is counted against the namespace version the request read,
 * in this process's health segment, which the sidecar reports to control
 * for rollout gates. Recording takes no lock and makes no system call.
 * Every function returns a hotswap_status; nothing aborts. */
#ifndef HOTSWAP_HEALTH_H_
#define HOTSWAP_HEALTH_H_

#include <stdint.h>

#include "hotswap/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hotswap_outcome { HOTSWAP_OUTCOME_OK = 0, HOTSWAP_OUTCOME_ERROR = 1 } hotswap_outcome;

typedef struct hotswap_health hotswap_health;

/* One request in progress (hotswap_health_start): the version it counts
 * against and when it started. Plain data, on the caller's stack. */
typedef struct hotswap_health_scope {
  uint64_t version;
  int64_t start_ns; /* CLOCK_MONOTONIC */
} hotswap_health_scope;

/* The recorder of `client`'s namespace; it may outlive the client. */
hotswap_status hotswap_health_open(hotswap_client* client, hotswap_health** out);
void hotswap_health_close(hotswap_health* health);

/* The id of error class `name` (1-47 of [A-Za-z0-9._:-]), registered if
 * new; at most 15 per process. 0 means no class. */
hotswap_status hotswap_health_error_class(const char* name, uint32_t* id);

/* Records one outcome against the version active now. `error_class` is 0
 * or an id from hotswap_health_error_class (ignored for OK). */
hotswap_status hotswap_health_record(hotswap_health* health, hotswap_outcome outcome,
                                     uint64_t latency_us, uint32_t error_class);

/* Takes the active version and the time now into *scope ... */
hotswap_status hotswap_health_start(hotswap_health* health, hotswap_health_scope* scope);
/* ... and records the request against that version, its latency measured
 * from the start. */
hotswap_status hotswap_health_finish(hotswap_health* health, const hotswap_health_scope* scope,
                                     hotswap_outcome outcome, uint32_t error_class);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_HEALTH_H_ */
