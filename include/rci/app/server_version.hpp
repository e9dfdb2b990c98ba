#pragma once
// Which server `run` starts: its version decides which settings it may be given on its command
// line (an unknown directive makes redis-server refuse to start: Redis 6.2 has no
// cluster-announce-hostname).

#include <optional>
#include <string>
#include <string_view>

#include "rci/util/clock.hpp"

namespace rci {

struct ServerVersion {
  int major = 0;
  int minor = 0;
  bool operator==(const ServerVersion&) const = default;
};

// The version in `--version` output: "Redis server v=7.0.15 sha=..." or "Valkey server
// v=8.0.1 ...". Nothing when the text has no v=<major>.<minor>.
std::optional<ServerVersion> parse_server_version(std::string_view text);

// Runs `program --version` (at most `budget`) and parses its output; nothing when it cannot be
// run, does not finish in time or prints no version (a wrapper script, say).
std::optional<ServerVersion> ask_server_version(const std::string& program, Millis budget);

}  // namespace rci
