// plan/planner, scale-in: a 4x1 cluster seen by pods that now run with SHARDS=3. The layout's
// pods import shard 3's slots from its nodes, which they know only from their tables; shard
// 3's pods (surplus) change nothing and wait until no node of their shard serves slots.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "rci/app/report.hpp"

using namespace rci;
using namespace rci::test;
using plan::Outcome;
using plan::Role;

namespace {

constexpr PodId s3m{3, 0}, s3r{3, 1};

// What pod `self` of a 4x1 builder's cluster observes once it runs with SHARDS=3: the layout's
// six pods (and, on a surplus pod, itself), with the tables the builder gives them.
struct ViewWithThreeShards {
  Topology topology;
  Observation observation;
};

ViewWithThreeShards view_with_three_shards(const ClusterBuilder& cluster, PodId self) {
  Options options = cluster_options(3, 1);
  options.pod = PodName{"redis", self.shard, self.ordinal};
  options.pod_name = cluster.name(self);
  ViewWithThreeShards view{make_topology(options), {}};
  const Observation full = cluster.build();
  for (const auto& expected : view.topology.pods) {
    view.observation.pods.push_back(
        full.pods.at(static_cast<size_t>(cluster.index({expected.shard, expected.ordinal}))));
  }
  return view;
}

plan::Plan plan_with_three_shards(const ClusterBuilder& cluster, PodId self, plan::PlanPolicy policy = {}) {
  const auto view = view_with_three_shards(cluster, self);
  return plan::make_plan(view.topology, view.topology.self_index, view.observation, policy);
}

std::optional<plan::LayoutChange> change_with_three_shards(const ClusterBuilder& cluster, PodId self) {
  const auto view = view_with_three_shards(cluster, self);
  return plan::layout_change(view.topology, view.topology.self_index, view.observation);
}

// A 4x1 cluster as creation left it, every pod knowing every other.
ClusterBuilder created_4x1() {
  ClusterBuilder cluster(4, 1);
  for (int shard = 0; shard < 4; ++shard) cluster.claimed({shard, 0}).replica_of({shard, 1}, {shard, 0});
  return cluster.mesh();
}

// The same cluster once shard 3 is drained: the layout of 3 shards computed from the 4-shard
// creation layout (each old shard keeps its range and takes a third of shard 3's), shard 3's
// master empty.
ClusterBuilder drained_4x1() {
  ClusterBuilder cluster(4, 1);
  cluster.master_of({0, 0}, std::vector<SlotRange>{{0, 4095}, {12288, 13652}}, 5)
      .master_of({1, 0}, std::vector<SlotRange>{{4096, 8191}, {13653, 15018}}, 6)
      .master_of({2, 0}, std::vector<SlotRange>{{8192, 12287}, {15019, 16383}}, 7)
      .master_of(s3m, std::vector<SlotRange>{}, 4);
  for (int shard = 0; shard < 4; ++shard) cluster.replica_of({shard, 1}, {shard, 0});
  return cluster.mesh();
}

}  // namespace

TEST_CASE("topology: a pod of a shard at or above SHARDS is surplus, observed after the layout's pods",
          "[topology][scaling]") {
  const ClusterBuilder cluster = created_4x1();
  const auto view = view_with_three_shards(cluster, s3r);
  CHECK(view.topology.surplus);
  CHECK(view.topology.shards == 3);
  REQUIRE(view.topology.pods.size() == 7);
  CHECK(view.topology.self_index == 6);
  CHECK(view.topology.pods[6].name == "redis-shard3-1");
  CHECK(view.topology.quorum() == 4);  // a majority of the layout's 6 pods, the surplus pod not counted
  CHECK_FALSE(view_with_three_shards(cluster, m1).topology.surplus);

  CHECK(surplus_pod(view.topology, "redis-shard3-0.redis-pods.default.svc.cluster.local")->shard == 3);
  CHECK(surplus_pod(view.topology, "redis-shard4-1")->ordinal == 1);
  CHECK_FALSE(surplus_pod(view.topology, "redis-shard2-0.redis-pods.default.svc.cluster.local"));
  CHECK_FALSE(surplus_pod(view.topology, "redis-shard3-0.redis-pods.staging.svc.cluster.local"));
  // Once shard 3's StatefulSet is deleted, its nodes are forgotten as departed pods.
  CHECK(departed_pod(view.topology, "redis-shard3-0.redis-pods.default.svc.cluster.local")->shard == 3);
  CHECK(shard_statefulset("redis", 3) == "redis-shard3");
}

TEST_CASE("planner: under a lowered SHARDS, each remaining master imports its share of the surplus shard's slots",
          "[planner][scaling]") {
  const ClusterBuilder cluster = created_4x1();
  // The pool is shard 3's range, 12288-16383, handed out in slot order: shard 0 needs
  // 5461 - 4096 = 1365 slots (12288-13652), shard 1 1366 (13653-15018), shard 2 the rest.
  const struct {
    PodId master;
    SlotRange first_run;
  } rows[] = {{m0, {12288, 12351}}, {m1, {13653, 13716}}, {m2, {15019, 15082}}};
  for (const auto& row : rows) {
    INFO(cluster.name(row.master));
    plan::Plan plan = plan_with_three_shards(cluster, row.master);
    REQUIRE(plan.outcome == Outcome::act);
    REQUIRE(plan.actions.size() == 1);
    const auto* move = std::get_if<plan::MigrateSlots>(&plan.actions[0].step);
    REQUIRE(move != nullptr);
    CHECK(move->range == row.first_run);
    // The source is known only from the tables: its address there, its pod's FQDN for TLS.
    CHECK(move->source.pod == "redis-shard3-0");
    CHECK(move->source.node_id == cluster.id(s3m));
    CHECK(move->source.endpoint == net::Endpoint{cluster.ip(s3m), 6379});
    CHECK(move->source.server_name == "redis-shard3-0.redis-pods.default.svc.cluster.local");
    CHECK(move->destination.node_id == cluster.id(row.master));
    CHECK(move->other_masters.size() == 2);  // the two other remaining masters
    CHECK_THAT(plan.actions[0].reason, Catch::Contains("shard 3, surplus"));
  }
  // The replicas wait for the moves, naming them.
  plan::Plan replica = plan_with_three_shards(cluster, r1);
  CHECK(replica.outcome == Outcome::wait);
  REQUIRE_FALSE(replica.waiting_for.empty());
  CHECK_THAT(replica.waiting_for.back(), Catch::Contains("4096 slots still to move"));
}

TEST_CASE("planner: a surplus pod whose shard still serves slots waits, changing nothing", "[planner][scaling]") {
  const ClusterBuilder cluster = created_4x1();
  for (PodId pod : {s3m, s3r}) {
    INFO(cluster.name(pod));
    plan::Plan plan = plan_with_three_shards(cluster, pod);
    CHECK(plan.role == Role::surplus);
    CHECK(plan.outcome == Outcome::wait);
    CHECK(plan.actions.empty());
    CHECK_THAT(plan.situation, Catch::Contains("draining"));
    REQUIRE_FALSE(plan.waiting_for.empty());
    CHECK_THAT(plan.waiting_for.front(),
               Catch::Contains(cluster.id(s3m).substr(0, 8)) && Catch::Contains("4096 slots"));
  }
}

TEST_CASE("planner: a drained surplus pod says its StatefulSet may be deleted; the layout holds for the others",
          "[planner][scaling]") {
  const ClusterBuilder cluster = drained_4x1();
  for (PodId pod : {s3m, s3r}) {
    INFO(cluster.name(pod));
    plan::Plan plan = plan_with_three_shards(cluster, pod);
    CHECK(plan.outcome == Outcome::converged);
    CHECK(plan.actions.empty());
    CHECK_THAT(plan.situation,
               Catch::Contains("drained") && Catch::Contains("safe to delete StatefulSet redis-shard3"));
  }
  for (PodId pod : {m0, r0, m1, r1, m2, r2}) {
    INFO(cluster.name(pod));
    CHECK(plan_with_three_shards(cluster, pod).outcome == Outcome::converged);
  }
}

TEST_CASE("planner: a drained surplus pod closes a migrating marker its mover left, before saying so",
          "[planner][scaling]") {
  ClusterBuilder cluster = drained_4x1();
  cluster.migrating(s3m, 16383, m2);  // shard 2's master took slot 16383, the mover stopped before SETSLOT here
  plan::Plan plan = plan_with_three_shards(cluster, s3m);
  REQUIRE(plan.outcome == Outcome::act);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].step == plan::Step{plan::CloseSlot{16383}});
}

TEST_CASE("planner: a surplus pod that sees no answer from the layout cannot call itself drained",
          "[planner][scaling]") {
  ClusterBuilder cluster = drained_4x1();
  for (PodId pod : {m0, r0, m1, r1, m2, r2}) cluster.down(pod);
  plan::Plan plan = plan_with_three_shards(cluster, s3r);
  CHECK(plan.outcome == Outcome::wait);
  CHECK_THAT(plan.waiting_for.front(), Catch::Contains("cannot confirm"));
}

TEST_CASE("planner: scale-in on servers without host names fails, saying what to do instead", "[planner][scaling]") {
  const ClusterBuilder cluster = created_4x1();
  plan::Plan plan =
      plan_with_three_shards(cluster, s3m, {.recover_lost_slots = false, .names = plan::NameCheck::unavailable});
  CHECK(plan.outcome == Outcome::fail);
  CHECK_THAT(plan.waiting_for.front(), Catch::Contains("cluster-announce-hostname") && Catch::Contains("redis-shard3"));
}

TEST_CASE("status on a surplus pod shows its shard after the layout's, as surplus", "[report][scaling]") {
  const ClusterBuilder cluster = created_4x1();
  const auto view = view_with_three_shards(cluster, s3m);
  const std::string text = report::status_text(view.topology, view.observation);
  CHECK_THAT(text, Catch::Contains("shard 2 (slots 10923-16383 at creation)"));
  CHECK_THAT(text, Catch::Contains("shard 3 (surplus: not among the 3 shards") && Catch::Contains("redis-shard3-0"));
}

TEST_CASE("layout_change: what plan prints of a scale-in, against the minimum and a re-split", "[planner][scaling]") {
  const ClusterBuilder cluster = created_4x1();
  const auto change = change_with_three_shards(cluster, m0);
  REQUIRE(change.has_value());
  CHECK(change->slots_to_move == 4096);
  CHECK(change->minimum_slots == 4096);
  // From 4 contiguous ranges to 3: 4096-5460, 8192-10922 and 12288-16383 change hands.
  CHECK(change->resplit_slots == 8192);
  REQUIRE(change->moves.size() == 3);
  for (const auto& pending : change->moves) {
    CHECK(pending.move.from == 3);
    CHECK(pending.source.pod == "redis-shard3-0");
  }
  CHECK(change->moves[0].move == SlotMove{{12288, 13652}, 3, 0});
  CHECK(change->masters.size() == 4);

  const report::LayoutKeys keys{{10, 20, 30}, 100};
  const std::string text = report::layout_text(*change, keys);
  CHECK_THAT(text, Catch::Contains("layout of 3 shards: 4096 of 16384 slots to move (25.0%); the minimum"));
  CHECK_THAT(text, Catch::Contains("a re-split into contiguous ranges would move 8192"));
  CHECK_THAT(text, Catch::Contains("keys: 60 of 100 to move (60.0%)"));
  CHECK_THAT(text, Catch::Contains("shard 3 -> shard 0: slots 12288-13652 (1365 slots, 10 keys)"));
  CHECK_THAT(report::layout_text(*change, {{10, std::nullopt, 30}, 100}),
             Catch::Contains("keys not counted") && !Catch::Contains("keys: "));
  CHECK_THAT(report::layout_json(*change, keys), Catch::Contains(R"("slots_to_move":4096,"minimum_slots":4096)"));
}

TEST_CASE("layout_change: a cluster in its layout has nothing to move", "[planner][scaling]") {
  const ClusterBuilder cluster = drained_4x1();
  const auto change = change_with_three_shards(cluster, r2);
  REQUIRE(change.has_value());
  CHECK(change->slots_to_move == 0);
  CHECK(change->moves.empty());
  CHECK(report::layout_text(*change, {}) == "layout of 3 shards: holds, no slot to move\n");
}
