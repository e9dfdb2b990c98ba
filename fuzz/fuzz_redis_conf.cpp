// redis.conf text (what `run` reads to find nodes.conf) and the server's command line, split
// into words at NUL bytes, as redis-server reads them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rci/config/redis_conf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)rci::redis_conf::parse(text, "fuzz.conf");
  std::vector<std::string> args;
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find('\0', start), text.size());
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  (void)rci::redis_conf::from_arguments(args);
  return 0;
}
