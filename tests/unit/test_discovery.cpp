// observe/discovery: what an SRV answer says of the expected pods (pure), and the two ways of
// discovery against a real dnsmasq (test_resolver.cpp starts it).
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "rci/observe/discovery.hpp"

using namespace rci;

namespace {

dns::SrvAnswer answer_for(const std::vector<std::pair<std::string, std::string>>& targets) {
  dns::SrvAnswer answer;
  for (const auto& [target, address] : targets) {
    answer.records.push_back({target, 6379, 0, 10});
    if (!address.empty()) answer.addresses[target].push_back(address);
  }
  return answer;
}

const std::string suffix = ".redis-pods.default.svc.cluster.local";

}  // namespace

TEST_CASE("match_srv_answer maps targets to expected pods by their full name", "[discovery]") {
  const Topology topology = make_topology(test::cluster_options(3, 1));
  auto answer = answer_for({{"redis-shard0-0" + suffix, "10.0.0.1"},
                            {"redis-shard1-1" + suffix, "10.0.0.4"},
                            {"redis-shard2-0" + suffix, ""},          // no address in the answer
                            {"redis-shard3-0" + suffix, "10.0.0.9"},  // a shard beyond SHARDS
                            {"redis-shard0-0.other-svc.default.svc.cluster.local", "10.0.0.8"},
                            {"redis-shard0-0" + suffix, "10.0.0.7"}});  // a second record: the first wins
  SrvMatch match = match_srv_answer(topology, answer);
  REQUIRE(match.pods.size() == 6);
  CHECK(match.listed_count == 3);
  CHECK(match.pods[0].listed);
  CHECK(match.pods[0].address->value() == "10.0.0.1");
  CHECK_FALSE(match.pods[1].listed);  // redis-shard0-1 has no record
  CHECK(match.pods[3].listed);
  CHECK(match.pods[3].address->value() == "10.0.0.4");
  CHECK(match.pods[4].listed);
  CHECK_FALSE(match.pods[4].address.has_value());  // looked up by name later
  CHECK(match.unexpected ==
        std::vector<std::string>{"redis-shard3-0" + suffix, "redis-shard0-0.other-svc.default.svc.cluster.local"});
}

TEST_CASE("match_srv_answer prefers IPv4 and refuses addresses no node can have", "[discovery]") {
  const Topology topology = make_topology(test::cluster_options(3, 0));
  dns::SrvAnswer answer = answer_for({{"redis-shard0-0" + suffix, "fd00::1"},
                                      {"redis-shard1-0" + suffix, "0.0.0.0"},
                                      {"redis-shard2-0" + suffix, "fd00::3"}});
  answer.addresses["redis-shard0-0" + suffix].push_back("10.0.0.1");
  SrvMatch match = match_srv_answer(topology, answer);
  CHECK(match.pods[0].address->value() == "10.0.0.1");
  REQUIRE_FALSE(match.pods[1].address->has_value());
  CHECK_THAT(match.pods[1].address->error().message, Catch::Contains("the answer 0.0.0.0 is not a usable address"));
  CHECK(match.pods[2].address->value() == "fd00::3");
}

TEST_CASE("match_srv_answer takes each pod's port from its record, and refuses port 0", "[discovery]") {
  const Topology topology = make_topology(test::cluster_options(3, 0));
  dns::SrvAnswer answer;
  answer.records = {{"redis-shard0-0" + suffix, 7000, 0, 10},
                    {"redis-shard1-0" + suffix, 0, 0, 10},
                    {"redis-shard2-0" + suffix, 6379, 0, 10}};
  for (const auto& record : answer.records) answer.addresses[record.target] = {"10.0.0.1"};
  SrvMatch match = match_srv_answer(topology, answer);
  CHECK(match.pods[0].port == 7000);
  CHECK(match.pods[0].address->value() == "10.0.0.1");
  REQUIRE(match.pods[1].listed);
  REQUIRE_FALSE(match.pods[1].address->has_value());
  CHECK_THAT(match.pods[1].address->error().message, Catch::Contains("gives port 0"));
  CHECK(match.pods[2].port == 6379);
}

TEST_CASE("the SRV name is the service's named port under the cluster domain", "[discovery]") {
  Options options = test::cluster_options(3, 1);
  options.port_name = "client";
  CHECK(make_topology(options).srv_name == "_client._tcp.redis-pods.default.svc.cluster.local");
}
