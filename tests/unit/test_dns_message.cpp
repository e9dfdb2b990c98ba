// dns/message: SRV responses as servers send them (compressed names, addresses in the
// additional section), and every way a hostile or broken message can go wrong.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "rci/dns/message.hpp"

using namespace rci;
using Bytes = std::vector<std::uint8_t>;

namespace {

void put16(Bytes& out, unsigned value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

void put_name(Bytes& out, const std::string& name) {
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

// A response message built record by record, as a DNS server would write it: the body here,
// the header (with the record counts) when it is done.
struct Message {
  Bytes body;
  unsigned flags;
  unsigned answers = 0, additionals = 0;
  static constexpr size_t header_size = 12;

  explicit Message(const std::string& question, unsigned response_flags = 0x8580) : flags(response_flags) {
    put_name(body, question);
    put16(body, 33);
    put16(body, 1);
  }
  size_t offset() const { return header_size + body.size(); }
  static size_t question_name_at() { return header_size; }
  void header(unsigned type, unsigned length, const Bytes& owner) {
    for (auto byte : owner) body.push_back(byte);
    put16(body, type);
    put16(body, 1);
    put16(body, 0);
    put16(body, 5);  // TTL
    put16(body, length);
  }
  // An SRV answer owned by the question's name (a pointer to it), with `target` spelt out;
  // returns where the target's name starts, for pointers to it.
  size_t srv(const std::string& target, unsigned port) {
    Bytes rdata;
    put16(rdata, 0);
    put16(rdata, 10);
    put16(rdata, port);
    const size_t target_at = offset() + 2 + 10 + 6;
    put_name(rdata, target);
    header(33, static_cast<unsigned>(rdata.size()), pointer(question_name_at()));
    for (auto byte : rdata) body.push_back(byte);
    ++answers;
    return target_at;
  }
  void a(const Bytes& owner, std::initializer_list<std::uint8_t> ip) {
    header(ip.size() == 4 ? 1 : 28, static_cast<unsigned>(ip.size()), owner);
    for (auto byte : ip) body.push_back(byte);
    ++additionals;
  }
  static Bytes pointer(size_t at) {
    return {static_cast<std::uint8_t>(0xC0 | (at >> 8)), static_cast<std::uint8_t>(at & 0xFF)};
  }
  Bytes done() const {
    Bytes out;
    for (unsigned field : {0x1234u, flags, 1u, answers, 0u, additionals}) put16(out, field);
    for (auto byte : body) out.push_back(byte);
    return out;
  }
};

const std::string service = "_redis._tcp.redis-pods.default.svc.cluster.local";

}  // namespace

TEST_CASE("an SRV response gives every target and the additional section's addresses", "[dns]") {
  Message m(service);
  const size_t t0 = m.srv("redis-shard0-0.redis-pods.default.svc.cluster.local", 6379);
  const size_t t1 = m.srv("Redis-Shard1-0.redis-pods.default.svc.cluster.local", 6380);
  m.a(Message::pointer(t0), {10, 0, 0, 1});
  m.a(Message::pointer(t1), {10, 0, 0, 2});
  m.a(Message::pointer(t1), {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  auto parsed = dns::parse_srv_response(m.done());
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->records.size() == 2);
  CHECK(parsed->records[0] == dns::SrvRecord{"redis-shard0-0.redis-pods.default.svc.cluster.local", 6379, 0, 10});
  // Names are compared in lower case, as DNS compares them.
  CHECK(parsed->records[1].target == "redis-shard1-0.redis-pods.default.svc.cluster.local");
  CHECK(parsed->records[1].port == 6380);
  CHECK(parsed->addresses.at("redis-shard0-0.redis-pods.default.svc.cluster.local") ==
        std::vector<std::string>{"10.0.0.1"});
  CHECK(parsed->addresses.at("redis-shard1-0.redis-pods.default.svc.cluster.local") ==
        std::vector<std::string>{"10.0.0.2", "fd00::2"});
  CHECK_FALSE(parsed->truncated);
}

TEST_CASE("a truncated UDP response says so", "[dns]") {
  Message m(service, 0x8780);  // TC set
  m.srv("redis-shard0-0.redis-pods.default.svc.cluster.local", 6379);
  auto parsed = dns::parse_srv_response(m.done());
  REQUIRE(parsed.has_value());
  CHECK(parsed->truncated);
}

TEST_CASE("a broken answer section is an error, never a read past the end", "[dns]") {
  Message m(service);
  const size_t t0 = m.srv("redis-shard0-0.redis-pods.default.svc.cluster.local", 6379);
  const size_t answers_end = m.offset();
  m.a(Message::pointer(t0), {10, 0, 0, 1});
  const Bytes whole = m.done();

  SECTION("every truncation inside the question or the answers fails cleanly") {
    for (size_t length = 0; length < answers_end; ++length) {
      Bytes cut(whole.begin(), whole.begin() + static_cast<long>(length));
      CHECK_FALSE(dns::parse_srv_response(cut).has_value());
    }
  }
  SECTION("a truncated additional section costs its addresses, not the answer") {
    for (size_t length = answers_end; length < whole.size(); ++length) {
      Bytes cut(whole.begin(), whole.begin() + static_cast<long>(length));
      auto parsed = dns::parse_srv_response(cut);
      REQUIRE(parsed.has_value());
      CHECK(parsed->records.size() == 1);
      CHECK(parsed->addresses.empty());
    }
  }
  SECTION("a name pointer that points at itself (a loop)") {
    Bytes looped = whole;
    // The SRV record's owner is a pointer right after the question; make it point to itself.
    const size_t owner_at = 12 + service.size() + 2 + 4;
    looped[owner_at] = static_cast<std::uint8_t>(0xC0 | (owner_at >> 8));
    looped[owner_at + 1] = static_cast<std::uint8_t>(owner_at & 0xFF);
    auto parsed = dns::parse_srv_response(looped);
    REQUIRE_FALSE(parsed.has_value());
    CHECK_THAT(parsed.error().message, Catch::Contains("pointer"));
  }
  SECTION("a pointer into the middle of a label") {
    Bytes middle = whole;
    const size_t owner_at = 12 + service.size() + 2 + 4;
    middle[owner_at + 1] = 12 + 3;
    CHECK_FALSE(dns::parse_srv_response(middle).has_value());
  }
  SECTION("more answers announced than present") {
    Bytes more = whole;
    more[7] = 200;
    CHECK_FALSE(dns::parse_srv_response(more).has_value());
  }
  SECTION("a label of the reserved kinds") {
    Bytes reserved = whole;
    reserved[12] = 0x40 | 3;
    CHECK_FALSE(dns::parse_srv_response(reserved).has_value());
  }
}

TEST_CASE("additional records that name no target are skipped; a contradicted target gets no address", "[dns]") {
  Message m(service);
  const size_t t0 = m.srv("redis-shard0-0.redis-pods.default.svc.cluster.local", 6379);
  const size_t t1 = m.srv("redis-shard1-0.redis-pods.default.svc.cluster.local", 6379);
  m.a(Message::pointer(t0), {10, 0, 0, 1});
  m.a(Message::pointer(t0), {10, 0, 0, 9});  // a second, different IPv4 address for the same pod
  m.a(Message::pointer(t1), {10, 0, 0, 2});
  auto parsed = dns::parse_srv_response(m.done());
  REQUIRE(parsed.has_value());
  CHECK(parsed->records.size() == 2);
  // Neither address of shard0-0 can be trusted; shard1-0's stands.
  CHECK(parsed->addresses.count("redis-shard0-0.redis-pods.default.svc.cluster.local") == 0);
  CHECK(parsed->addresses.at("redis-shard1-0.redis-pods.default.svc.cluster.local") ==
        std::vector<std::string>{"10.0.0.2"});

  Message other(service);
  other.srv("redis-shard0-0.redis-pods.default.svc.cluster.local", 6379);
  other.a(Message::pointer(Message::question_name_at()), {10, 0, 0, 1});  // owned by the service name
  auto foreign = dns::parse_srv_response(other.done());
  REQUIRE(foreign.has_value());
  CHECK(foreign->addresses.empty());
}

TEST_CASE("pointers past 16 KiB that a server wrapped (dnsmasq 2.90) still lead to their names", "[dns]") {
  Message m(service);
  std::vector<size_t> targets;
  for (int i = 0; i < 300; ++i) {
    targets.push_back(m.srv(fmt::format("redis-shard{}-0.redis-pods.default.svc.cluster.local", i), 6379));
  }
  REQUIRE(targets.back() > (1u << 14));
  for (int i = 0; i < 300; ++i) {
    // 14 bits of offset, as dnsmasq writes them: the high bits of a far offset are lost.
    m.a(Message::pointer(targets[static_cast<size_t>(i)] & 0x3FFF),
        {10, 1, static_cast<std::uint8_t>(i / 250), static_cast<std::uint8_t>(i % 250 + 1)});
  }
  auto parsed = dns::parse_srv_response(m.done());
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->records.size() == 300);
  // Where a wrapped pointer's literal offset is another whole name, the two names contradict
  // each other and both are left to a lookup by name: a few, never a wrong address.
  CHECK(parsed->addresses.size() >= 290);
  for (const auto& [name, addresses] : parsed->addresses) {
    const int i = std::stoi(name.substr(11));
    CHECK(addresses == std::vector<std::string>{fmt::format("10.1.{}.{}", i / 250, i % 250 + 1)});
  }
}

TEST_CASE("an SRV record whose data length disagrees with its content is refused", "[dns]") {
  Message m(service);
  m.srv("a.b", 6379);
  Bytes bytes = m.done();
  // Grow the announced data length by one and add a byte: the target ends before the data does.
  const size_t length_at = bytes.size() - (6 + 5) - 2;
  bytes[length_at + 1] = static_cast<std::uint8_t>(bytes[length_at + 1] + 1);
  bytes.push_back(0);
  auto parsed = dns::parse_srv_response(bytes);
  REQUIRE_FALSE(parsed.has_value());
  CHECK_THAT(parsed.error().message, Catch::Contains("wrong length"));
}
