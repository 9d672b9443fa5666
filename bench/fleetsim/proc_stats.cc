#include "proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace hotswap::fleetsim {

ProcStats read_proc_stats(pid_t pid) {
  ProcStats stats;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  std::string line;
  int found = 0;
  while (std::getline(status, line)) {
    long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %ld kB", &kb) == 1) {
      stats.rss_mb = static_cast<double>(kb) / 1024.0;
      ++found;
    } else if (std::sscanf(line.c_str(), "VmHWM: %ld kB", &kb) == 1) {
      stats.hwm_mb = static_cast<double>(kb) / 1024.0;
      ++found;
    }
  }
  std::ifstream stat_file(dir + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // The command name may hold spaces and parentheses: fields count from
  // the last ')'. utime and stime are fields 14 and 15.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return stats;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (fields >> field); ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  stats.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  stats.valid = found == 2;
  return stats;
}

}  // namespace hotswap::fleetsim
