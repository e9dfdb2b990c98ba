// INFO replication, CLUSTER INFO and `redis-server --version` output, as servers print them.
#include <cstdint>
#include <string_view>

#include "rci/app/server_version.hpp"
#include "rci/redis/info.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)rci::redis::parse_info_fields(text);
  (void)rci::redis::parse_cluster_info(text);
  (void)rci::redis::parse_replication_info(text);
  (void)rci::parse_server_version(text);
  return 0;
}
