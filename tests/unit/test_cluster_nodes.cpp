// redis/cluster_nodes: the CLUSTER NODES parser, against lines real Redis printed.
#include <catch2/catch.hpp>

#include <string>

#include "rci/redis/cluster_nodes.hpp"
#include "samples.hpp"

using namespace rci;
using redis::ClusterNode;
using redis::parse_cluster_nodes;
namespace samples = rci::test::samples;

namespace {

std::vector<ClusterNode> parse_ok(std::string_view text) {
  auto nodes = parse_cluster_nodes(text);
  if (!nodes) FAIL("unexpected parse error: " << nodes.error().message);
  return *nodes;
}

const ClusterNode& node_with_id(const std::vector<ClusterNode>& nodes, std::string_view id) {
  const auto* node = redis::find_node(nodes, id);
  if (node == nullptr) FAIL("no node " << id);
  return *node;
}

}  // namespace

TEST_CASE("Redis 7 CLUSTER NODES: myself master with hostname and a migrating marker", "[cluster_nodes]") {
  auto nodes = parse_ok(samples::nodes_3x1_migrating);
  REQUIRE(nodes.size() == 6);

  const auto* me = redis::find_myself(nodes);
  REQUIRE(me != nullptr);
  CHECK(me->id == "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd");
  CHECK(me->ip == "127.0.0.78");
  CHECK(me->port == 20200);
  CHECK(me->bus_port == 30200);
  CHECK(me->hostname == "redis-shard0-0.redis-pods.default.svc.cluster.local");
  CHECK(me->myself);
  CHECK(me->master);
  CHECK_FALSE(me->replica);
  CHECK_FALSE(me->fail);
  CHECK_FALSE(me->pfail);
  CHECK(me->master_id.empty());
  CHECK(me->ping_sent == 0);
  CHECK(me->pong_received == 1795576830000LL);
  CHECK(me->config_epoch == 1);
  CHECK(me->link_connected);
  // "[5460->-8670...]" says slot 5460 is migrating away: it stays ours and is not a second range.
  REQUIRE(me->slots.size() == 1);
  CHECK(me->slots[0] == SlotRange{0, 5460});
  CHECK(me->slot_count() == 5461);
  CHECK(me->is_live_slot_owner());
  REQUIRE(me->migrating.size() == 1);
  CHECK(me->migrating[0].slot == 5460);
  CHECK(me->migrating[0].peer.starts_with("8670"));
  CHECK(me->importing.empty());
}

TEST_CASE("CLUSTER NODES: importing and migrating markers are read, malformed ones refused", "[cluster_nodes]") {
  const std::string head =
      "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd 127.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-100 ";
  auto nodes = parse_ok(
      head + "[7-<-54235bfa57cf9b242d80622e6fd514ba6260e0c1] [100->-5c12f87c5bf9eb400c1f4709862d81e177a9f58e]\n");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].slots == std::vector<SlotRange>{{0, 100}});
  CHECK(nodes[0].importing == std::vector<redis::OpenSlot>{{7, "54235bfa57cf9b242d80622e6fd514ba6260e0c1"}});
  CHECK(nodes[0].migrating == std::vector<redis::OpenSlot>{{100, "5c12f87c5bf9eb400c1f4709862d81e177a9f58e"}});
  for (const char* bad : {"[7-<-]", "[16384->-abc]", "[7=>abc]", "[7->-abc"}) {
    INFO(bad);
    CHECK_FALSE(redis::parse_cluster_nodes(head + bad + "\n"));
  }
}

TEST_CASE("Redis 7 CLUSTER NODES: replica lines", "[cluster_nodes]") {
  auto nodes = parse_ok(samples::nodes_3x1_migrating);
  const auto& replica = node_with_id(nodes, "5c12f87c5bf9eb400c1f4709862d81e177a9f58e");
  CHECK(replica.replica);
  CHECK_FALSE(replica.master);
  CHECK_FALSE(replica.myself);
  CHECK(replica.master_id == "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd");
  CHECK(replica.ip == "127.0.0.78");
  CHECK(replica.port == 20205);
  CHECK(replica.bus_port == 30205);
  CHECK(replica.hostname == "redis-shard2-1.redis-pods.default.svc.cluster.local");
  CHECK(replica.slots.empty());
  CHECK_FALSE(replica.is_live_slot_owner());

  const auto& master = node_with_id(nodes, "54235bfa57cf9b242d80622e6fd514ba6260e0c1");
  CHECK(master.master);
  CHECK(master.pong_received == 1795576831146LL);
  CHECK(master.config_epoch == 3);
  REQUIRE(master.slots.size() == 1);
  CHECK(master.slots[0] == SlotRange{10923, 16383});
}

TEST_CASE("an importing marker is not a slot either", "[cluster_nodes]") {
  auto nodes = parse_ok(samples::nodes_importing_myself);
  REQUIRE(nodes.size() == 1);
  REQUIRE(nodes[0].slots.size() == 1);
  CHECK(nodes[0].slots[0] == SlotRange{5461, 10922});
  CHECK_FALSE(nodes[0].serves_slot(5460));
}

TEST_CASE("IPv6 addresses, single slots next to ranges, and a handshake", "[cluster_nodes]") {
  auto nodes = parse_ok(samples::nodes_ipv6_handshake);
  REQUIRE(nodes.size() == 4);

  const auto& owner = node_with_id(nodes, "eca8644b1f129d0ef7e200694f3f67d41ee8b15a");
  CHECK(owner.ip == "::1");
  CHECK(owner.port == 20300);
  CHECK(owner.bus_port == 30300);
  CHECK(owner.hostname.empty());
  REQUIRE(owner.slots.size() == 2);
  CHECK(owner.slots[0] == SlotRange{0, 5460});
  CHECK(owner.slots[1] == SlotRange{10923, 10923});
  CHECK(owner.slot_count() == 5462);
  CHECK(owner.serves_slot(10923));
  CHECK_FALSE(owner.serves_slot(10924));
  CHECK(owner.config_epoch == 4);

  const auto& handshake = node_with_id(nodes, "a715d80b8a289450c7e656a3c672700d24edaec0");
  CHECK(handshake.handshake);
  CHECK_FALSE(handshake.master);
  CHECK_FALSE(handshake.replica);
  CHECK(handshake.ip == "::1");
  CHECK(handshake.port == 20399);
  CHECK_FALSE(handshake.link_connected);
  CHECK(handshake.config_epoch == 0);

  const auto* me = redis::find_myself(nodes);
  REQUIRE(me != nullptr);
  CHECK(me->id == "826a06819808816f3d36e062b2fc9983ede23e09");
}

TEST_CASE("failure flags: fail? is PFAIL, fail is FAIL", "[cluster_nodes]") {
  auto pfail = parse_ok(samples::line_master_pfail);
  REQUIRE(pfail.size() == 1);
  CHECK(pfail[0].master);
  CHECK(pfail[0].pfail);
  CHECK_FALSE(pfail[0].fail);
  CHECK_FALSE(pfail[0].link_connected);
  CHECK(pfail[0].ping_sent == 1795576844295LL);
  CHECK(pfail[0].is_live_slot_owner());  // suspected only: still the owner

  auto failed = parse_ok(samples::line_master_fail_slots_taken);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].master);
  CHECK(failed[0].fail);
  CHECK_FALSE(failed[0].pfail);
  CHECK(failed[0].slots.empty());
  CHECK_FALSE(failed[0].is_live_slot_owner());

  auto replica = parse_ok(samples::line_replica_fail);
  REQUIRE(replica.size() == 1);
  CHECK(replica[0].replica);
  CHECK(replica[0].fail);
  CHECK(replica[0].master_id == "d1c7d8ae2eaf09bbb33c52e13b93b6c34d2862fd");
}

TEST_CASE("a failed master that still lists slots is not a live owner", "[cluster_nodes]") {
  auto nodes = parse_ok(
      "54235bfa57cf9b242d80622e6fd514ba6260e0c1 127.0.0.78:20202@30202 master,fail - 1 2 3 disconnected 10923-16383");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].fail);
  CHECK(nodes[0].slot_count() == 5461);
  CHECK_FALSE(nodes[0].is_live_slot_owner());
}

TEST_CASE("a fresh node has no IP yet: ':port@busport'", "[cluster_nodes]") {
  auto nodes = parse_ok(samples::nodes_fresh);
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].myself);
  CHECK(nodes[0].master);
  CHECK(nodes[0].ip.empty());
  CHECK(nodes[0].port == 20260);
  CHECK(nodes[0].bus_port == 30260);
  CHECK(nodes[0].config_epoch == 0);
  CHECK(nodes[0].slots.empty());
}

TEST_CASE("noaddr nodes print ':0@0'", "[cluster_nodes]") {
  auto nodes = parse_ok(
      "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca :0@0 master,fail,noaddr - 1426238317239 1426238316232 1 disconnected");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].noaddr);
  CHECK(nodes[0].fail);
  CHECK(nodes[0].ip.empty());
  CHECK(nodes[0].port == 0);
  CHECK(nodes[0].bus_port == 0);
}

TEST_CASE("nofailover, noflags and unknown future flags", "[cluster_nodes]") {
  auto nodes = parse_ok(
      "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 10.0.0.2:6379@16379 slave,nofailover "
      "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 0 1 2 connected\n"
      "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 10.0.0.3:6379@16379 noflags - 0 1 2 connected\n"
      "6ec23923021cf3ffec47632106199cb7f496ce01 10.0.0.4:6379@16379 master,some-future-flag - 0 1 2 connected 1\n");
  REQUIRE(nodes.size() == 3);
  CHECK(nodes[0].nofailover);
  CHECK(nodes[0].replica);
  CHECK_FALSE(nodes[1].master);
  CHECK_FALSE(nodes[1].replica);
  CHECK(nodes[2].master);
  CHECK(nodes[2].slots == std::vector<SlotRange>{{1, 1}});
}

TEST_CASE("nodes.conf: the vars line is skipped", "[cluster_nodes]") {
  auto nodes = parse_ok(samples::nodes_conf_7_0);
  CHECK(nodes.size() == 6);
  for (const auto& node : nodes) CHECK(node.id.size() == 40);
}

TEST_CASE("Redis 7.2 release candidates printed a comma after the bus port with no hostname", "[cluster_nodes]") {
  // Redis PR #12411: "127.0.0.1:6379@16379, myself,master - 0 0 0 connected 0-16383".
  auto nodes = parse_ok(
      "94ca2f6cf85228a49fde7b738ee1209de7bee325 127.0.0.1:6379@16379, myself,master - 0 0 0 connected 0-16383");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].ip == "127.0.0.1");
  CHECK(nodes[0].port == 6379);
  CHECK(nodes[0].bus_port == 16379);
  CHECK(nodes[0].hostname.empty());
  CHECK(nodes[0].slot_count() == 16384);
}

TEST_CASE("Redis 7.2 nodes.conf: auxiliary fields after the hostname are not part of it", "[cluster_nodes]") {
  // nodes.conf of Redis >= 7.2 appends `,key=value` auxiliary fields to the address; the header
  // says nodes.conf lines are parsed too.
  auto nodes = parse_ok(
      "e2b9f7f4bf55e3c79b9ddd6e3b7c3bba0bc6d3c0 "
      "10.0.0.1:6379@16379,,tls-port=0,shard-id=b3b2ad0c72d0b12b79d4fb6b9e4a78e3c7f4d1f4 myself,master - 0 0 1 "
      "connected 0-5460\n"
      "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 "
      "10.0.0.2:6379@16379,redis-shard1-0,tls-port=0,shard-id=c3b2ad0c72d0b12b79d4fb6b9e4a78e3c7f4d1f4 master - 0 0 2 "
      "connected 5461-10922\n"
      "vars currentEpoch 2 lastVoteEpoch 0\n");
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0].ip == "10.0.0.1");
  CHECK(nodes[0].bus_port == 16379);
  CHECK(nodes[0].hostname == "");
  CHECK(nodes[1].hostname == "redis-shard1-0");
}

TEST_CASE("Redis < 4 printed no bus port: it is port + 10000", "[cluster_nodes]") {
  auto nodes = parse_ok(
      "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 "
      "1426238317239 4 connected");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].port == 30004);
  CHECK(nodes[0].bus_port == 40004);
}

TEST_CASE("a port without a bus port that port + 10000 cannot be is refused (found by fuzzing)", "[cluster_nodes]") {
  // fuzz/corpus/fuzz_cluster_nodes/crash-bus-port-overflow: this gave bus port 73779.
  auto nodes = parse_cluster_nodes(
      "9d4fff2e2d845a1a7e66f4df7c3769a6298771f2 127.0.0.1:63779 master - 0 1796236804171 2 connected 5461-10922");
  REQUIRE_FALSE(nodes.has_value());
  CHECK_THAT(nodes.error().message, Catch::Contains("address is not ip:port@busport"));
  CHECK(parse_ok("9d4fff2e2d845a1a7e66f4df7c3769a6298771f2 127.0.0.1:55535 master - 0 0 2 connected")[0].bus_port ==
        65535);
}

TEST_CASE("\\r\\n line ends, blank lines and an empty reply", "[cluster_nodes]") {
  auto nodes = parse_ok(
      "\r\n7bcb3d69254b0768600699818f14c1b6da97f41c 10.0.0.1:6379@16379 myself,master - 0 0 1 connected "
      "0-5460\r\n\r\n");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].link_connected);
  CHECK(nodes[0].slots == std::vector<SlotRange>{{0, 5460}});
  CHECK(parse_ok("").empty());
  CHECK(parse_ok("\n").empty());
}

TEST_CASE("malformed lines are errors naming the line and what is wrong", "[cluster_nodes]") {
  const std::string good =
      "7bcb3d69254b0768600699818f14c1b6da97f41c 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460\n";
  const std::string id = "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1";
  struct Row {
    const char* name;
    std::string line;
    const char* says;
  };
  const Row rows[] = {
      {"too few fields", id + " 10.0.0.2:6379@16379 master - 0 0", "fewer than 8 fields"},
      {"short node id", "67ed2db8 10.0.0.2:6379@16379 master - 0 0 2 connected", "node ID is not 40 characters"},
      {"no port", id + " 10.0.0.2@16379 master - 0 0 2 connected", "address"},
      {"port not a number", id + " 10.0.0.2:abc@16379 master - 0 0 2 connected", "address"},
      {"bus port not a number", id + " 10.0.0.2:6379@x master - 0 0 2 connected", "address"},
      {"port out of range", id + " 10.0.0.2:70000@16379 master - 0 0 2 connected", "address"},
      {"ping not a number", id + " 10.0.0.2:6379@16379 master - x 0 2 connected", "not a number"},
      {"epoch not a number", id + " 10.0.0.2:6379@16379 master - 0 0 two connected", "not a number"},
      {"unknown link state", id + " 10.0.0.2:6379@16379 master - 0 0 2 up", "link state"},
      {"slot past 16383", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected 16384", "slot field '16384'"},
      {"range past 16383", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected 10923-16384", "slot field"},
      {"reversed range", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected 10-5", "slot field '10-5'"},
      {"negative slot", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected -5", "slot field"},
      {"open range", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected 5-", "slot field"},
      {"slot not a number", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected abc", "slot field 'abc'"},
      {"signed port", id + " 10.0.0.2:+6379@16379 master - 0 0 2 connected", "address"},
      {"signed bus port", id + " 10.0.0.2:6379@-0 master - 0 0 2 connected", "address"},
      {"signed slot", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected +5", "slot field '+5'"},
      {"unterminated marker", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected [5", "slot field '[5'"},
      {"a slot twice", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected 0-16383 0-16383", "slot 0 is listed twice"},
      {"overlapping ranges", id + " 10.0.0.2:6379@16379 master - 0 0 2 connected 0-100 200 50-60", "listed twice"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto nodes = parse_cluster_nodes(good + row.line + "\n");
    REQUIRE_FALSE(nodes.has_value());
    CHECK(nodes.error().kind == ErrorKind::protocol);
    CHECK_THAT(nodes.error().message, Catch::StartsWith("CLUSTER NODES line 2: "));
    CHECK_THAT(nodes.error().message, Catch::Contains(row.says));
    CHECK_THAT(nodes.error().message, Catch::Contains(row.line));
  }
}

TEST_CASE("a malformed line is quoted cut short, whatever its length", "[cluster_nodes]") {
  auto nodes = parse_cluster_nodes(std::string(100000, 'x') + "\n");
  REQUIRE_FALSE(nodes.has_value());
  CHECK(nodes.error().message.size() < 400);
  CHECK_THAT(nodes.error().message, Catch::EndsWith("...'"));
}

TEST_CASE("find_myself and find_node", "[cluster_nodes]") {
  auto nodes = parse_ok(samples::nodes_3x1_migrating);
  CHECK(redis::find_node(nodes, "8670860da83a21b1b23616c759a8099c5aeedc2b")->port == 20201);
  CHECK(redis::find_node(nodes, "0000000000000000000000000000000000000000") == nullptr);
  CHECK(redis::find_node(nodes, "") == nullptr);

  auto no_myself = parse_ok(samples::line_replica_fail);
  CHECK(redis::find_myself(no_myself) == nullptr);
}
