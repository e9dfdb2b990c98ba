#pragma once
// Pod names carry the shard layout: `<prefix>-shard<S>-<O>`, e.g. `redis-shard1-0`.

#include <expected>
#include <string>
#include <string_view>

namespace rci {

struct PodName {
  std::string prefix;  // the database name, e.g. "redis"
  int shard = 0;       // S: which shard (StatefulSet) this pod belongs to
  int ordinal = 0;     // O: the StatefulSet ordinal; 0 is the shard's master at creation

  bool operator==(const PodName&) const = default;
};

// Parses a pod name exactly: the last two dash-separated fields must be `shard<digits>` and
// `<digits>`; nothing is matched by substring. On failure returns a message saying what was
// expected.
std::expected<PodName, std::string> parse_pod_name(std::string_view name);

// The pod name of shard `shard`, ordinal `ordinal` in the layout of `prefix`.
std::string format_pod_name(std::string_view prefix, int shard, int ordinal);

}  // namespace rci
