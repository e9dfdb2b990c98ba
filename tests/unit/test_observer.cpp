// observe: make_node_probe, the pure part of probing a node (the replies of one pipeline).
#include <catch2/catch.hpp>

#include "rci/observe/observer.hpp"
#include "samples.hpp"

using namespace rci;
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
  auto probe = make_node_probe(samples::nodes_fresh, samples::cluster_info_fresh, "role:master\r\nconnected_slaves:0\r\n", 0);
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
  pod.address = std::string("10.0.0.1");
  pod.probe = fail(ErrorKind::io, "10.0.0.1:6379: connection refused");
  CHECK(pod.why_not() == "10.0.0.1:6379: connection refused");
  pod.probe = NodeProbe{};
  CHECK(pod.answered());
  CHECK(pod.why_not().empty());
}
