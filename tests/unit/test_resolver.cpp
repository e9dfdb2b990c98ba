// dns/resolver against a real dnsmasq: names, the NODATA-then-AAAA rule, an SRV answer too big
// for UDP (the TCP retry), and a server that never answers (the deadline, and no query left in
// flight when resolve_all returns).
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "rci/dns/resolver.hpp"
#include "servers.hpp"

using namespace rci;

namespace {

const std::string domain = "cluster.local";
const std::string service = "_redis._tcp.redis-pods.default.svc.cluster.local";

std::string target(int i) {
  return fmt::format("redis-shard{}-0.redis-pods.default.svc.cluster.local", i);
}

// dnsmasq authoritative for cluster.local with `pods` SRV records and A records for each
// target (10.1.x.y), one AAAA-only name and one name without any address.
struct Dns {
  test::ScratchProcess process{"dnsmasq"};
  int port = test::free_port();

  explicit Dns(int pods) {
    std::string conf, hosts;
    for (int i = 0; i < pods; ++i) {
      conf += fmt::format("srv-host={},{},6379\n", service, target(i));
      hosts += fmt::format("10.1.{}.{} {}\n", i / 250, i % 250 + 1, target(i));
    }
    hosts += "fd00::7 v6-only.cluster.local\n";
    conf += "txt-record=no-address.cluster.local,nothing\n";
    process.write("dnsmasq.conf", conf);
    process.write("hosts", hosts);
    process.start({"dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1",
                   "--bind-interfaces", fmt::format("--port={}", port), "--local=/" + domain + "/",
                   "--addn-hosts=" + (process.dir() / "hosts").string(),
                   "--conf-file=" + (process.dir() / "dnsmasq.conf").string(), "--user=root", "--group=root",
                   "--pid-file="});
    dns::Resolver probe(server());
    REQUIRE(test::eventually(
        [&] { return probe.resolve_all({target(0)}, Deadline::after(Millis(200))).front().address.has_value(); }));
  }
  DnsServer server() const { return DnsServer{"127.0.0.1", port}; }
};

// Whether dnsmasq can be run here; says so where it cannot, so a skipped test is visible.
bool have_dnsmasq() {
  if (test::available("dnsmasq")) return true;
  WARN("dnsmasq is not installed: resolver tests not run");
  return false;
}

}  // namespace

TEST_CASE("resolve_all: addresses, NXDOMAIN, and AAAA only for names without A", "[resolver]") {
  if (!have_dnsmasq()) return;
  Dns dns(3);
  dns::Resolver resolver(dns.server());
  auto results =
      resolver.resolve_all({target(1), "v6-only.cluster.local", "absent.cluster.local", "no-address.cluster.local"},
                           Deadline::after(Millis(3000)));
  REQUIRE(results.size() == 4);
  CHECK(results[0].address.value() == "10.1.0.2");
  CHECK(results[0].status == dns::Status::found);
  CHECK(results[1].address.value() == "fd00::7");
  CHECK(results[2].status == dns::Status::no_such_name);
  CHECK(results[2].address.error().kind == ErrorKind::dns);
  CHECK(results[3].status == dns::Status::no_record);
}

TEST_CASE("query_srv: 300 records do not fit UDP and come over TCP, with the targets' addresses", "[resolver]") {
  if (!have_dnsmasq()) return;
  Dns dns(300);
  dns::Resolver resolver(dns.server());
  auto srv = resolver.query_srv(service, Deadline::after(Millis(3000)));
  INFO((srv.answer ? std::string() : srv.answer.error().message));
  REQUIRE(srv.answer.has_value());
  CHECK(srv.answer->records.size() == 300);
  CHECK_FALSE(srv.answer->truncated);
  // dnsmasq gives every target's address, also those past 16 KiB (pointers it wraps); a few
  // that a wrapped pointer makes ambiguous are left to lookups by name.
  CHECK(srv.answer->addresses.size() >= 290);
  for (const auto& [name, addresses] : srv.answer->addresses) {
    REQUIRE(name.starts_with("redis-shard"));
    const int i = std::stoi(name.substr(11));
    CHECK(addresses.front() == fmt::format("10.1.{}.{}", i / 250, i % 250 + 1));
  }
  auto absent = resolver.query_srv("_other._tcp.redis-pods.default.svc.cluster.local", Deadline::after(Millis(3000)));
  REQUIRE_FALSE(absent.answer.has_value());
  CHECK((absent.status == dns::Status::no_such_name || absent.status == dns::Status::no_record));
}

TEST_CASE("an SRV query started once is driven by later calls until it is answered", "[resolver]") {
  if (!have_dnsmasq()) return;
  Dns dns(50);
  dns::Resolver resolver(dns.server(), dns::Resolver::for_large_answers);
  CHECK_FALSE(resolver.poll_srv(Deadline::after(Millis(0))).has_value());  // nothing started
  resolver.start_srv(service);
  CHECK(resolver.srv_in_flight());
  resolver.start_srv(service);  // one at a time: no second query
  std::optional<dns::SrvResolution> done;
  for (int i = 0; i < 300 && !done; ++i) done = resolver.poll_srv(Deadline::after(Millis(10)));
  REQUIRE(done.has_value());
  REQUIRE(done->answer.has_value());
  CHECK(done->answer->records.size() == 50);
  CHECK_FALSE(resolver.srv_in_flight());
}

TEST_CASE("a DNS server that never answers costs the deadline, no more", "[resolver]") {
  // A bound UDP socket that reads nothing: queries vanish, as on an overloaded server.
  int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
  dns::Resolver resolver(DnsServer{"127.0.0.1", ntohs(address.sin_port)});

  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back(target(i));
  const auto started = Clock::now();
  auto results = resolver.resolve_all(names, Deadline::after(Millis(300)));
  const auto took = std::chrono::duration_cast<Millis>(Clock::now() - started);
  CHECK(took < Millis(600));
  for (const auto& result : results) {
    REQUIRE_FALSE(result.address.has_value());
    CHECK(result.address.error().kind == ErrorKind::timeout);
  }
  auto srv = resolver.query_srv(service, Deadline::after(Millis(200)));
  CHECK(srv.answer.error().kind == ErrorKind::timeout);
  // A query that outlives the call is not cut short: it is still in flight after the poll. Over
  // TCP (as SRV is asked), to a server that accepts the connection and never answers.
  const auto listener = test::loopback_socket(SOCK_STREAM);
  dns::Resolver patient(DnsServer{"127.0.0.1", listener.port}, dns::Resolver::for_large_answers);
  patient.start_srv(service);
  const auto polled = Clock::now();
  CHECK_FALSE(patient.poll_srv(Deadline::after(Millis(50))).has_value());
  CHECK(Clock::now() - polled < Millis(300));
  CHECK(patient.srv_in_flight());
  ::close(listener.fd);
  // The channel is clean: a later round works as the first did (no callback of an old query).
  auto again = resolver.resolve_all({target(1)}, Deadline::after(Millis(100)));
  CHECK(again.front().address.error().kind == ErrorKind::timeout);
  ::close(silent);
}
