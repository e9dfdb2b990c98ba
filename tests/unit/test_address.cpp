// net/address: canonical text of numeric addresses, and the addresses no node can have.
#include <catch2/catch.hpp>

#include "rci/net/address.hpp"

using rci::net::canonical_ip;
using rci::net::unusable_reason;

TEST_CASE("canonical_ip writes addresses as DNS and Redis do", "[address]") {
  CHECK(canonical_ip("10.0.0.3") == "10.0.0.3");
  CHECK(canonical_ip("FE80:0000::0001") == "fe80::1");
  CHECK(canonical_ip("::ffff:10.0.0.3") == "10.0.0.3");  // IPv4-mapped: plain IPv4
  CHECK(canonical_ip("::1") == "::1");
  for (const char* bad : {"", "10.0.3", "10.0.0.256", "fe80::1::2", "localhost", " 10.0.0.3", "10.0.0.3:6379"}) {
    INFO(bad);
    CHECK_FALSE(canonical_ip(bad).has_value());
  }
}

TEST_CASE("unusable_reason refuses what can be no node's address, and only that", "[address]") {
  CHECK(unusable_reason("0.0.0.0") == "is the unspecified address");
  CHECK(unusable_reason("::") == "is the unspecified address");
  CHECK(unusable_reason("255.255.255.255") == "is the broadcast address");
  CHECK(unusable_reason("224.0.0.1") == "is a multicast address");
  CHECK(unusable_reason("239.1.2.3") == "is a multicast address");
  CHECK(unusable_reason("ff02::1") == "is a multicast address");
  for (const char* usable :
       {"10.0.0.3", "223.255.255.255", "240.0.0.1", "127.0.0.1", "ff::1", "fff:1::1", "fe80::1", "fd00::a:b", "::1"}) {
    INFO(usable);
    CHECK_FALSE(unusable_reason(usable).has_value());
  }
}
