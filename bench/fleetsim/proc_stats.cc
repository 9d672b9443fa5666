#include "proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace hotswap::fleetsim {

namespace {

// The fields of /proc/<pid>/stat from the third (state) on, empty when it
// cannot be read. The command name may hold spaces and parentheses:
// fields count from the last ')'.
std::vector<std::string> stat_fields(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return {};
  std::istringstream in(stat.substr(close + 2));
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

// Field `n` (1-based, as proc(5) counts) of `fields` as a number; 0 when absent.
double field(const std::vector<std::string>& fields, size_t n) {
  return n >= 3 && n - 3 < fields.size() ? std::stod(fields[n - 3]) : 0;
}

double ticks_to_s(double ticks) {
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The value in kB of the line `name:` of a /proc key-value file, -1 if absent.
long kb_of(const std::string& path, const char* name) {
  std::ifstream in(path);
  const std::string prefix = std::string(name) + ":";
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

}  // namespace

ProcStats read_proc_stats(pid_t pid) {
  ProcStats stats;
  const std::string status = "/proc/" + std::to_string(pid) + "/status";
  const long rss = kb_of(status, "VmRSS"), hwm = kb_of(status, "VmHWM");
  const auto fields = stat_fields(pid);
  stats.rss_mb = static_cast<double>(rss) / 1024.0;
  stats.hwm_mb = static_cast<double>(hwm) / 1024.0;
  stats.cpu_s = ticks_to_s(field(fields, 14) + field(fields, 15));  // utime + stime
  stats.valid = rss >= 0 && hwm >= 0 && !fields.empty();
  return stats;
}

ProcStats read_process_tree_stats(pid_t root) {
  ProcStats stats;
  const auto own = stat_fields(root);
  const long own_pss = kb_of("/proc/" + std::to_string(root) + "/smaps_rollup", "Pss");
  if (own.empty() || own_pss < 0) return stats;
  // utime + stime + cutime + cstime
  double ticks = field(own, 14) + field(own, 15) + field(own, 16) + field(own, 17);
  long pss_kb = own_pss;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return stats;
  while (const dirent* entry = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atol(entry->d_name));
    if (pid <= 0 || pid == root) continue;
    const auto fields = stat_fields(pid);
    if (fields.empty() || field(fields, 4) != root) continue;  // 4: the parent
    ticks += field(fields, 14) + field(fields, 15);
    // A child gone since its stat was read adds no memory.
    pss_kb += std::max(0L, kb_of("/proc/" + std::to_string(pid) + "/smaps_rollup", "Pss"));
  }
  ::closedir(proc);
  stats.rss_mb = static_cast<double>(pss_kb) / 1024.0;
  stats.cpu_s = ticks_to_s(ticks);
  stats.valid = true;
  return stats;
}

}  // namespace hotswap::fleetsim
