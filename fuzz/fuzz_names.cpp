// Pod names (from POD_NAME or HOSTNAME) and numeric addresses (from POD_IP, DNS answers and
// CLUSTER NODES): a name either parses into a shard and ordinal that format back to it, or is
// refused.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rci/config/pod_name.hpp"
#include "rci/net/address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto name = rci::parse_pod_name(text)) {
    if (rci::format_pod_name(name->prefix, name->shard, name->ordinal) != text) std::abort();
  }
  if (auto ip = rci::net::canonical_ip(text)) {
    if (rci::net::canonical_ip(*ip) != ip) std::abort();  // canonical text is a fixed point
    (void)rci::net::unusable_reason(*ip);
  }
  return 0;
}
