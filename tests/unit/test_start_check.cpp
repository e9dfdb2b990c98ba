// plan/start_check: whether `run` may start an empty redis-server at this pod's address.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "rci/plan/start_check.hpp"

using namespace rci;
using namespace rci::test;

TEST_CASE("empty start: unsafe while a live replica replicates this pod's address", "[start_check]") {
  // m0 is down (its pod lost its volume); r0 still replicates m0's node at m0's address.
  ClusterBuilder cluster = healthy_3x1().down(m0);
  auto hazard = plan::empty_start_hazard(cluster.build(), cluster.ip(m0), 6379);
  REQUIRE(hazard.has_value());
  CHECK_THAT(*hazard, Catch::Contains("redis-shard0-1") && Catch::Contains(cluster.ip(m0)));
}

TEST_CASE("empty start: safe once the replica was promoted", "[start_check]") {
  ClusterBuilder cluster = healthy_3x1().master_of(r0, {0, 5460}, 7).down(m0);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), cluster.ip(m0), 6379).has_value());
}

TEST_CASE("empty start: safe for a replica's address, and at another port", "[start_check]") {
  ClusterBuilder cluster = healthy_3x1().down(r1);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), cluster.ip(r1), 6379).has_value());
  ClusterBuilder moved = healthy_3x1().down(m0);
  CHECK_FALSE(plan::empty_start_hazard(moved.build(), cluster.ip(m0), 6380).has_value());
}

TEST_CASE("empty start: safe when the pod comes back at a new address", "[start_check]") {
  ClusterBuilder cluster = healthy_3x1().down(m0);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), "10.0.9.42", 6379).has_value());
}

TEST_CASE("empty start: safe at a cold start (nobody answers)", "[start_check]") {
  ClusterBuilder cluster;
  for (PodId p : {m0, r0, m1, r1, m2, r2}) cluster.down(p);
  CHECK_FALSE(plan::empty_start_hazard(cluster.build(), cluster.ip(m0), 6379).has_value());
}
