// observe: make_node_probe, the pure part of probing a node (the replies of one pipeline).
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "rci/observe/observer.hpp"
#include "samples.hpp"

using namespace rci;
using namespace rci::test;
namespace samples = rci::test::samples;

TEST_CASE("make_node_probe assembles a probe from real replies", "[observer]") {
  auto probe = make_node_probe(samples::nodes_3x1_migrating, samples::cluster_info_ok, samples::replication_master, 3);
  REQUIRE(probe.has_value());
  CHECK(probe->cluster_enabled);
  CHECK(probe->id == "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd");
  CHECK(probe->myself().id == probe->id);
  CHECK(probe->nodes.size() == 6);
  CHECK(probe->knows_other_nodes());
  CHECK(probe->cluster.state_ok);
  CHECK(probe->replication.is_master);
  CHECK(probe->keys == 3);
}

TEST_CASE("make_node_probe of a fresh node", "[observer]") {
  auto probe =
      make_node_probe(samples::nodes_fresh, samples::cluster_info_fresh, "role:master\r\nconnected_slaves:0\r\n", 0);
  REQUIRE(probe.has_value());
  CHECK(probe->id == "7bcb3d69254b0768600699818f14c1b6da97f41c");
  CHECK_FALSE(probe->knows_other_nodes());
  CHECK_FALSE(probe->cluster.state_ok);
}

TEST_CASE("make_node_probe refuses replies it cannot read", "[observer]") {
  SECTION("no myself line") {
    auto probe = make_node_probe(samples::line_replica_fail, samples::cluster_info_ok, samples::replication_master, 0);
    REQUIRE_FALSE(probe.has_value());
    CHECK_THAT(probe.error().message, Catch::Contains("myself"));
  }
  SECTION("malformed CLUSTER NODES") {
    auto probe = make_node_probe("garbage\n", samples::cluster_info_ok, samples::replication_master, 0);
    REQUIRE_FALSE(probe.has_value());
    CHECK_THAT(probe.error().message, Catch::Contains("CLUSTER NODES line 1"));
  }
  SECTION("malformed CLUSTER INFO") {
    auto probe = make_node_probe(samples::nodes_fresh, "cluster_known_nodes:1\r\n", samples::replication_master, 0);
    REQUIRE_FALSE(probe.has_value());
    CHECK_THAT(probe.error().message, Catch::Contains("cluster_state"));
  }
  SECTION("malformed INFO replication") {
    auto probe = make_node_probe(samples::nodes_fresh, samples::cluster_info_fresh, "role:unknown\r\n", 0);
    REQUIRE_FALSE(probe.has_value());
    CHECK_THAT(probe.error().message, Catch::Contains("INFO replication"));
  }
}

TEST_CASE("a probe with no myself entry answers an empty node", "[observer]") {
  NodeProbe disabled;
  disabled.cluster_enabled = false;
  CHECK(disabled.myself().id.empty());
  CHECK_FALSE(disabled.myself().master);
  CHECK_FALSE(disabled.knows_other_nodes());
}

TEST_CASE("PodObservation::why_not says why a pod is not usable", "[observer]") {
  PodObservation pod;
  CHECK_FALSE(pod.answered());
  CHECK(pod.why_not() == "not resolved");
  pod.endpoint = net::Endpoint{"10.0.0.1", 6379};
  pod.probe = fail(ErrorKind::io, "10.0.0.1:6379: connection refused");
  CHECK(pod.why_not() == "10.0.0.1:6379: connection refused");
  pod.probe = NodeProbe{};
  CHECK(pod.answered());
  // An answer by a node that does not announce this pod's name is an answer, not this pod's.
  CHECK_THAT(pod.why_not(), Catch::Contains("announces no pod name yet"));
  pod.identity = Identity::verified;
  CHECK(pod.why_not().empty());
}

// select_probes: which peers a narrow bootstrap round asks. The fixture's pods are a 3x1
// cluster; m = ordinal 0, r = ordinal 1.
namespace {

std::vector<std::string> probed_pods(const test::ClusterBuilder& cluster, test::PodId self) {
  Observation observation = cluster.build();
  const auto& probe = observation.pods.at(cluster.index(self)).probe;
  auto wanted = select_probes(cluster.topology(), cluster.index(self), probe ? &*probe : nullptr);
  std::vector<std::string> names;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i]) names.push_back(cluster.topology().pods[i].name);
  }
  return names;
}

}  // namespace

TEST_CASE("select_probes: a fresh ordinal 0 asks every other pod (it needs a quorum's view)", "[observer]") {
  test::ClusterBuilder cluster;
  cluster.fresh_all();
  CHECK(probed_pods(cluster, test::m1) == std::vector<std::string>{"redis-shard0-0", "redis-shard0-1", "redis-shard1-1",
                                                                   "redis-shard2-0", "redis-shard2-1"});
}

TEST_CASE("select_probes: a pod whose own node does not answer asks nobody (it can do nothing)", "[observer]") {
  test::ClusterBuilder cluster;
  cluster.fresh_all().down(test::m1);
  CHECK(probed_pods(cluster, test::m1).empty());
}

TEST_CASE("select_probes: a fresh replica asks only its own shard", "[observer]") {
  test::ClusterBuilder cluster;
  cluster.fresh_all();
  CHECK(probed_pods(cluster, test::r1) == std::vector<std::string>{"redis-shard1-0"});
}

TEST_CASE("select_probes: a master asks the ordinal 0 of shards whose slots it has not learned", "[observer]") {
  test::ClusterBuilder cluster;
  cluster.fresh_all().claimed(test::m0).claimed(test::m1).claimed(test::m2).knows(test::m0, {test::m1});
  // m0 knows m1 with its slots, but not m2: it asks m2 (and its own replica), not m1 or r2.
  CHECK(probed_pods(cluster, test::m0) == std::vector<std::string>{"redis-shard0-1", "redis-shard2-0"});
}

TEST_CASE("select_probes: a master does not ask a shard's owner it is already connected to", "[observer]") {
  // m0 knows m2 and is connected to it, but has not learned m2's slots yet: m2's table (a
  // line per node, 300 at 100x2) would add nothing the table entry does not say.
  test::ClusterBuilder cluster;
  cluster.fresh_all().claimed(test::m0).claimed(test::m1).claimed(test::m2).knows(test::m0, {test::m1, test::m2});
  cluster.listed_with_slots(test::m0, test::m2, {});
  CHECK(probed_pods(cluster, test::m0) == std::vector<std::string>{"redis-shard0-1"});
}

TEST_CASE("dns_wait leaves the probes their time within the round", "[observer]") {
  using std::chrono::milliseconds;
  // A bootstrap round far from its deadline: the DNS budget.
  CHECK(dns_wait(milliseconds(750), milliseconds(300000), milliseconds(3000)) == milliseconds(750));
  // The start guard's round (2 s of DNS + 3 s of probes): DNS gets its 2 s, not the probes' 3.
  CHECK(dns_wait(milliseconds(2000), milliseconds(5000), milliseconds(3000)) == milliseconds(2000));
  CHECK(dns_wait(milliseconds(2000), milliseconds(4000), milliseconds(3000)) == milliseconds(1000));
  // Near the deadline DNS still gets a moment; the probes are cut by the deadline itself.
  CHECK(dns_wait(milliseconds(750), milliseconds(500), milliseconds(3000)) == milliseconds(100));
}

TEST_CASE("remember_endpoints keeps a pod's connection through failed lookups, not through a move", "[observer]") {
  ClusterBuilder cluster = healthy_3x1();
  std::vector<std::optional<net::Endpoint>> last;
  const net::Endpoint own{cluster.ip(m0), 6379};
  const net::Endpoint r2_before{cluster.ip(r2), 6379};
  Observation first = cluster.build();
  CHECK(remember_endpoints(last, first, own).size() == 6);

  // r2's lookup fails this round: its endpoint is still kept.
  Observation failed = cluster.build();
  failed.pods.at(cluster.index(r2)).endpoint = fail(ErrorKind::timeout, "no answer before the deadline");
  auto kept = remember_endpoints(last, failed, own);
  CHECK(kept.contains(r2_before));

  // r2 moved (a new address, or a new port in its SRV record): the old endpoint goes.
  Observation moved = cluster.build();
  moved.pods.at(cluster.index(r2)).endpoint = net::Endpoint{"10.0.9.9", 6379};
  kept = remember_endpoints(last, moved, own);
  CHECK_FALSE(kept.contains(r2_before));
  CHECK(kept.contains(net::Endpoint{"10.0.9.9", 6379}));
  CHECK(kept.contains(own));
  Observation new_port = cluster.build();
  new_port.pods.at(cluster.index(r2)).endpoint = net::Endpoint{"10.0.9.9", 7000};
  kept = remember_endpoints(last, new_port, own);
  CHECK_FALSE(kept.contains(net::Endpoint{"10.0.9.9", 6379}));
  CHECK(kept.contains(net::Endpoint{"10.0.9.9", 7000}));
}

TEST_CASE("at_address_of: a departed node's address answers as it, as another node, as nothing, or unclearly",
          "[observer]") {
  auto probe = make_table_probe(samples::nodes_3x1_migrating);
  REQUIRE(probe);
  CHECK(at_address_of(probe, probe->id) == AtAddress::itself);
  CHECK(at_address_of(probe, std::string(40, 'f')) == AtAddress::another_node);
  const std::string id(40, 'f');
  CHECK(at_address_of(fail(ErrorKind::io, "10.0.0.9:6379: connect: connection refused"), id) == AtAddress::nothing);
  CHECK(at_address_of(fail(ErrorKind::timeout, "10.0.0.9:6379: timed out connecting"), id) == AtAddress::nothing);
  // Something runs there: it may be the departed node itself.
  CHECK(at_address_of(fail(ErrorKind::tls, "certificate verify failed"), id) == AtAddress::unknown);
  CHECK(at_address_of(fail(ErrorKind::auth, "WRONGPASS"), id) == AtAddress::unknown);
  CHECK(at_address_of(fail(ErrorKind::closed, "closed"), id) == AtAddress::unknown);
}
