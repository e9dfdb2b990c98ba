// DNS responses to the SRV query, as they come off the wire: the resolver hands the whole
// message to parse_srv_response.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "rci/dns/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto answer = rci::dns::parse_srv_response(std::span<const std::uint8_t>(data, size));
  if (answer && answer->records.size() > rci::dns::max_srv_records) std::abort();
  return 0;
}
