#include "hotswap/harness/test_pki.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "hotswap/harness/process.h"

namespace hotswap::test {
namespace {

void openssl(const std::vector<std::string>& args) {
  // Its chatter (on stderr) joins stdout: shown only if the step fails.
  std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", openssl_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p = Process::spawn(argv);
  const std::string output = p.read_all(std::chrono::seconds(30));
  const auto status = p.wait(std::chrono::seconds(30));
  if (!status || exit_code(*status) != 0) {
    throw std::runtime_error("openssl " + args.front() + " " + args.back() + " failed: " + output);
  }
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// A P-256 key and a certificate request for `subject`.
void request(const std::string& dir, const std::string& name, const std::string& subject) {
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", dir + "/" + name + ".key", "-subj", subject, "-out",
           dir + "/" + name + ".csr"});
}

// Signs `name`.csr with the CA `ca` and the extensions `extensions`.
void sign(const std::string& dir, const std::string& name, const std::string& ca,
          const std::string& extensions) {
  write_file(dir + "/" + name + ".ext", extensions);
  openssl({"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/" + ca + ".crt",
           "-CAkey", dir + "/" + ca + ".key", "-CAcreateserial", "-days", "1", "-sha256",
           "-extfile", dir + "/" + name + ".ext", "-out", dir + "/" + name + ".crt"});
}

void make_ca(const std::string& dir, const std::string& name, const std::string& subject) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", dir + "/" + name + ".key", "-subj", subject, "-days", "1", "-addext",
           "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-out",
           dir + "/" + name + ".crt"});
}

}  // namespace

std::string openssl_binary() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/openssl";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("the openssl command is not installed (scripts/install-deps.sh)");
}

TestPki make_test_pki(const std::string& dir) {
  make_ca(dir, "ca", "/CN=hotswap test CA");
  make_ca(dir, "other-ca", "/CN=hotswap untrusted CA");
  request(dir, "server", "/CN=hotswap-control");
  sign(dir, "server", "ca",
       "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:127.0.0.1\n"
       "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n");
  request(dir, "client", "/CN=hotswap-sidecar");
  sign(dir, "client", "ca", "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n");
  request(dir, "other-client", "/CN=hotswap-intruder");
  sign(dir, "other-client", "other-ca",
       "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n");
  TestPki pki;
  pki.ca_cert = dir + "/ca.crt";
  pki.ca_key = dir + "/ca.key";
  pki.server_cert = dir + "/server.crt";
  pki.server_key = dir + "/server.key";
  pki.client_cert = dir + "/client.crt";
  pki.client_key = dir + "/client.key";
  pki.other_ca_cert = dir + "/other-ca.crt";
  pki.other_client_cert = dir + "/other-client.crt";
  pki.other_client_key = dir + "/other-client.key";
  return pki;
}

}  // namespace hotswap::test
