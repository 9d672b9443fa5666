// A reportHealth call off the wire into control's HealthReportCall. Checks
// nothing itself (health/ does) but bounds what it copies: every list and
// name up to one past its limit (health_report.h), so a hostile message
// within the connection's size limit costs no more than a call at the
// limits.
#ifndef HOTSWAP_CONTROL_RPC_HEALTH_DECODE_H_
#define HOTSWAP_CONTROL_RPC_HEALTH_DECODE_H_

#include "health/health_report.h"
#include "hotswap.capnp.h"

namespace hotswap::control {

HealthReportCall decode_health_call(wire::Session::ReportHealthParams::Reader params);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_RPC_HEALTH_DECODE_H_
