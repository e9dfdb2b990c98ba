#pragma once
// `install <dir>`: what the initContainer runs to put this binary into a shared volume.

#include <string>

#include "rci/util/error.hpp"

namespace rci {

// Copies the running executable to `<dir>/redis-cluster-init` atomically (a temporary file
// in the same directory, fsynced, mode 0755, renamed over the target) and returns its path.
Result<std::string> install_self(const std::string& dir);

}  // namespace rci
