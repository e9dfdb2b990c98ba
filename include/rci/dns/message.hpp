#pragma once
// Reads a DNS response to an SRV query: the SRV records of the answer section and the A/AAAA
// records of the additional section (where CoreDNS and dnsmasq put the targets' addresses, so
// one query gives every pod's name and address). A pure function over bytes from the network:
// every length and offset is checked, compressed names are followed a bounded number of times,
// and a message that breaks the format is an error, never a read out of bounds.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "rci/util/error.hpp"

namespace rci::dns {

// One SRV record; `target` in lower case, without the trailing dot.
struct SrvRecord {
  std::string target;
  int port = 0;
  int priority = 0;
  int weight = 0;
  bool operator==(const SrvRecord&) const = default;
};

struct SrvAnswer {
  std::vector<SrvRecord> records;
  // Addresses the additional section gives the targets, by target (lower case, no trailing
  // dot), in the canonical text of net/address (IPv4 dotted, IPv6 as inet_ntop writes it). They
  // only save lookups: a record there that cannot be read ends them, a target given two
  // different addresses of one family gets none; the answer section must be whole.
  std::map<std::string, std::vector<std::string>> addresses;
  bool truncated = false;  // the TC bit: a UDP answer that did not fit
};

// The most records one answer may hold: far above any cluster (a 1000-pod cluster fits), far
// below what would let a peer make us allocate without bound.
inline constexpr size_t max_srv_records = 4096;

// Parses a whole response message. Records of other types and classes are skipped; the
// response code is not checked here (the resolver has).
Result<SrvAnswer> parse_srv_response(std::span<const std::uint8_t> message);

}  // namespace rci::dns
