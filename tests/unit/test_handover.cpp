#include <catch2/catch.hpp>
#include <string>

#include "rci/plan/handover.hpp"
#include "rci/redis/cluster_nodes.hpp"
#include "rci/redis/info.hpp"

using namespace rci;

namespace {

const std::string master_id = std::string(40, 'a');
const std::string replica_b = std::string(40, 'b');
const std::string replica_c = std::string(40, 'c');

// Shard 1's master (myself) with two replicas, b and c; b's flags and bus link vary per case.
NodeProbe master_probe(const std::string& b_flags = "slave", const std::string& b_link = "connected") {
  const std::string table =
      master_id + " 10.0.0.3:6379@16379,redis-shard1-0 myself,master - 0 0 2 connected 5461-10922\n" + replica_b +
      " 10.0.0.4:6379@16379,redis-shard1-1 " + b_flags + " " + master_id + " 0 0 2 " + b_link + "\n" + replica_c +
      " 10.0.0.5:6379@16379,redis-shard1-2 slave " + master_id + " 0 0 2 connected\n" + std::string(40, 'd') +
      " 10.0.0.1:6379@16379,redis-shard0-0 master - 0 0 1 connected 0-5460\n";
  NodeProbe probe;
  probe.nodes = *redis::parse_cluster_nodes(table);
  probe.id = master_id;
  probe.replication.offset = 1000;
  return probe;
}

// A replica's own INFO replication.
std::optional<redis::ReplicationInfo> replica(long long offset, const char* link = "up", int last_io = 0) {
  auto info = redis::parse_replication_info(
      "role:slave\r\nmaster_host:10.0.0.3\r\nmaster_port:6379\r\nmaster_link_status:" + std::string(link) +
      "\r\nmaster_last_io_seconds_ago:" + std::to_string(last_io) +
      "\r\nconnected_slaves:0\r\nmaster_repl_offset:" + std::to_string(offset) + "\r\n");
  REQUIRE(info.has_value());
  return *info;
}

}  // namespace

TEST_CASE("handover: to the healthy replica of the lowest ordinal, the last one a scale-in deletes", "[handover]") {
  // redis-shard1-1 is a little behind: the coordinated failover lets it catch up first.
  auto choice = plan::choose_handover(master_probe(), {{replica_b, replica(990)}, {replica_c, replica(1000)}});
  REQUIRE(choice.target.has_value());
  CHECK(choice.target->node_id == replica_b);
  CHECK(choice.target->pod == "redis-shard1-1");
  CHECK(choice.target->endpoint == net::Endpoint{"10.0.0.4", 6379});
  CHECK_THAT(choice.reason, Catch::Contains("lowest ordinal") && Catch::Contains("redis-shard1-1") &&
                                Catch::Contains("offset 990 of 1000"));
}

TEST_CASE("handover: replicas announcing no pod (Redis 6.2): the most caught-up, ties to the lower node ID",
          "[handover]") {
  NodeProbe probe = master_probe();
  const std::string table = master_id + " 10.0.0.3:6379@16379 myself,master - 0 0 2 connected 5461-10922\n" +
                            replica_b + " 10.0.0.4:6379@16379 slave " + master_id + " 0 0 2 connected\n" + replica_c +
                            " 10.0.0.5:6379@16379 slave " + master_id + " 0 0 2 connected\n";
  probe.nodes = *redis::parse_cluster_nodes(table);
  auto caught_up = plan::choose_handover(probe, {{replica_b, replica(990)}, {replica_c, replica(1000)}});
  REQUIRE(caught_up.target.has_value());
  CHECK(caught_up.target->node_id == replica_c);
  auto tie = plan::choose_handover(probe, {{replica_b, replica(1000)}, {replica_c, replica(1000)}});
  REQUIRE(tie.target.has_value());
  CHECK(tie.target->node_id == replica_b);
}

TEST_CASE("handover: a failing, unlinked, silent or stale replica is passed over, and said why", "[handover]") {
  struct Row {
    const char* name;
    NodeProbe probe;
    std::optional<redis::ReplicationInfo> b;
    const char* says;
  };
  const Row rows[] = {
      {"pfail", master_probe("slave,fail?"), replica(1000), "failing"},
      {"bus link down", master_probe("slave", "disconnected"), replica(1000), "cluster bus link down"},
      {"does not answer", master_probe(), std::nullopt, "does not answer"},
      {"replication link down", master_probe(), replica(1000, "down", -1), "replication link down"},
      {"silent and behind", master_probe(), replica(990, "up", 7),
       "last heard from this master 7 s ago, 10 bytes of its stream behind"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto choice = plan::choose_handover(row.probe, {{replica_b, row.b}, {replica_c, replica(900)}});
    REQUIRE(choice.target.has_value());
    CHECK(choice.target->node_id == replica_c);
    CHECK_THAT(choice.reason, Catch::Contains("(redis-shard1-1): ") && Catch::Contains(row.says));
  }
}

TEST_CASE("handover: none without a healthy replica, or without slots", "[handover]") {
  auto none = plan::choose_handover(master_probe(), {{replica_b, replica(0, "down", -1)}});
  CHECK_FALSE(none.target.has_value());
  CHECK_THAT(none.reason, Catch::Contains("no healthy replica") &&
                              Catch::Contains("(redis-shard1-1): replication link down") &&
                              Catch::Contains("(redis-shard1-2): does not answer"));

  NodeProbe as_replica;
  as_replica.nodes =
      *redis::parse_cluster_nodes(replica_b + " 10.0.0.4:6379@16379 myself,slave " + master_id + " 0 0 2 connected\n");
  as_replica.id = replica_b;
  auto not_master = plan::choose_handover(as_replica, {});
  CHECK_FALSE(not_master.target.has_value());
  CHECK_THAT(not_master.reason, Catch::Contains("serves no slots"));
}

TEST_CASE("handover: a replica asked already is passed over for the next one", "[handover]") {
  const plan::ReplicaReports reports = {{replica_b, replica(990)}, {replica_c, replica(1000)}};
  auto second = plan::choose_handover(master_probe(), reports, {replica_c});
  REQUIRE(second.target.has_value());
  CHECK(second.target->node_id == replica_b);
  CHECK_THAT(second.reason, Catch::Contains("(redis-shard1-2): asked already, did not take over"));

  auto none = plan::choose_handover(master_probe(), reports, {replica_b, replica_c});
  CHECK_FALSE(none.target.has_value());
  CHECK_THAT(none.reason, Catch::Contains("no healthy replica"));
}

TEST_CASE("handover: an idle master's replica, silent for seconds but caught up, is healthy", "[handover]") {
  // An idle master pings its replicas only every repl-ping-replica-period (10 s).
  auto choice = plan::choose_handover(master_probe(), {{replica_b, replica(1000, "up", 9)}});
  REQUIRE(choice.target.has_value());
  CHECK(choice.target->node_id == replica_b);
}

TEST_CASE("handover: says how many replicas its table lists, healthy or not", "[handover]") {
  CHECK(plan::choose_handover(master_probe(), {{replica_b, replica(1000)}}).replicas_listed == 2);
  CHECK(plan::choose_handover(master_probe(), {}).replicas_listed == 2);  // neither answers
  NodeProbe alone;
  alone.nodes =
      *redis::parse_cluster_nodes(master_id + " 10.0.0.3:6379@16379 myself,master - 0 0 2 connected 0-16383\n");
  alone.id = master_id;
  auto none = plan::choose_handover(alone, {});
  CHECK_FALSE(none.target.has_value());
  CHECK(none.replicas_listed == 0);
  CHECK_THAT(none.reason, Catch::Contains("no replica of this node is known"));
}
