#include "rci/net/address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>

namespace rci::net {

std::string Endpoint::to_string() const {
  if (family() == Family::ipv6) return fmt::format("[{}]:{}", ip, port);
  return fmt::format("{}:{}", ip, port);
}

std::optional<std::string> canonical_ip(const std::string& text) {
  unsigned char bytes[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    if (::inet_ntop(AF_INET, bytes, out, sizeof out) != nullptr) return std::string(out);
    return std::nullopt;
  }
  if (::inet_pton(AF_INET6, text.c_str(), bytes) != 1) return std::nullopt;
  in6_addr address;
  std::memcpy(&address, bytes, sizeof address);
  const bool mapped = IN6_IS_ADDR_V4MAPPED(&address);
  if (::inet_ntop(mapped ? AF_INET : AF_INET6, mapped ? bytes + 12 : bytes, out, sizeof out) == nullptr) {
    return std::nullopt;
  }
  return std::string(out);
}

std::optional<std::string> unusable_reason(const std::string& ip) {
  unsigned char bytes[sizeof(in6_addr)] = {};
  if (::inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    if (bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0) return "is the unspecified address";
    if (bytes[0] == 255 && bytes[1] == 255 && bytes[2] == 255 && bytes[3] == 255) return "is the broadcast address";
    if (bytes[0] >= 224 && bytes[0] <= 239) return "is a multicast address";
    return std::nullopt;
  }
  if (::inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
    in6_addr address;
    std::memcpy(&address, bytes, sizeof address);
    if (IN6_IS_ADDR_UNSPECIFIED(&address)) return "is the unspecified address";
    if (bytes[0] == 0xff) return "is a multicast address";
  }
  return std::nullopt;
}

}  // namespace rci::net
