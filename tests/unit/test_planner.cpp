// plan/planner: one table row per situation the planner must read right. Each row builds an
// observation with ClusterBuilder, plans for one pod and compares the exact actions (kind,
// target, slots, epoch), the outcome and the role; every plan is also checked for the
// properties every plan must have (reasons given, MEET targets verified, own range only, ...).
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "fixtures.hpp"
#include "rci/util/overloaded.hpp"

using namespace rci;
using namespace rci::test;
using plan::Outcome;
using plan::Role;

namespace {

// "set-config-epoch 1", "claim-slots 0-5460", "meet redis-shard1-1", "replicate redis-shard0-0".
std::string summary(const plan::Action& action) {
  return std::visit(
      Overloaded{
          [](const plan::SetConfigEpoch& s) { return fmt::format("set-config-epoch {}", s.epoch); },
          [](const plan::ClaimSlots& s) { return fmt::format("claim-slots {}-{}", s.range.first, s.range.last); },
          [](const plan::Meet& s) { return "meet " + s.pod; },
          [](const plan::Replicate& s) { return "replicate " + s.pod; },
          [](const plan::Forget& s) { return "forget " + s.node_id.substr(0, 8); },
          [](const plan::BumpEpoch&) { return std::string("bump-epoch"); },
          [](const plan::MigrateSlots& s) {
            return fmt::format("migrate-slots {}-{} from {}", s.range.first, s.range.last, s.source.pod);
          },
          [](const plan::CloseSlot& s) { return fmt::format("close-slot {}", s.slot); },
          [](const plan::ResetToEmptyMaster& s) { return "reset-to-empty-master " + s.followed_id.substr(0, 8); },
      },
      action.step);
}

std::vector<std::string> summaries(const plan::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& action : plan.actions) out.push_back(summary(action));
  return out;
}

const PodObservation* observed(const Observation& observation, const std::string& pod) {
  for (const auto& p : observation.pods) {
    if (p.pod.name == pod) return &p;
  }
  return nullptr;
}

// What every plan must satisfy, whatever the situation.
void check_plan_properties(const ClusterBuilder& cluster, PodId self, const plan::Plan& plan) {
  const Observation observation = cluster.build();
  CHECK_FALSE(plan.situation.empty());
  CHECK((plan.outcome == Outcome::act) == !plan.actions.empty());
  if (plan.outcome == Outcome::wait || plan.outcome == Outcome::fail) CHECK_FALSE(plan.waiting_for.empty());
  if (plan.outcome == Outcome::converged) CHECK(plan.waiting_for.empty());

  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const auto& action = plan.actions[i];
    INFO("action " << i << ": " << plan::describe(action));
    CHECK_FALSE(action.reason.empty());
    // Every command goes to this pod's own node, but a FORGET: to every node, this pod's first.
    if (std::holds_alternative<plan::Forget>(action.step)) {
      const auto* nodes = std::get_if<plan::EveryNode>(&action.target);
      REQUIRE(nodes != nullptr);
      REQUIRE_FALSE(nodes->nodes.empty());
      CHECK(nodes->nodes.front() == net::Endpoint{cluster.ip(self), 6379});
    } else {
      CHECK(std::holds_alternative<plan::ThisNode>(action.target));
    }
    std::visit(Overloaded{
                   [&](const plan::SetConfigEpoch& epoch) {
                     CHECK(i == 0);  // only while the node knows nobody: before any MEET
                     CHECK(epoch.epoch == self.shard + 1);
                   },
                   [&](const plan::ClaimSlots& claim) {
                     CHECK(claim.range == cluster.range(self));  // a pod claims only its own shard's range
                   },
                   [&](const plan::Meet& meet) {
                     CHECK(meet.pod != cluster.name(self));
                     const auto* peer = observed(observation, meet.pod);
                     REQUIRE(peer != nullptr);
                     REQUIRE(peer->answered());  // never MEET an address nobody answered at
                     // ... nor a node not verified as that pod's, unless this node already knows it
                     CHECK((peer->identity == Identity::verified || peer->identity == Identity::nameless));
                     CHECK(meet.ip == peer->endpoint->ip);
                     CHECK(meet.port == peer->endpoint->port);
                     CHECK(meet.node_id == peer->probe->id);
                     CHECK(meet.node_id != cluster.id(self));
                     CHECK(meet.port == 6379);
                     CHECK(meet.bus_port == 16379);
                   },
                   [&](const plan::Replicate& replicate) {
                     const auto* master = observed(observation, replicate.pod);
                     REQUIRE(master != nullptr);
                     REQUIRE(master->answered());
                     CHECK((master->identity == Identity::verified || master->identity == Identity::nameless));
                     CHECK(master->pod.shard == self.shard);
                     CHECK(replicate.node_id == master->probe->id);
                   },
                   [&](const plan::Forget& forget) { CHECK(forget.node_id != cluster.id(self)); },
                   [&](const plan::BumpEpoch&) { CHECK(action.data_loss); },
                   [&](const plan::MigrateSlots& move) {
                     // A pod moves slots only into its own node, from another.
                     CHECK(move.destination.node_id == cluster.id(self));
                     CHECK(move.source.node_id != cluster.id(self));
                   },
                   [&](const plan::CloseSlot&) {},
                   [&](const plan::ResetToEmptyMaster& reset) {
                     // Only ordinal 0, only a replica, and only of another shard's node.
                     CHECK(self.ordinal == 0);
                     const auto& me = observation.pods.at(cluster.index(self)).probe->myself();
                     CHECK(me.replica);
                     CHECK(reset.followed_id == me.master_id);
                     CHECK(reset.followed_id.substr(0, 4) != fmt::format("{:04x}", self.shard));
                   },
               },
               action.step);
  }
}

struct Scenario {
  std::string name;
  std::function<ClusterBuilder()> given;
  PodId self;
  Outcome outcome;
  Role role;
  std::vector<std::string> actions;        // summary() of each, in order
  std::vector<std::string> waiting_for{};  // each must appear in some waiting_for line
};

ClusterBuilder formed_without(PodId outsider) {
  // A formed 3x1 cluster whose tables do not list `outsider` (e.g. it lost its volume).
  ClusterBuilder c;
  c.claimed(m0).claimed(m1).claimed(m2).replica_of(r0, m0).replica_of(r1, m1).replica_of(r2, m2);
  std::vector<PodId> members;
  for (PodId p : {m0, r0, m1, r1, m2, r2}) {
    if (p != outsider) members.push_back(p);
  }
  c.mesh(members);
  return c;
}

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = {
      // --- Creating the cluster.
      {"cold start, every pod empty: ordinal 0 sets epoch S+1 and claims its range; nobody serves slots to MEET",
       [] { return ClusterBuilder().fresh_all(); },
       m0,
       Outcome::act,
       Role::master,
       {"set-config-epoch 1", "claim-slots 0-5460"}},

      {"cold start, last shard: epoch 3 and slots 10923-16383",
       [] { return ClusterBuilder().fresh_all(); },
       m2,
       Outcome::act,
       Role::master,
       {"set-config-epoch 3", "claim-slots 10923-16383"}},

      {"cold start with one pod missing: 5 of 6 is still a quorum",
       [] { return ClusterBuilder().fresh_all().unresolved(r2); },
       m1,
       Outcome::act,
       Role::master,
       {"set-config-epoch 2", "claim-slots 5461-10922"}},

      {"cold start: a peer ordinal 0 that has claimed is met, those about to create are not",
       [] { return ClusterBuilder().fresh_all().claimed(m1); },
       m0,
       Outcome::act,
       Role::master,
       {"set-config-epoch 1", "claim-slots 0-5460", "meet redis-shard1-0"}},

      {"cold start without a quorum (3 of 6): wait, do nothing, name the missing pods",
       [] { return ClusterBuilder().fresh(m0).fresh(r0).fresh(m1).down(r1); },
       m0,
       Outcome::wait,
       Role::master,
       {},
       {"quorum: 3 of 6 pods answer as themselves, 4 needed", "pod redis-shard1-1", "connection refused",
        "pod redis-shard2-0", "pod redis-shard2-1", "NXDOMAIN"}},

      {"creator that already knows another node does not set its config epoch",
       [] { return ClusterBuilder().fresh_all().knows(m0, {r0}); },
       m0,
       Outcome::act,
       Role::master,
       {"claim-slots 0-5460"}},

      {"creator whose epoch is already set (it died mid-create) claims without setting it again",
       [] { return ClusterBuilder().fresh_all().epoch(m0, 1); },
       m0,
       Outcome::act,
       Role::master,
       {"claim-slots 0-5460"}},

      {"after claiming, a master MEETs every other slot-serving master, not the replicas",
       [] { return ClusterBuilder().fresh_all().claimed(m0).claimed(m1).claimed(m2); },
       m0,
       Outcome::act,
       Role::master,
       {"meet redis-shard1-0", "meet redis-shard2-0"}},

      {"cold start replica waits for its master-to-be and MEETs nobody",
       [] { return ClusterBuilder().fresh_all(); },
       r1,
       Outcome::wait,
       Role::replica,
       {},
       {"master-to-be is pod redis-shard1-0"}},

      // --- A range someone already holds is never claimed again.
      {"fresh ordinal 0 whose range a promoted replica holds: no claim, MEETs the holder to join as replica",
       [] {
         return formed_without(m0).master_of(r0, {0, 5460}, 7).fresh(m0);
       },
       m0,
       Outcome::act,
       Role::replica,
       {"meet redis-shard0-1"}},

      {"range held only in other nodes' tables (its holder is down): no claim, wait",
       [] {
         return formed_without(m0).master_of(r0, {0, 5460}, 7).down(r0).fresh(m0);
       },
       m0,
       Outcome::wait,
       Role::replica,
       {},
       {"shard 0 has no master serving slots among its pods that answer"}},

      // --- Replicas joining their shard's master.
      {"replica waits while its shard's master has not claimed",
       [] {
         ClusterBuilder c;
         c.claimed(m1).claimed(m2).replica_of(r1, m1).replica_of(r2, m2).fresh(r0).mesh({r0, m1, r1, m2, r2}).fresh(m0);
         return c;
       },
       r0,
       Outcome::wait,
       Role::replica,
       {},
       {"master-to-be is pod redis-shard0-0",
        "shard 0 (slots 0-5460) is held by no node; its ordinal-0 pod redis-shard0-0: answers but has not claimed"}},

      {"replica whose master claimed but is not in its table: MEET it (only it), no REPLICATE yet",
       [] { return formed_without(r0).fresh(r0); },
       r0,
       Outcome::act,
       Role::replica,
       {"meet redis-shard0-0"}},

      {"replica that knows its shard's master: REPLICATE it",
       [] { return formed_without(r0).fresh(r0).mesh(); },
       r0,
       Outcome::act,
       Role::replica,
       {"replicate redis-shard0-0"}},

      {"replica of another shard's master: REPLICATE its own shard's master",
       [] { return healthy_3x1().replica_of(r0, m1); },
       r0,
       Outcome::act,
       Role::replica,
       {"replicate redis-shard0-0"}},

      {"slot-less master holding keys is not made a replica: fail without actions",
       [] { return formed_without(r0).fresh(r0).mesh().keys(r0, 42); },
       r0,
       Outcome::fail,
       Role::replica,
       {},
       {"42 keys", "pod redis-shard0-0"}},

      {"old ordinal 0 without slots while ordinal 1 holds the range: REPLICATE ordinal 1",
       [] {
         return formed_without(m0).master_of(r0, {0, 5460}, 7).fresh(m0).mesh();
       },
       m0,
       Outcome::act,
       Role::replica,
       {"replicate redis-shard0-1"}},

      // --- Converged, or waiting for the cluster to settle.
      {"converged master: slots served, cluster_state ok",
       [] { return healthy_3x1(); },
       m1,
       Outcome::converged,
       Role::master,
       {}},

      {"converged replica: right master, link up",
       [] { return healthy_3x1(); },
       r2,
       Outcome::converged,
       Role::replica,
       {}},

      {"replica with its replication link down waits for the link",
       [] { return healthy_3x1().replica_of(r1, m1, Link::down); },
       r1,
       Outcome::wait,
       Role::replica,
       {},
       {"replication link to 00010000 (pod redis-shard1-0 at 10.0.0.3:6379) is not up yet"}},

      {"cluster_state fail with a shard unclaimed: wait, naming that shard's ordinal-0 pod",
       [] {
         ClusterBuilder c;
         c.claimed(m0).claimed(m1).replica_of(r0, m0).replica_of(r1, m1).fresh(r2).mesh({m0, r0, m1, r1, r2});
         return c;
       },
       m0,
       Outcome::wait,
       Role::master,
       {},
       {"cluster_state is fail on this node (10923 of 16384 slots assigned, 5 nodes known)",
        "shard 2 (slots 10923-16383) is held by no node; its ordinal-0 pod redis-shard2-0: "
        "redis-shard2-0.redis-pods.default.svc.cluster.local: no such name (NXDOMAIN)"}},

      {"promoted replica holding its shard's slots stays master",
       [] {
         return formed_without(m0).master_of(r0, {0, 5460}, 7).fresh(m0).mesh().down(m0);
       },
       r0,
       Outcome::converged,
       Role::master,
       {}},

      {"old master demoted by Redis on its return stays a replica of the promoted one",
       [] {
         return healthy_3x1().master_of(r0, {0, 5460}, 7).replica_of(m0, r0);
       },
       m0,
       Outcome::converged,
       Role::replica,
       {}},

      // --- The local node.
      {"local redis-server does not answer: wait",
       [] { return healthy_3x1().down(m0); },
       m0,
       Outcome::wait,
       Role::undecided,
       {},
       {"local redis-server: redis-shard0-0: 10.0.0.1:6379: connection refused"}},

      {"local redis-server without cluster support: fail",
       [] { return healthy_3x1().cluster_disabled(m0); },
       m0,
       Outcome::fail,
       Role::undecided,
       {},
       {"cluster-enabled yes"}},

      // --- MEETs that must (not) happen.
      {"MEET to a peer still in handshake: no second MEET",
       [] { return healthy_3x1().forget(m0, m2).handshake(m0, m2).state(m0, State::ok); },
       m0,
       Outcome::converged,
       Role::master,
       {}},

      {"a peer name that resolves to this very node (duplicate DNS) is not met",
       [] { return healthy_3x1().same_node_as(m1, m0); },
       m0,
       Outcome::converged,
       Role::master,
       {}},

      {"a peer whose redis-server runs without cluster support is not met",
       [] { return healthy_3x1().cluster_disabled(m2); },
       m0,
       Outcome::converged,
       Role::master,
       {}},

      {"a known master whose slots this node has not learned yet is MET again",
       [] { return healthy_3x1().listed_with_slots(m0, m1, {}); },
       m0,
       Outcome::act,
       Role::master,
       {"meet redis-shard1-0"}},
  };
  return all;
}

}  // namespace

TEST_CASE("planner scenarios", "[planner]") {
  for (const auto& scenario : scenarios()) {
    DYNAMIC_SECTION(scenario.name) {
      const ClusterBuilder cluster = scenario.given();
      const plan::Plan plan = cluster.plan_for(scenario.self);
      INFO("situation: " << plan.situation);
      INFO("waiting for: " << fmt::format("{}", fmt::join(plan.waiting_for, " | ")));
      CHECK(plan::to_string(plan.outcome) == std::string(plan::to_string(scenario.outcome)));
      CHECK(plan::to_string(plan.role) == std::string(plan::to_string(scenario.role)));
      CHECK(summaries(plan) == scenario.actions);
      for (const auto& expected : scenario.waiting_for) {
        bool found = false;
        for (const auto& line : plan.waiting_for) found = found || line.find(expected) != std::string::npos;
        INFO("expected in waiting_for: " << expected);
        CHECK(found);
      }
      check_plan_properties(cluster, scenario.self, plan);
    }
  }
}

TEST_CASE("planner: MEET and REPLICATE actions carry the verified target", "[planner]") {
  ClusterBuilder cluster = ClusterBuilder().fresh_all().claimed(m1);
  plan::Plan plan = cluster.plan_for(m0);
  REQUIRE(plan.actions.size() == 3);
  const auto& meet = plan.actions[2];
  CHECK(meet == plan::Action{plan::Meet{"redis-shard1-0", cluster.id(m1), "10.0.0.3", 6379, 16379}, plan::ThisNode{},
                             meet.reason, false});
  CHECK(plan::describe(meet) == "CLUSTER MEET 10.0.0.3 6379 16379");
  CHECK_THAT(meet.reason, Catch::Contains("redis-shard1-0") && Catch::Contains("10.0.0.3"));
  CHECK(plan::describe(plan.actions[0]) == "CLUSTER SET-CONFIG-EPOCH 1");
  CHECK(plan::describe(plan.actions[1]) == "CLUSTER ADDSLOTSRANGE 0 5460");

  ClusterBuilder joining = formed_without(r0).fresh(r0).mesh();
  plan::Plan replicate = joining.plan_for(r0);
  REQUIRE(replicate.actions.size() == 1);
  CHECK(replicate.actions[0] ==
        plan::Action{plan::Replicate{"redis-shard0-0", joining.id(m0)}, plan::ThisNode{}, replicate.actions[0].reason});
  CHECK(plan::describe(replicate.actions[0]) == "CLUSTER REPLICATE " + joining.id(m0));
}

TEST_CASE("planner: a MEET goes to the port DNS gave and the bus port the node gives for itself", "[planner]") {
  // m1's SRV record names port 7000, and its node says its cluster bus is at 17777: a pod
  // that does not use --port and --bus-port is still MEETed where it listens.
  ClusterBuilder cluster = ClusterBuilder().fresh_all().claimed(m1);
  Observation observation = cluster.build();
  auto& peer = observation.pods.at(cluster.index(m1));
  peer.endpoint->port = 7000;
  std::vector<redis::ClusterNode> lines = peer.probe->nodes.lines();
  for (auto& node : lines) {
    if (!node.myself) continue;
    node.port = 7000;
    node.bus_port = 17777;
  }
  peer.probe->nodes = lines;
  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index(m0), observation);
  REQUIRE(plan.actions.size() == 3);
  CHECK(plan::describe(plan.actions[2]) == "CLUSTER MEET 10.0.0.3 7000 17777");
  CHECK_THAT(plan.actions[2].reason, Catch::Contains("answers at 10.0.0.3:7000"));
}

TEST_CASE("planner: the quorum counts every expected pod, whatever the shard", "[planner]") {
  // 3x2: 9 pods, quorum 5.
  ClusterBuilder four(3, 2);
  four.fresh({0, 0}).fresh({0, 1}).fresh({1, 0}).fresh({2, 2});
  CHECK(four.plan_for({0, 0}).outcome == Outcome::wait);

  ClusterBuilder five(3, 2);
  five.fresh({0, 0}).fresh({0, 1}).fresh({1, 0}).fresh({2, 2}).fresh({1, 1});
  plan::Plan plan = five.plan_for({0, 0});
  CHECK(plan.outcome == Outcome::act);
  CHECK(summaries(plan) == std::vector<std::string>{"set-config-epoch 1", "claim-slots 0-5460"});
}

TEST_CASE("planner: a quorum made of earlier rounds' answers asks again before creating", "[planner]") {
  // 3x2, quorum 5: five pods answer as themselves, but two of those answers are reused from an
  // earlier round (a waiting pod asks only the pods it has not verified yet). Creating on them
  // could rest on tables a second old: the plan waits for a round that asks every pod.
  ClusterBuilder five(3, 2);
  five.fresh({0, 0}).fresh({0, 1}).fresh({1, 0}).fresh({2, 2}).fresh({1, 1});
  Observation observation = five.build();
  observation.pods.at(five.index({1, 0})).provenance = Provenance::reused;
  observation.pods.at(five.index({2, 2})).provenance = Provenance::reused;
  plan::Plan plan = plan::make_plan(five.topology(), five.index({0, 0}), observation);
  CHECK(plan.outcome == Outcome::wait);
  CHECK(plan.actions.empty());
  CHECK_THAT(plan.situation, Catch::Contains("2 of them in earlier rounds: asking every pod again before creating"));
  REQUIRE_FALSE(plan.waiting_for.empty());
  CHECK(plan.waiting_for.front() == "quorum: 3 of 9 pods answered as themselves this round, 5 needed");

  // The next round asks them all: it creates.
  CHECK(five.plan_for({0, 0}).outcome == Outcome::act);
}

TEST_CASE("planner: a long list of missing pods is capped", "[planner]") {
  ClusterBuilder cluster(10, 1);  // 20 pods, quorum 11; only the creator answers
  cluster.fresh({0, 0});
  plan::Plan plan = cluster.plan_for({0, 0});
  CHECK(plan.outcome == Outcome::wait);
  REQUIRE(plan.waiting_for.size() == 1 + 8 + 1);
  CHECK(plan.waiting_for.front() == "quorum: 1 of 20 pods answer as themselves, 11 needed");
  CHECK(plan.waiting_for.back() == "... and 11 more pods");
}

TEST_CASE("planner: to_string names", "[planner]") {
  CHECK(std::string(plan::to_string(plan::SetConfigEpoch{1})) == "set-config-epoch");
  CHECK(std::string(plan::to_string(plan::ClaimSlots{{0, 5460}})) == "claim-slots");
  CHECK(std::string(plan::to_string(plan::Meet{})) == "meet");
  CHECK(std::string(plan::to_string(plan::Replicate{})) == "replicate");
  CHECK(std::string(plan::to_string(plan::Forget{})) == "forget");
  CHECK(std::string(plan::to_string(plan::BumpEpoch{})) == "bump-epoch");
  CHECK(std::string(plan::to_string(Outcome::converged)) == "converged");
  CHECK(std::string(plan::to_string(Outcome::act)) == "act");
  CHECK(std::string(plan::to_string(Outcome::wait)) == "wait");
  CHECK(std::string(plan::to_string(Outcome::fail)) == "fail");
  CHECK(std::string(plan::to_string(Role::master)) == "master");
  CHECK(std::string(plan::to_string(Role::replica)) == "replica");
  CHECK(std::string(plan::to_string(Role::undecided)) == "undecided");
}

// Faults the BRIEF lists for the shell scripts; the planner is meant not to repeat them.
TEST_CASE("planner: after a full restart in which every IP changed, known peers are met at their new addresses",
          "[planner][brief]") {
  // Every table still lists every peer at its old address (10.0.1.x), disconnected; Redis only
  // pings known addresses, so without a MEET to the new ones nobody ever reaches anybody.
  ClusterBuilder cluster = healthy_3x1();
  const std::vector<PodId> all = {m0, r0, m1, r1, m2, r2};
  for (PodId viewer : all) {
    for (PodId peer : all) {
      if (peer != viewer) cluster.listed_at(viewer, peer, fmt::format("10.0.1.{}", cluster.index(peer) + 1));
    }
    cluster.state(viewer, State::fail);
  }
  SECTION("a master MEETs the other masters at their new addresses") {
    plan::Plan plan = cluster.plan_for(m0);
    INFO("situation: " << plan.situation);
    CHECK(plan.outcome == Outcome::act);
    CHECK(summaries(plan) == std::vector<std::string>{"meet redis-shard1-0", "meet redis-shard2-0"});
  }
  SECTION("a replica MEETs every master at its new address (it replicates already), its own first") {
    plan::Plan plan = cluster.plan_for(r1);
    INFO("situation: " << plan.situation);
    CHECK(plan.outcome == Outcome::act);
    CHECK(summaries(plan) ==
          std::vector<std::string>{"meet redis-shard1-0", "meet redis-shard2-0", "meet redis-shard0-0"});
  }
}

TEST_CASE("planner: a round MEETs at most 2400/pods masters, its own shard's first, then the shards after it",
          "[planner][scale]") {
  // 80x2 (240 pods): every master serves its slots, and this replica knows none of them yet.
  ClusterBuilder cluster(80, 2);
  cluster.fresh_all();
  for (int shard = 0; shard < 80; ++shard) cluster.claimed({shard, 0});
  const PodId self{78, 1};
  cluster.replica_of(self, {78, 0});
  plan::Plan plan = cluster.plan_for(self);
  INFO("situation: " << plan.situation);
  CHECK(plan.outcome == Outcome::act);
  std::vector<std::string> expected;
  for (int shard : {78, 79, 0, 1, 2, 3, 4, 5, 6, 7}) expected.push_back(fmt::format("meet redis-shard{}-0", shard));
  CHECK(summaries(plan) == expected);
  // The next round, with those ten known (MEETed or brought by gossip), MEETs the next ten.
  for (int shard : {78, 79, 0, 1, 2, 3, 4, 5, 6, 7}) cluster.knows(self, {PodId{shard, 0}});
  plan::Plan next = cluster.plan_for(self);
  REQUIRE_FALSE(summaries(next).empty());
  CHECK(summaries(next).front() == "meet redis-shard8-0");
  CHECK(summaries(next).size() == 10);
}

TEST_CASE("planner: a replica still linked to its master's old address replicates it again", "[planner][brief]") {
  // BRIEF: after a master changes its address its replicas can stay linked to the old one
  // (master_link_status:down) until CLUSTER REPLICATE is issued again.
  ClusterBuilder cluster = healthy_3x1().replica_link_to(r1, "10.0.1.3");
  plan::Plan plan = cluster.plan_for(r1);
  INFO("situation: " << plan.situation);
  CHECK(plan.outcome == Outcome::act);
  CHECK(summaries(plan) == std::vector<std::string>{"replicate redis-shard1-0"});
}

TEST_CASE("planner: waiting for a range whose holder is down names the holder, not this pod", "[planner][brief]") {
  // redis-shard0-0 lost its volume; redis-shard0-1 took over slots 0-5460 and is down now. Every
  // wait must say which peer it waits for: here the holder, redis-shard0-1.
  ClusterBuilder cluster = formed_without(m0).master_of(r0, {0, 5460}, 7).down(r0).fresh(m0);
  plan::Plan plan = cluster.plan_for(m0);
  INFO("waiting for: " << fmt::format("{}", fmt::join(plan.waiting_for, " | ")));
  REQUIRE(plan.outcome == Outcome::wait);
  bool names_holder = false;
  for (const auto& line : plan.waiting_for) {
    CHECK(line.find("master-to-be is pod redis-shard0-0") == std::string::npos);
    names_holder = names_holder || line.find("redis-shard0-1") != std::string::npos;
  }
  CHECK(names_holder);
}

TEST_CASE("planner: a node of another cluster is reported, never MEETed", "[planner][heal]") {
  // m2's table gives shard 0's slots to m1: whoever answers at m2's address does not share this
  // cluster's slot map, so m0 must not MEET it (a MEET would merge the two).
  ClusterBuilder cluster;
  cluster.fresh_all().claimed(m0).claimed(m1).claimed(m2).knows(m2, {m1}).listed_with_slots(m2, m1,
                                                                                            {cluster.range(m0)});
  plan::Plan plan = cluster.plan_for(m0);
  INFO("situation: " << plan.situation);
  for (const auto& action : plan.actions) {
    INFO(plan::describe(action));
    if (const auto* meet = std::get_if<plan::Meet>(&action.step)) CHECK(meet->pod != "redis-shard2-0");
    if (const auto* replicate = std::get_if<plan::Replicate>(&action.step)) CHECK(replicate->pod != "redis-shard2-0");
  }
  bool reported = false;
  for (const auto& line : plan.warnings) reported = reported || line.find("another cluster") != std::string::npos;
  CHECK(reported);
}

TEST_CASE("planner: this pod's former identity is forgotten on every node", "[planner][heal]") {
  // r1 lost its volume and came back as a new node; its old ID, announcing r1's pod name, is
  // still in m1's table, unreachable (noaddr).
  ClusterBuilder cluster = healthy_3x1();
  cluster.former_identity(m1, r1);
  plan::Plan plan = cluster.plan_for(r1);
  INFO("situation: " << plan.situation);
  REQUIRE(plan.actions.size() == 1);
  const auto& forget = plan.actions.front();
  CHECK(forget.step == plan::Step{plan::Forget{"dead" + std::string(36, '0')}});
  const auto* nodes = std::get_if<plan::EveryNode>(&forget.target);
  REQUIRE(nodes != nullptr);
  CHECK(nodes->nodes.size() == 6);
  CHECK(nodes->nodes.front() == net::Endpoint{cluster.ip(r1), 6379});  // its own node first
  CHECK_FALSE(forget.reason.empty());
}

TEST_CASE("planner: a FORGET also reaches the pods a narrow round did not ask again", "[planner][heal]") {
  // Only r1's own shard was asked this round; the others' answers are from earlier rounds.
  ClusterBuilder cluster = healthy_3x1();
  cluster.former_identity(m1, r1);
  Observation observation = cluster.build();
  for (PodId p : {m0, r0, m2, r2}) observation.pods.at(cluster.index(p)).provenance = Provenance::reused;
  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index(r1), observation);
  REQUIRE(plan.actions.size() == 1);
  const auto& forget = plan.actions.front();
  CHECK(std::holds_alternative<plan::Forget>(forget.step));
  const auto* nodes = std::get_if<plan::EveryNode>(&forget.target);
  REQUIRE(nodes != nullptr);
  CHECK(nodes->nodes.size() == 6);
  CHECK(nodes->nodes.front() == net::Endpoint{cluster.ip(r1), 6379});
}

TEST_CASE(
    "planner: an ordinal 0 that lost its volume after a failover replicates the promoted node and forgets "
    "its former ID",
    "[planner][heal]") {
  // m0 came back empty; r0 was promoted and serves shard 0. m0's former ID, a failed master
  // without slots now, is still in m1's table.
  ClusterBuilder cluster = formed_without(m0).master_of(r0, {0, 5460}, 7).fresh(m0).mesh();
  cluster.former_identity(m1, m0);
  plan::Plan plan = cluster.plan_for(m0);
  INFO("situation: " << plan.situation);
  CHECK(plan.role == Role::replica);
  CHECK(summaries(plan) == std::vector<std::string>{"replicate redis-shard0-1", "forget dead0000"});
}

TEST_CASE("planner: an ordinal 0 that lost its volume before the failover waits, claims nothing, forgets nothing",
          "[planner][heal]") {
  // m0 came back empty at once: its former ID still holds 0-5460 in m1's table (failing), and
  // r0 is still a replica. Forgetting the former ID would unassign the range; claiming it would
  // serve it empty. Redis' failover of r0 is what this pod waits for.
  ClusterBuilder cluster = formed_without(m0).down(r0).fresh(m0).mesh({m0, m1, r1, m2, r2});
  cluster.former_identity(m1, m0, /*reachable=*/false, {{0, 5460}});
  plan::Plan plan = cluster.plan_for(m0);
  INFO("waiting for: " << fmt::format("{}", fmt::join(plan.waiting_for, " | ")));
  CHECK(plan.outcome == Outcome::wait);
  CHECK(plan.actions.empty());
}

TEST_CASE("planner: without names, a failed noaddr node that nothing depends on is forgotten everywhere",
          "[planner][heal]") {
  // Redis 6.2: r1 came back as a new node at its address; its old ID has no name and no address.
  ClusterBuilder cluster = healthy_3x1();
  for (PodId viewer : {m0, r0, m1, m2, r2}) cluster.nameless_replaced(viewer, r1);
  for (PodId viewer : {m0, m1}) {
    plan::Plan plan = cluster.plan_for(viewer);
    INFO("viewer " << cluster.name(viewer) << ", situation: " << plan.situation);
    REQUIRE(plan.actions.size() == 1);
    CHECK(plan.actions.front().step == plan::Step{plan::Forget{"dead" + std::string(36, '0')}});
    CHECK_THAT(plan.actions.front().reason, Catch::Contains("noaddr"));
  }
}

TEST_CASE("planner: without names, a node failed at an address no pod has any more is forgotten", "[planner][heal]") {
  // Redis 6.2: r1 came back empty at a new address; its old ID failed at the old one.
  ClusterBuilder cluster = healthy_3x1();
  cluster.nameless_replaced(m1, r1, {}, false, false, /*last_ip=*/"10.0.7.7");
  plan::Plan plan = cluster.plan_for(m1);
  REQUIRE(plan.actions.size() == 1);
  CHECK_THAT(plan.actions.front().reason, Catch::Contains("10.0.7.7:6379, which is no pod's address now"));
  // At an address a pod has now, a failed node is that pod's, down: kept.
  ClusterBuilder down = healthy_3x1();
  down.nameless_replaced(m1, r1, {}, false, false, /*last_ip=*/down.ip(r1));
  for (const auto& action : down.plan_for(m1).actions) CHECK_FALSE(std::holds_alternative<plan::Forget>(action.step));
}

TEST_CASE("planner: a nameless noaddr node is kept while it holds slots, is replicated or answers", "[planner][heal]") {
  auto forgets = [](ClusterBuilder& cluster, PodId viewer) {
    const plan::Plan plan = cluster.plan_for(viewer);
    return std::any_of(plan.actions.begin(), plan.actions.end(),
                       [](const plan::Action& a) { return std::holds_alternative<plan::Forget>(a.step); });
  };
  ClusterBuilder serving = formed_without(m0).down(r0).fresh(m0).mesh({m0, m1, r1, m2, r2});
  serving.nameless_replaced(m1, m0, {{0, 5460}});
  CHECK_FALSE(forgets(serving, m1));
  ClusterBuilder followed = healthy_3x1();
  followed.nameless_replaced(m1, m0, {}, /*followed=*/true);
  CHECK_FALSE(forgets(followed, m1));
  // r1 moved, its old address went to another pod: m1 lists r1's ID without an address, while r1
  // answers as it at its new one.
  ClusterBuilder moved = healthy_3x1();
  moved.nameless_replaced(m1, r1, {}, false, /*moved=*/true);
  CHECK_FALSE(forgets(moved, m1));
}

TEST_CASE("planner: a live node announcing this pod's name is reported, not forgotten", "[planner][heal]") {
  ClusterBuilder cluster = healthy_3x1();
  cluster.former_identity(m1, r1, /*reachable=*/true);
  plan::Plan plan = cluster.plan_for(r1);
  for (const auto& action : plan.actions) CHECK_FALSE(std::holds_alternative<plan::Forget>(action.step));
  REQUIRE(plan.warnings.size() == 1);
  CHECK_THAT(plan.warnings.front(), Catch::Contains("redis-shard1-1"));
}

namespace {

// Shard 0 lost both pods' data: they answer, empty; shards 1 and 2 are formed and still list
// the dead owner of 0-5460.
ClusterBuilder shard0_lost() {
  ClusterBuilder cluster;
  cluster.fresh_all().claimed(m1).claimed(m2).replica_of(r1, m1).replica_of(r2, m2).mesh({m0, r0, m1, r1, m2, r2});
  for (PodId viewer : {m0, r0, m1, r1, m2, r2}) cluster.dead_owner(viewer, {{0, 5460}});
  return cluster;
}

}  // namespace

TEST_CASE("planner: a shard that lost every pod's data is reported and left alone by default", "[planner][heal]") {
  plan::Plan plan = shard0_lost().plan_for(m0);
  INFO("situation: " << plan.situation);
  CHECK(plan.outcome == Outcome::wait);
  CHECK(plan.actions.empty());
  REQUIRE_FALSE(plan.waiting_for.empty());
  CHECK_THAT(plan.waiting_for.front(), Catch::Contains("0-5460") && Catch::Contains("--recover-lost-slots"));
}

TEST_CASE("planner: with --recover-lost-slots ordinal 0 forgets the dead owner and takes the range over",
          "[planner][heal]") {
  ClusterBuilder cluster = shard0_lost();
  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index(m0), cluster.build(), {true});
  INFO("situation: " << plan.situation);
  REQUIRE(plan.outcome == Outcome::act);
  REQUIRE(summaries(plan) == std::vector<std::string>{"forget dead0wne", "claim-slots 0-5460", "bump-epoch"});
  for (const auto& action : plan.actions) CHECK(action.data_loss);
  const auto* nodes = std::get_if<plan::EveryNode>(&plan.actions.front().target);
  REQUIRE(nodes != nullptr);
  CHECK(nodes->nodes.size() == 6);
}

TEST_CASE("planner: each action names its target: this pod's node, or every node for a FORGET", "[planner][heal]") {
  // The recovery plan holds both kinds: a FORGET for every pod that answered (this pod's node
  // first, as the actor asks them in order), then steps on this pod's own node only.
  ClusterBuilder cluster = shard0_lost();
  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index(m0), cluster.build(), {true});
  REQUIRE(plan.actions.size() == 3);
  std::vector<net::Endpoint> every_pod;
  for (PodId p : {m0, r0, m1, r1, m2, r2}) every_pod.push_back({cluster.ip(p), 6379});
  CHECK(plan.actions[0].target == plan::Target{plan::EveryNode{every_pod}});
  CHECK(plan::describe(plan.actions[0]) == "CLUSTER FORGET dead0wner" + std::string(31, '0') + " (on 6 nodes)");
  CHECK(plan.actions[1].target == plan::Target{plan::ThisNode{}});
  CHECK(plan::describe(plan.actions[1]) == "CLUSTER ADDSLOTSRANGE 0 5460");
  CHECK(plan.actions[2].target == plan::Target{plan::ThisNode{}});
  CHECK(plan::describe(plan.actions[2]) == "CLUSTER BUMPEPOCH");
  CHECK(plan::argv(plan.actions[0].step) ==
        std::vector<std::string>{"CLUSTER", "FORGET", "dead0wner" + std::string(31, '0')});
}

TEST_CASE("planner: a replica of the lost shard never recovers slots itself", "[planner][heal]") {
  ClusterBuilder cluster = shard0_lost();
  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index(r0), cluster.build(), {true});
  for (const auto& action : plan.actions) CHECK_FALSE(action.data_loss);
}

// --- The verified observation: who answers at a pod's address, and what that may count for.

TEST_CASE("verify_identities: a pod's name, none, another's, or one node at two addresses", "[planner][identity]") {
  ClusterBuilder cluster = healthy_3x1();
  cluster.nameless(r1).announces_as(r2, "redis-shard0-1.redis-pods.default.svc.cluster.local");
  Observation observation = cluster.build();
  CHECK(observation.pods[cluster.index(m0)].identity == Identity::verified);
  CHECK(observation.pods[cluster.index(r1)].identity == Identity::nameless);
  CHECK(observation.pods[cluster.index(r2)].identity == Identity::other_pod);
  CHECK_THAT(observation.pods[cluster.index(r2)].why_not(),
             Catch::Contains("announces redis-shard0-1.redis-pods.default.svc.cluster.local: not this pod"));
  // The FQDN (what this tool announces) and the bare pod name (round 1) both verify.
  cluster.announces_as(m1, "REDIS-SHARD1-0.redis-pods.default.svc.cluster.local.");
  CHECK(cluster.build().pods[cluster.index(m1)].identity == Identity::verified);

  ClusterBuilder two_names = ClusterBuilder().fresh_all().nameless(m0).same_node_as(m1, m0);
  Observation seen = two_names.build();
  CHECK(seen.pods[two_names.index(m0)].identity == Identity::duplicate);
  CHECK(seen.pods[two_names.index(m1)].identity == Identity::duplicate);
}

TEST_CASE("planner: a stale DNS record pointing at another pod's node does not count for that pod",
          "[planner][identity]") {
  // redis-shard1-0's record points at redis-shard0-0's node: the quorum counts that node once,
  // and shard 1's ordinal 0 is not taken to answer.
  ClusterBuilder cluster =
      ClusterBuilder().fresh_all().unresolved(r1).unresolved(m2).unresolved(r2).same_node_as(m1, m0);
  plan::Plan plan = cluster.plan_for(r0);
  CHECK(plan.outcome == Outcome::wait);
  plan::Plan creator = cluster.plan_for(m0);
  CHECK(creator.outcome == Outcome::wait);  // 2 distinct verified nodes (m0, r0) of 6: no quorum
  CHECK_THAT(creator.waiting_for.front(), Catch::Contains("quorum: 2 of 6 pods answer as themselves"));
}

TEST_CASE("planner: two names resolving to one address count once in the quorum", "[planner][identity]") {
  // Four names answer, but two of them are one nameless node: 3 distinct nodes, and the two
  // names of the nameless node do not count at all (neither is certain).
  ClusterBuilder cluster = ClusterBuilder().fresh_all().unresolved(m2).unresolved(r2).nameless(m1).same_node_as(r1, m1);
  plan::Plan plan = cluster.plan_for(m0);
  CHECK(plan.outcome == Outcome::wait);
  CHECK_THAT(plan.waiting_for.front(), Catch::Contains("quorum: 2 of 6 pods answer as themselves"));
}

TEST_CASE("planner: a nameless node is not counted in the quorum, not MEETed, not replicated", "[planner][identity]") {
  // Fresh cold start, four of six pods answer, but two have not run their bootstrap yet.
  ClusterBuilder cold = ClusterBuilder().fresh_all().unresolved(m2).unresolved(r2).nameless(m1).nameless(r1);
  CHECK(cold.plan_for(m0).outcome == Outcome::wait);
  CHECK_THAT(cold.plan_for(m0).waiting_for.front(), Catch::Contains("quorum: 2 of 6"));
  // Once named, the same four pods make a quorum.
  CHECK(ClusterBuilder().fresh_all().unresolved(m2).unresolved(r2).plan_for(m0).outcome == Outcome::act);

  // A replica's master serves slots but announces no name, and this node does not know it:
  // nothing is sent to it.
  ClusterBuilder unknown_master = ClusterBuilder().fresh_all().claimed(m0).nameless(m0);
  plan::Plan plan = unknown_master.plan_for(r0);
  CHECK(summaries(plan).empty());
  CHECK(plan.outcome == Outcome::wait);
  // A nameless master this node already knows (restarted before its bootstrap named it again)
  // is still its shard's master: the replica stays converged.
  ClusterBuilder restarted = healthy_3x1().nameless(m0);
  CHECK(restarted.plan_for(r0).outcome == Outcome::converged);
}

TEST_CASE("planner: with servers that cannot announce names, a nameless node counts", "[planner][identity]") {
  ClusterBuilder cold = ClusterBuilder().fresh_all();
  for (PodId p : {m0, r0, m1, r1, m2, r2}) cold.nameless(p);
  CHECK(plan::make_plan(cold.topology(), cold.index(m0), cold.build()).outcome == Outcome::wait);
  plan::PlanPolicy policy;
  policy.names = plan::NameCheck::unavailable;
  CHECK(plan::make_plan(cold.topology(), cold.index(m0), cold.build(), policy).outcome == Outcome::act);
}

TEST_CASE("planner: a node of another cluster at a pod's address is never MEETed nor counted", "[planner][identity]") {
  // redis-shard2-1's record points at a master of another cluster (its own pod of that name in
  // namespace other), which serves slots outside this pod's range: its table does not
  // contradict ours. It is not this pod: the quorum is 5, nobody MEETs it, nobody reads its table.
  for (std::string announce : {std::string("redis-shard2-1.redis-pods.other.svc.cluster.local")}) {
    ClusterBuilder cluster = ClusterBuilder().fresh_all().foreign_node_at(r2, {{16000, 16383}}, announce);
    Observation observation = cluster.build();
    CHECK(observation.pods[cluster.index(r2)].identity == Identity::other_pod);
    plan::Plan creator = cluster.plan_for(m2);  // its range holds the foreign slots: not a holder
    CHECK(creator.outcome == Outcome::act);
    CHECK(summaries(creator) == std::vector<std::string>{"set-config-epoch 3", "claim-slots 10923-16383"});
    // A master of this cluster serving slots never MEETs the foreign one.
    ClusterBuilder formed = ClusterBuilder()
                                .claimed(m0)
                                .claimed(m1)
                                .claimed(m2)
                                .replica_of(r0, m0)
                                .replica_of(r1, m1)
                                .mesh({m0, r0, m1, r1, m2})
                                .foreign_node_at(r2, {{16000, 16383}}, announce);
    for (PodId self : {m0, m1, m2, r0, r1}) {
      for (const auto& line : summaries(formed.plan_for(self))) CHECK(line != "meet redis-shard2-1");
    }
  }
}

namespace {

// The plan for `self` in a round whose pods came from the service's SRV records, which also
// list `listed` (targets that are no expected pod).
plan::Plan plan_with_srv(const ClusterBuilder& cluster, PodId self, std::vector<std::string> listed = {}) {
  Observation observation = cluster.build();
  observation.discovery.method = DiscoveryMethod::srv;
  observation.discovery.unexpected = std::move(listed);
  return plan::make_plan(cluster.topology(), cluster.index(self), observation);
}

}  // namespace

TEST_CASE("planner: a replica scaled in is forgotten on every node once it is unreachable and unlisted",
          "[planner][heal]") {
  // REPLICAS went from 2 to 1: redis-shard1-2 was deleted, and its failed entry stays in m0's
  // table until every node forgets it.
  ClusterBuilder cluster = healthy_3x1();
  cluster.departed(m0, {1, 2});
  plan::Plan plan = plan_with_srv(cluster, m0);
  INFO("situation: " << plan.situation);
  REQUIRE(plan.actions.size() == 1);
  const auto& forget = plan.actions.front();
  CHECK(forget.step == plan::Step{plan::Forget{"00010002" + std::string(32, 'd')}});
  const auto* nodes = std::get_if<plan::EveryNode>(&forget.target);
  REQUIRE(nodes != nullptr);
  CHECK(nodes->nodes.size() == 6);
  CHECK_THAT(forget.reason, Catch::Contains("redis-shard1-2") && Catch::Contains("scaled in") &&
                                Catch::Contains("unreachable (fail; nothing answers at 10.0.8.1:6379"));
  CHECK_FALSE(forget.data_loss);
}

TEST_CASE("planner: a departed pod's node is forgotten only when its address answers as no one or as another node",
          "[planner][heal]") {
  // A node that has just restarted shows every peer disconnected until its links come up: the
  // departed pod may still run (its StatefulSet not yet scaled in), and only its address tells.
  struct Row {
    AtAddress at_address;
    bool forgotten;
    const char* says;
  };
  const Row rows[] = {
      {AtAddress::itself, false, "it answers at 10.0.8.1:6379: its pod still runs"},
      {AtAddress::unknown, false, "could not be asked who it is"},
      {AtAddress::another_node, true, "another node answers at 10.0.8.1:6379"},
      {AtAddress::nothing, true, "nothing answers at 10.0.8.1:6379: 10.0.8.1:6379: connection refused"},
  };
  for (const auto& row : rows) {
    INFO(to_string(row.at_address));
    ClusterBuilder cluster = healthy_3x1();
    cluster.departed(m0, {1, 2}, false, {}, row.at_address);
    plan::Plan plan = plan_with_srv(cluster, m0);
    const bool forgets = std::any_of(plan.actions.begin(), plan.actions.end(), [](const plan::Action& action) {
      return std::holds_alternative<plan::Forget>(action.step);
    });
    CHECK(forgets == row.forgotten);
    const std::string said = row.forgotten ? plan.actions.front().reason : plan.warnings.at(0);
    CHECK_THAT(said, Catch::Contains(row.says));
  }
  // Not asked at its address this round (more departed entries than a round asks): kept.
  ClusterBuilder cluster = healthy_3x1();
  cluster.departed(m0, {1, 2});
  Observation observation = cluster.build();
  observation.discovery.method = DiscoveryMethod::srv;
  observation.departed.clear();
  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index(m0), observation);
  CHECK(plan.actions.empty());
  REQUIRE(plan.warnings.size() == 1);
  CHECK_THAT(plan.warnings.front(),
             Catch::Contains("was not asked this round") && Catch::Contains("not forgetting it"));
}

TEST_CASE("planner: a pod no longer expected is reported, not forgotten, while it may still exist or serve",
          "[planner][heal]") {
  struct Row {
    const char* name;
    bool reachable;
    std::vector<SlotRange> slots;
    std::vector<std::string> listed;
    bool srv;
    const char* says;
  };
  const std::string fqdn = "redis-shard1-2.redis-pods.default.svc.cluster.local";
  const Row rows[] = {
      {"reachable", true, {}, {}, true, "its pod still runs"},
      {"serves slots", false, {SlotRange{16000, 16000}}, {}, true, "serves slots 16000"},
      // Mid scale-out this pod's REPLICAS is the old one; the new pod restarting is listed.
      {"listed by the service", false, {}, {fqdn}, true, "the service still lists the pod"},
      {"no SRV records", false, {}, {}, false, "cannot tell whether that pod still exists"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    ClusterBuilder cluster = healthy_3x1();
    cluster.departed(m0, {1, 2}, row.reachable, row.slots);
    plan::Plan plan = row.srv ? plan_with_srv(cluster, m0, row.listed) : cluster.plan_for(m0);
    for (const auto& action : plan.actions) CHECK_FALSE(std::holds_alternative<plan::Forget>(action.step));
    REQUIRE(plan.warnings.size() == 1);
    CHECK_THAT(plan.warnings.front(),
               Catch::Contains("redis-shard1-2") && Catch::Contains(row.says) && Catch::Contains("not forgetting it"));
  }
}

TEST_CASE("planner: this node refusing a probe command (NOPERM) fails at once, naming the command", "[planner]") {
  ClusterBuilder cluster = healthy_3x1();
  Observation observation = cluster.build();
  observation.pods.at(cluster.index(m0)).probe = std::unexpected(
      Error{ErrorKind::reply, "10.0.0.1:6379: NOPERM this user has no permissions to run the 'cluster|nodes' command",
            ReplyCode::noperm});
  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index(m0), observation);
  CHECK(plan.outcome == plan::Outcome::fail);
  REQUIRE(plan.waiting_for.size() == 2);
  CHECK_THAT(plan.waiting_for.front(), Catch::Contains("cluster|nodes"));
  CHECK_THAT(plan.waiting_for.back(), Catch::Contains("ACL rules"));
}

namespace {

// A 3x1 cluster as creation left it, seen by pods that now run with SHARDS=4 (shard 3's two
// pods fresh): the builder's topology is 4x1, the old shards hold the 3-shard ranges.
ClusterBuilder scaled_out_3_to_4() {
  ClusterBuilder cluster(4, 1);
  for (int shard = 0; shard < 3; ++shard) {
    cluster.master_of({shard, 0}, shard_slot_range(shard, 3), shard + 1).replica_of({shard, 1}, {shard, 0});
  }
  cluster.fresh({3, 0}).fresh({3, 1});
  std::vector<PodId> old_pods;
  for (int shard = 0; shard < 3; ++shard) old_pods.insert(old_pods.end(), {{shard, 0}, {shard, 1}});
  return cluster.mesh(old_pods);
}

}  // namespace

TEST_CASE("planner: a new shard's ordinal 0 joins as an empty master, then imports its slots", "[planner][scaling]") {
  ClusterBuilder cluster = scaled_out_3_to_4();
  plan::Plan joining = cluster.plan_for({3, 0});
  CHECK(joining.role == Role::master);
  CHECK_THAT(joining.situation, Catch::Contains("scale-out: shard 3 is new"));
  for (const auto& action : joining.actions) CHECK(std::holds_alternative<plan::Meet>(action.step));
  CHECK_FALSE(joining.actions.empty());

  // Once it knows the cluster, it moves the first run the layout gives it from shard 0's master.
  cluster.mesh();
  plan::Plan importing = cluster.plan_for({3, 0});
  REQUIRE(importing.outcome == Outcome::act);
  REQUIRE(importing.actions.size() == 1);
  const auto* move = std::get_if<plan::MigrateSlots>(&importing.actions[0].step);
  REQUIRE(move != nullptr);
  CHECK(move->range == SlotRange{4096, 4096 + 63});
  CHECK(move->source.pod == cluster.name({0, 0}));
  CHECK(move->destination.node_id == cluster.id({3, 0}));
  CHECK(move->other_masters.size() == 2);  // shards 1 and 2
  check_plan_properties(cluster, {3, 0}, importing);
}

TEST_CASE("planner: a new shard's master stopped in its first import finishes it, keys and all", "[planner][scaling]") {
  // Its mover was stopped after a MIGRATE and before SETSLOT NODE: the node holds a key of
  // slot 4096 and no slot, and still shows the slot importing.
  ClusterBuilder cluster = scaled_out_3_to_4();
  cluster.mesh().keys({3, 0}, 1).importing({3, 0}, 4096, {0, 0});
  plan::Plan plan = cluster.plan_for({3, 0});
  CHECK(plan.role == Role::master);
  REQUIRE(plan.actions.size() == 1);
  const auto* move = std::get_if<plan::MigrateSlots>(&plan.actions[0].step);
  REQUIRE(move != nullptr);
  CHECK(move->range == SlotRange{4096, 4096});
  CHECK(move->source.pod == cluster.name({0, 0}));
  // Keys without an import begun are not the layout's to take: it is no new shard then.
  cluster.importing_cleared({3, 0});
  CHECK_FALSE(cluster.plan_for({3, 0}).role == Role::master);
}

TEST_CASE("planner: a process that converged before starts no moves, but finishes one begun", "[planner][scaling]") {
  // Its layout held once: pods of another SHARDS (a rolling update) make it not hold now.
  ClusterBuilder cluster = scaled_out_3_to_4();
  cluster.mesh();
  const plan::PlanPolicy converged_before{.start_moves = false};
  plan::Plan held = plan::make_plan(cluster.topology(), cluster.index({3, 0}), cluster.build(), converged_before);
  CHECK(held.outcome == Outcome::wait);
  CHECK(held.actions.empty());
  REQUIRE_FALSE(held.waiting_for.empty());
  CHECK_THAT(held.waiting_for.front(), Catch::Contains("converged under SHARDS=4 before"));
  CHECK_THAT(held.waiting_for.back(), Catch::Contains("4096 slots still to move"));

  cluster.importing({3, 0}, 4096, {0, 0});
  plan::Plan finishing = plan::make_plan(cluster.topology(), cluster.index({3, 0}), cluster.build(), converged_before);
  REQUIRE(finishing.actions.size() == 1);
  const auto* move = std::get_if<plan::MigrateSlots>(&finishing.actions[0].step);
  REQUIRE(move != nullptr);
  CHECK(move->range == SlotRange{4096, 4096});
}

TEST_CASE("planner: a new shard's master turned into another shard's replica becomes an empty master again",
          "[planner][scaling]") {
  // Redis gave the slots it had taken back to their source's promoted replica (an epoch
  // collision) and made it a replica of that node.
  ClusterBuilder cluster = scaled_out_3_to_4();
  cluster.replica_of({3, 0}, {0, 0}).mesh();
  plan::Plan plan = cluster.plan_for({3, 0});
  INFO("situation: " << plan.situation);
  CHECK(plan.role == Role::master);
  REQUIRE(plan.actions.size() == 1);
  CHECK(plan.actions[0].step == plan::Step{plan::ResetToEmptyMaster{cluster.id({0, 0})}});
  CHECK(plan::describe(plan.actions[0]) == "CLUSTER RESET SOFT");
  CHECK_FALSE(plan.actions[0].data_loss);
  check_plan_properties(cluster, {3, 0}, plan);

  // Never a pod that is no ordinal 0 of a shard without a master: they replicate as before.
  ClusterBuilder replica = scaled_out_3_to_4();
  replica.replica_of({3, 1}, {0, 0}).mesh();
  for (const auto& action : replica.plan_for({3, 1}).actions) {
    CHECK_FALSE(std::holds_alternative<plan::ResetToEmptyMaster>(action.step));
  }
  ClusterBuilder served = healthy_3x1();
  served.replica_of(m1, m0);  // shard 1's ordinal 0 follows shard 0, and shard 1 has its master r1
  served.claimed(r1);
  for (const auto& action : served.plan_for(m1).actions) {
    CHECK_FALSE(std::holds_alternative<plan::ResetToEmptyMaster>(action.step));
  }
}

TEST_CASE("planner: no reset while the demoted master may hold data of its own, or another may be its shard's master",
          "[planner][scaling]") {
  auto resets = [](const plan::Plan& plan) {
    return std::any_of(plan.actions.begin(), plan.actions.end(), [](const plan::Action& action) {
      return std::holds_alternative<plan::ResetToEmptyMaster>(action.step);
    });
  };
  // Its sync not loaded yet (link down): it may still hold keys it imported, their only copy.
  ClusterBuilder syncing = scaled_out_3_to_4();
  syncing.replica_of({3, 0}, {0, 0}, Link::down).mesh();
  CHECK_FALSE(resets(syncing.plan_for({3, 0})));
  // A pod of its shard not answering may be the shard's master.
  ClusterBuilder partial = scaled_out_3_to_4();
  partial.replica_of({3, 0}, {0, 0}).mesh().down({3, 1});
  CHECK_FALSE(resets(partial.plan_for({3, 0})));
  // Replica migration allowed: Redis itself may have moved it there.
  ClusterBuilder migrated = scaled_out_3_to_4();
  migrated.replica_of({3, 0}, {0, 0}).mesh();
  CHECK_FALSE(resets(
      plan::make_plan(migrated.topology(), migrated.index({3, 0}), migrated.build(), {.replica_migration = true})));
}

TEST_CASE("planner: while the layout does not hold, the other pods wait and move nothing", "[planner][scaling]") {
  ClusterBuilder cluster = scaled_out_3_to_4();
  cluster.mesh();
  for (PodId pod : {PodId{0, 0}, PodId{1, 1}, PodId{2, 0}}) {
    plan::Plan plan = cluster.plan_for(pod);
    INFO(cluster.name(pod));
    CHECK(plan.outcome == Outcome::wait);
    REQUIRE_FALSE(plan.waiting_for.empty());
    CHECK_THAT(plan.waiting_for.back(), Catch::Contains("4096 slots still to move"));
  }
  // The replica of the new shard waits for its master to serve a slot.
  CHECK(cluster.plan_for({3, 1}).outcome == Outcome::wait);
}

TEST_CASE("planner: a cluster as creation left it is converged under its own SHARDS", "[planner][scaling]") {
  ClusterBuilder cluster(3, 1);
  for (int shard = 0; shard < 3; ++shard) cluster.claimed({shard, 0}).replica_of({shard, 1}, {shard, 0});
  cluster.mesh();
  for (const auto& pod : cluster.topology().pods) {
    INFO(pod.name);
    CHECK(cluster.plan_for({pod.shard, pod.ordinal}).outcome == Outcome::converged);
  }
}

namespace {

// A 4x1 cluster scaled out from 3 shards (shard 3 holds 4096-5460, 9557-10922 and
// 15019-16383, none of its creation range 12288-16383 but the last), whose shard 3 then lost
// both pods' data: they answer, empty; the others list the dead master, which announced
// redis-shard3-0's FQDN.
ClusterBuilder scaled_shard3_lost() {
  ClusterBuilder cluster(4, 1);
  const std::vector<SlotRange> kept = {{0, 4095}, {5461, 9556}, {10923, 15018}};
  const std::vector<SlotRange> shard3 = {{4096, 5460}, {9557, 10922}, {15019, 16383}};
  for (int shard = 0; shard < 3; ++shard) {
    cluster.master_of({shard, 0}, kept[static_cast<size_t>(shard)], shard + 1).replica_of({shard, 1}, {shard, 0});
  }
  cluster.fresh({3, 0}).fresh({3, 1}).mesh();
  for (const auto& pod : cluster.topology().pods) {
    cluster.dead_owner({pod.shard, pod.ordinal}, shard3, "redis-shard3-0.redis-pods.default.svc.cluster.local");
  }
  return cluster;
}

}  // namespace

TEST_CASE("planner: a lost shard whose slots scaling moved is found by its master's name and recovered",
          "[planner][heal][scaling]") {
  ClusterBuilder cluster = scaled_shard3_lost();
  plan::Plan held_back = cluster.plan_for({3, 0});
  INFO("situation: " << held_back.situation);
  CHECK(held_back.outcome == Outcome::wait);
  CHECK(held_back.actions.empty());
  REQUIRE_FALSE(held_back.waiting_for.empty());
  CHECK_THAT(held_back.waiting_for.front(),
             Catch::Contains("4096-5460") && Catch::Contains("15019-16383") && Catch::Contains("--recover-lost-slots"));

  plan::Plan plan = plan::make_plan(cluster.topology(), cluster.index({3, 0}), cluster.build(), {true});
  REQUIRE(plan.outcome == Outcome::act);
  CHECK(summaries(plan) == std::vector<std::string>{"forget dead0wne", "claim-slots 4096-5460",
                                                    "claim-slots 9557-10922", "claim-slots 15019-16383", "bump-epoch"});
  for (const auto& action : plan.actions) CHECK(action.data_loss);
}

TEST_CASE("planner: a lost shard is no new shard, and a nameless holder of another shard is not its owner",
          "[planner][heal][scaling]") {
  // Its pods back empty are not a scale-out: joining as an empty master to import slots would
  // leave the dead master's slots unserved for good.
  ClusterBuilder lost = scaled_shard3_lost();
  plan::Plan plan = lost.plan_for({3, 0});
  CHECK_THAT(plan.situation, !Catch::Contains("scale-out"));

  // Without host names (Redis 6.2) only the creation range tells a shard's slots: after
  // scaling, shard 2's live master holds most of shard 3's, so nothing is recovered.
  ClusterBuilder nameless(4, 1);
  nameless.master_of({0, 0}, {0, 4095}, 1).master_of({1, 0}, {5461, 9556}, 2).master_of({2, 0}, {10923, 15018}, 3);
  for (int shard = 0; shard < 3; ++shard) nameless.replica_of({shard, 1}, {shard, 0});
  nameless.fresh({3, 0}).fresh({3, 1}).mesh();
  for (const auto& pod : nameless.topology().pods) {
    nameless.dead_owner({pod.shard, pod.ordinal}, {{4096, 5460}, {9557, 10922}, {15019, 16383}});
  }
  plan::Plan recovering = plan::make_plan(nameless.topology(), nameless.index({3, 0}), nameless.build(), {true});
  INFO("situation: " << recovering.situation);
  for (const auto& action : recovering.actions) CHECK_FALSE(action.data_loss);
  CHECK_THAT(recovering.situation, !Catch::Contains("lost its data"));

  // A named master holding shard 3's creation range alone is shard 2's: not this shard's owner.
  ClusterBuilder named(4, 1);
  named.master_of({0, 0}, {0, 4095}, 1).master_of({1, 0}, {4096, 8191}, 2);
  named.replica_of({0, 1}, {0, 0}).replica_of({1, 1}, {1, 0}).fresh({2, 0}).fresh({2, 1});
  named.fresh({3, 0}).fresh({3, 1}).mesh();
  for (const auto& pod : named.topology().pods) {
    named.dead_owner({pod.shard, pod.ordinal}, {{8192, 16383}}, "redis-shard2-0.redis-pods.default.svc.cluster.local");
  }
  plan::Plan shard3 = plan::make_plan(named.topology(), named.index({3, 0}), named.build(), {true});
  INFO("shard 3: " << shard3.situation);
  for (const auto& action : shard3.actions) CHECK_FALSE(action.data_loss);
  plan::Plan shard2 = plan::make_plan(named.topology(), named.index({2, 0}), named.build(), {true});
  CHECK(std::any_of(shard2.actions.begin(), shard2.actions.end(), [](const auto& a) { return a.data_loss; }));
}
