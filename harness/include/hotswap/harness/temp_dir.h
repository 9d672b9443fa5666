// A private directory for one test or benchmark run. Nothing here spawns a
// process or opens a socket: unit tests link it alone.
#ifndef HOTSWAP_HARNESS_TEMP_DIR_H_
#define HOTSWAP_HARNESS_TEMP_DIR_H_

#include <string>

namespace hotswap::test {

// A fresh, empty directory under the system's temporary directory, named
// after the process and a random number (so concurrent tests never share
// one). It and everything in it are removed on destruction; a removal that
// fails is ignored.
class TempDir {
 public:
  // Creates the directory; throws std::filesystem::filesystem_error if it
  // cannot.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The absolute path, without a trailing slash.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_TEMP_DIR_H_
