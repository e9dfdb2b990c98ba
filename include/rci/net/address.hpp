#pragma once
// Numeric IP addresses as the cluster bus takes them: one canonical text form, which
// addresses can never be a node's, and an address with its port.

#include <optional>
#include <string>

namespace rci::net {

enum class Family { ipv4, ipv6 };

// Where a server listens: a numeric address and its port (names are resolved beforehand: the
// cluster bus takes IPs).
struct Endpoint {
  std::string ip;
  int port = 0;
  Family family() const { return ip.find(':') != std::string::npos ? Family::ipv6 : Family::ipv4; }
  // "ip:port", with brackets around IPv6 literals.
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
  auto operator<=>(const Endpoint&) const = default;
};

// The address in the form inet_ntop gives (IPv6 lower-case and compressed, an IPv4-mapped IPv6
// address as plain IPv4, as DNS and Redis give them); nullopt when `text` is not a numeric IPv4
// or IPv6 address.
std::optional<std::string> canonical_ip(const std::string& text);

// Why `ip` (a numeric address) can be no node's address, e.g. "is a multicast address";
// nullopt for an address a node may have. Refused: the unspecified addresses, the IPv4
// broadcast address and multicast groups (224.0.0.0/4, ff00::/8).
std::optional<std::string> unusable_reason(const std::string& ip);

}  // namespace rci::net
