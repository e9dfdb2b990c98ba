// redis/info: INFO and CLUSTER INFO parsers, against replies real Redis sent.
#include <catch2/catch.hpp>

#include <string>

#include "rci/redis/info.hpp"
#include "samples.hpp"

using namespace rci;
namespace samples = rci::test::samples;

TEST_CASE("INFO fields: \\r\\n line ends, section headers and values holding ':'", "[info]") {
  auto fields = redis::parse_info_fields(samples::replication_master);
  CHECK(fields.at("role") == "master");  // no trailing \r
  CHECK(fields.at("connected_slaves") == "1");
  CHECK(fields.at("slave0") == "ip=127.0.0.1,port=20203,state=online,offset=14,lag=0");
  CHECK(fields.count("# Replication") == 0);
  CHECK(fields.count("") == 0);
}

TEST_CASE("INFO fields: several sections, comments, blank and colon-less lines", "[info]") {
  auto fields = redis::parse_info_fields(
      "# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\n"
      "garbage line\r\nempty_value:\r\n");
  CHECK(fields.size() == 3);
  CHECK(fields.at("redis_version") == "7.0.15");
  CHECK(fields.at("db0") == "keys=3,expires=0,avg_ttl=0");
  CHECK(fields.at("empty_value") == "");
  CHECK(redis::parse_info_fields("").empty());
}

TEST_CASE("CLUSTER INFO of a healthy cluster", "[info]") {
  auto info = redis::parse_cluster_info(samples::cluster_info_ok);
  REQUIRE(info.has_value());
  CHECK(info->state_ok);
  CHECK(info->slots_assigned == 16384);
  CHECK(info->slots_ok == 16384);
  CHECK(info->slots_pfail == 0);
  CHECK(info->slots_fail == 0);
  CHECK(info->known_nodes == 6);
  CHECK(info->size == 3);
  CHECK(info->current_epoch == 6);
  CHECK(info->my_epoch == 1);
}

TEST_CASE("CLUSTER INFO of a cluster that lost a shard", "[info]") {
  auto info = redis::parse_cluster_info(samples::cluster_info_fail);
  REQUIRE(info.has_value());
  CHECK_FALSE(info->state_ok);
  CHECK(info->slots_assigned == 16384);
  CHECK(info->slots_ok == 10923);
  CHECK(info->slots_fail == 5461);
  CHECK(info->current_epoch == 7);
}

TEST_CASE("CLUSTER INFO of a fresh node", "[info]") {
  auto info = redis::parse_cluster_info(samples::cluster_info_fresh);
  REQUIRE(info.has_value());
  CHECK_FALSE(info->state_ok);
  CHECK(info->slots_assigned == 0);
  CHECK(info->known_nodes == 1);
  CHECK(info->current_epoch == 0);
  CHECK(info->my_epoch == 0);
}

TEST_CASE("CLUSTER INFO: missing fields default to 0, missing state and bad numbers are errors", "[info]") {
  auto minimal = redis::parse_cluster_info("cluster_state:ok\n");
  REQUIRE(minimal.has_value());
  CHECK(minimal->state_ok);
  CHECK(minimal->known_nodes == 0);

  auto unknown_state = redis::parse_cluster_info("cluster_state:maybe\n");
  REQUIRE(unknown_state.has_value());
  CHECK_FALSE(unknown_state->state_ok);

  auto no_state = redis::parse_cluster_info("cluster_known_nodes:6\r\n");
  REQUIRE_FALSE(no_state.has_value());
  CHECK(no_state.error().kind == ErrorKind::protocol);
  CHECK_THAT(no_state.error().message, Catch::Contains("cluster_state"));

  for (const char* bad : {"cluster_known_nodes:six", "cluster_current_epoch:1.5",
                          "cluster_slots_ok:", "cluster_size:3x", "cluster_slots_assigned:99999999999",
                          "cluster_slots_ok:16385", "cluster_known_nodes:-1", "cluster_my_epoch:-2"}) {
    INFO(bad);
    auto info = redis::parse_cluster_info(std::string("cluster_state:ok\r\n") + bad + "\r\n");
    REQUIRE_FALSE(info.has_value());
    CHECK(info.error().kind == ErrorKind::protocol);
    std::string key(bad, std::string_view(bad).find(':'));
    CHECK_THAT(info.error().message, Catch::Contains("CLUSTER INFO") && Catch::Contains(key));
  }
}

TEST_CASE("INFO replication of a replica with its link up", "[info]") {
  auto info = redis::parse_replication_info(samples::replication_replica_up);
  REQUIRE(info.has_value());
  CHECK_FALSE(info->is_master);
  CHECK(info->master_host == "127.0.0.78");
  CHECK(info->master_port == 20201);
  CHECK(info->master_link_up);
  CHECK(info->connected_replicas == 0);
  CHECK(info->offset == 14);
  CHECK(info->last_io_seconds == 10);
  CHECK(info->replicas.empty());
}

TEST_CASE("INFO replication of a replica with its link down", "[info]") {
  auto info = redis::parse_replication_info(samples::replication_replica_down);
  REQUIRE(info.has_value());
  CHECK_FALSE(info->is_master);
  CHECK(info->master_host == "127.0.0.78");
  CHECK(info->master_port == 20299);
  CHECK_FALSE(info->master_link_up);
}

TEST_CASE("INFO replication of a master", "[info]") {
  auto info = redis::parse_replication_info(samples::replication_master);
  REQUIRE(info.has_value());
  CHECK(info->is_master);
  CHECK(info->master_host.empty());
  CHECK(info->master_port == 0);
  CHECK_FALSE(info->master_link_up);
  CHECK(info->connected_replicas == 1);
  CHECK(info->offset == 14);
  REQUIRE(info->replicas.size() == 1);
  CHECK(info->replicas[0].ip == "127.0.0.1");
  CHECK(info->replicas[0].port == 20203);
  CHECK(info->replicas[0].online);
  CHECK(info->replicas[0].offset == 14);
  CHECK(info->replicas[0].lag == 0);
}

TEST_CASE("INFO replication of a master: each replica's line, IPv6 and syncing ones too", "[info]") {
  auto info = redis::parse_replication_info(
      "role:master\r\nconnected_slaves:2\r\n"
      "slave0:ip=fd00::12,port=6379,state=online,offset=900,lag=1\r\n"
      "slave1:ip=10.0.0.7,port=6380,state=wait_bgsave,offset=0,lag=0\r\nmaster_repl_offset:1000\r\n");
  REQUIRE(info.has_value());
  CHECK(info->offset == 1000);
  REQUIRE(info->replicas.size() == 2);
  CHECK(info->replicas[0].ip == "fd00::12");
  CHECK(info->replicas[0].lag == 1);
  CHECK_FALSE(info->replicas[1].online);
  CHECK(info->replicas[1].port == 6380);
}

TEST_CASE("INFO replication: missing or unknown role and bad numbers are errors", "[info]") {
  struct Row {
    const char* name;
    const char* text;
    const char* says;
  };
  const Row rows[] = {
      {"no role", "# Replication\r\nconnected_slaves:0\r\n", "role"},
      {"unknown role", "role:sentinel\r\n", "sentinel"},
      {"bad master_port", "role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:63x9\r\n", "master_port"},
      {"bad connected_slaves", "role:master\r\nconnected_slaves:one\r\n", "connected_slaves"},
      {"negative connected_slaves", "role:master\r\nconnected_slaves:-5\r\n", "connected_slaves"},
      {"master_port past 65535", "role:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:4294973675\r\n", "master_port"},
      {"replica line without '='", "role:master\r\nconnected_slaves:1\r\nslave0:ip\r\n", "slave0"},
      {"replica line without port", "role:master\r\nconnected_slaves:1\r\nslave0:ip=10.0.0.7,state=online\r\n",
       "slave0"},
      {"replica offset not a number",
       "role:master\r\nconnected_slaves:1\r\nslave0:ip=10.0.0.7,port=6379,offset=x,lag=0\r\n", "offset"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto info = redis::parse_replication_info(row.text);
    REQUIRE_FALSE(info.has_value());
    CHECK(info.error().kind == ErrorKind::protocol);
    CHECK_THAT(info.error().message, Catch::Contains("INFO replication") && Catch::Contains(row.says));
  }
}

TEST_CASE("INFO replication: a replica without master_link_status is not linked", "[info]") {
  auto info = redis::parse_replication_info("role:slave\nmaster_host:10.0.0.1\nmaster_port:6379\n");
  REQUIRE(info.has_value());
  CHECK_FALSE(info->master_link_up);
  CHECK(info->master_port == 6379);
}
