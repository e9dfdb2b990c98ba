// plan/start_check: whether `run` may start an empty redis-server at this pod's address.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "rci/plan/start_check.hpp"

using namespace rci;
using namespace rci::test;

TEST_CASE("empty start: unsafe while a live replica replicates this pod's address", "[start_check]") {
  // m0 is down (its pod lost its volume); r0 still replicates m0's node at m0's address.
  ClusterBuilder cluster = healthy_3x1().down(m0);
  auto hazard = plan::empty_start_hazard(cluster.build(), cluster.ip(m0), 6379, 0);
  REQUIRE(hazard.has_value());
  CHECK_THAT(*hazard, Catch::Contains("redis-shard0-1") && Catch::Contains(cluster.ip(m0)));
}

TEST_CASE("empty start: safe once the replica was promoted", "[start_check]") {
  ClusterBuilder cluster = healthy_3x1().master_of(r0, {0, 5460}, 7).down(m0);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), cluster.ip(m0), 6379, 0).has_value());
}

TEST_CASE("empty start: safe for a replica's address, and at another port", "[start_check]") {
  ClusterBuilder cluster = healthy_3x1().down(r1);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), cluster.ip(r1), 6379, 1).has_value());
  ClusterBuilder moved = healthy_3x1().down(m0);
  CHECK_FALSE(plan::empty_start_hazard(moved.build(), cluster.ip(m0), 6380, 0).has_value());
}

TEST_CASE("empty start: safe when the pod comes back at a new address", "[start_check]") {
  ClusterBuilder cluster = healthy_3x1().down(m0);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), "10.0.9.42", 6379, 0).has_value());
}

TEST_CASE("empty start: safe at a cold start (nobody answers)", "[start_check]") {
  ClusterBuilder cluster;
  for (PodId p : {m0, r0, m1, r1, m2, r2}) cluster.down(p);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), cluster.ip(m0), 6379, 0).has_value());
}

TEST_CASE("empty start: a replica that did not answer but is live in a peer's table counts", "[start_check]") {
  ClusterBuilder cluster = healthy_3x1().down(m0);
  Observation observation = cluster.build();
  for (auto& pod : observation.pods) {
    if (pod.pod.name == "redis-shard0-1") pod.probe = fail(ErrorKind::timeout, "redis-shard0-1: probe timed out");
  }
  auto hazard = plan::empty_start_hazard(observation, cluster.ip(m0), 6379, 0);
  REQUIRE(hazard.has_value());
  CHECK_THAT(*hazard, Catch::Contains("node 00000001 at " + cluster.ip(r0)));
}

TEST_CASE("empty start: a down replica counts while the old master still holds slots", "[start_check]") {
  // No failover happened: r0, down now, has the shard's only copy and would copy an empty node
  // when it returns.
  ClusterBuilder cluster = healthy_3x1().down(m0).down(r0);
  auto hazard = plan::empty_start_hazard(cluster.build(), cluster.ip(m0), 6379, 0);
  REQUIRE(hazard.has_value());
  CHECK_THAT(*hazard, Catch::Contains("(down now)") && Catch::Contains("CLUSTER FORGET"));
  // Once the old master holds no slots (its range moved), a down replica of it is not waited for.
  ClusterBuilder moved = healthy_3x1().down(m0).down(r0);
  for (PodId viewer : {m1, r1, m2, r2}) moved.listed_with_slots(viewer, m0, {});
  CHECK_FALSE(plan::empty_start_hazard(moved.build(), moved.ip(m0), 6379, 0).has_value());
}

TEST_CASE("empty start: a pod of this shard that timed out is waited for, unless a table shows it", "[start_check]") {
  // m0 lost its volume; nobody answers in time (say DNS is slow), r0 among them.
  ClusterBuilder cluster;
  for (PodId p : {m0, r0, m1, r1, m2, r2}) cluster.down(p);
  Observation observation = cluster.build();
  observation.pods.at(cluster.index(r0)).probe = fail(ErrorKind::timeout, "redis-shard0-1: timed out connecting");
  auto hazard = plan::empty_start_hazard(observation, cluster.ip(m0), 6379, 0);
  REQUIRE(hazard.has_value());
  CHECK_THAT(*hazard, Catch::Contains("redis-shard0-1") && Catch::Contains("unknown"));
  // A lookup that timed out is no evidence either.
  Observation no_dns = cluster.build();
  no_dns.pods.at(cluster.index(r0)).endpoint = fail(ErrorKind::timeout, "redis-shard0-1...: no answer (timeout)");
  no_dns.pods.at(cluster.index(r0)).probe = std::unexpected(no_dns.pods.at(cluster.index(r0)).endpoint.error());
  CHECK(plan::empty_start_hazard(no_dns, cluster.ip(m0), 6379, 0).has_value());
  // Another shard's pod timing out does not matter: it replicates another master.
  Observation other_shard = cluster.build();
  other_shard.pods.at(cluster.index(r1)).probe = fail(ErrorKind::timeout, "redis-shard1-1: timed out connecting");
  CHECK_FALSE(plan::empty_start_hazard(other_shard, cluster.ip(m0), 6379, 0).has_value());
  // A pod whose node a peer's table shows (it announces its pod name) is judged by that table:
  // here r0 was promoted, so it replicates nobody.
  ClusterBuilder promoted = healthy_3x1().master_of(r0, {0, 5460}, 7).down(m0);
  Observation shown = promoted.build();
  shown.pods.at(promoted.index(r0)).probe = fail(ErrorKind::timeout, "redis-shard0-1: timed out connecting");
  CHECK_FALSE(plan::empty_start_hazard(shown, promoted.ip(m0), 6379, 0).has_value());
}
