// The event that tells of a deployment's step (stage promoted, rolled
// back, completed, ended), with what a receiver needs to find it.
#ifndef HOTSWAP_CONTROL_NOTIFY_DEPLOYMENT_EVENT_H_
#define HOTSWAP_CONTROL_NOTIFY_DEPLOYMENT_EVENT_H_

#include <string>

#include "domain/types.h"
#include "notify/notifier.h"

namespace hotswap::control {

// `stage` from 1; 0 leaves it out. `reason` empty leaves it out.
inline Event deployment_event(const std::string& type, const Deployment& d, int stage,
                              const std::string& reason) {
  Event e{type,
          {{"deployment", d.id},
           {"namespace", d.namespace_id.str()},
           {"version", d.version},
           {"strategy", to_string(d.strategy)},
           {"state", to_string(d.state)},
           {"author", d.author}}};
  if (stage > 0) e.fields["stage"] = stage;
  if (!reason.empty()) e.fields["reason"] = reason;
  return e;
}

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_NOTIFY_DEPLOYMENT_EVENT_H_
