// hotswapctl: release tooling over hotswap-control's REST API (cli/README.md).
#include <unistd.h>

#include <iostream>

#include "app.h"

int main(int argc, char** argv) {
  return hotswap::cli::run(argc, argv, std::cin, std::cout, std::cerr, hotswap::cli::make_http_api,
                           hotswap::cli::terminal_of(STDOUT_FILENO));
}
