// topology: slot ranges and expected pods, pure functions every pod computes alike.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "fixtures.hpp"
#include "rci/topology.hpp"

using namespace rci;

namespace {

// redis-cli's split, transcribed from clusterManagerCommandCreate (redis-cli.c, Redis 5 to 7):
// it computes in *float*, not double, so this reference does too.
SlotRange redis_cli_split(int shard, int shards) {
  float slots_per_node = 16384 / static_cast<float>(shards);
  long first = 0;
  float cursor = 0.0f;
  for (int i = 0; i < shards; ++i) {
    long last = std::lround(cursor + slots_per_node - 1);
    if (last > 16384 || i == shards - 1) last = 16383;
    if (last < first) last = first;
    if (i == shard) return SlotRange{static_cast<int>(first), static_cast<int>(last)};
    first = last + 1;
    cursor += slots_per_node;
  }
  return {};
}

Options options(int shards, int replicas) {
  return test::cluster_options(shards, replicas);
}

}  // namespace

TEST_CASE("three shards split like redis-cli: 0-5460, 5461-10922, 10923-16383", "[topology]") {
  CHECK(shard_slot_range(0, 3) == SlotRange{0, 5460});
  CHECK(shard_slot_range(1, 3) == SlotRange{5461, 10922});
  CHECK(shard_slot_range(2, 3) == SlotRange{10923, 16383});
}

TEST_CASE("other splits printed by redis-cli 7.0.15 --cluster create", "[topology]") {
  CHECK(shard_slot_range(0, 4) == SlotRange{0, 4095});
  CHECK(shard_slot_range(3, 4) == SlotRange{12288, 16383});
  CHECK(shard_slot_range(0, 6) == SlotRange{0, 2730});
  CHECK(shard_slot_range(1, 6) == SlotRange{2731, 5460});
  // 78 masters: "Master[66] -> Slots 13863 - 14072", "Master[67] -> Slots 14073 - 14283",
  // "Master[68] -> Slots 14284 - 14493" (captured from a real run on 78 empty servers).
  CHECK(shard_slot_range(0, 78) == SlotRange{0, 209});
  CHECK(shard_slot_range(66, 78) == SlotRange{13863, 14072});
  CHECK(shard_slot_range(67, 78) == SlotRange{14073, 14283});
  CHECK(shard_slot_range(68, 78) == SlotRange{14284, 14493});
}

TEST_CASE("every shard count from 3 to 200 covers 0..16383 exactly once, sizes within 1", "[topology]") {
  for (int shards = 3; shards <= 200; ++shards) {
    INFO("shards: " << shards);
    int next = 0;
    int smallest = cluster_slots;
    int largest = 0;
    for (int shard = 0; shard < shards; ++shard) {
      SlotRange range = shard_slot_range(shard, shards);
      REQUIRE(range.first == next);  // contiguous, in order, no overlap, no gap
      REQUIRE(range.last >= range.first);
      smallest = std::min(smallest, range.size());
      largest = std::max(largest, range.size());
      next = range.last + 1;
    }
    CHECK(next == cluster_slots);
    CHECK(largest - smallest <= 1);
  }
}

TEST_CASE("every shard count from 3 to 200 splits exactly as redis-cli does", "[topology]") {
  int mismatches = 0;
  for (int shards = 3; shards <= 200; ++shards) {
    for (int shard = 0; shard < shards; ++shard) {
      SlotRange ours = shard_slot_range(shard, shards);
      SlotRange theirs = redis_cli_split(shard, shards);
      if (ours == theirs) continue;
      if (++mismatches <= 5) {
        FAIL_CHECK("shards " << shards << ", shard " << shard << ": ours " << ours.first << "-" << ours.last
                             << ", redis-cli " << theirs.first << "-" << theirs.last);
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("SlotRange size and contains", "[topology]") {
  SlotRange range{5461, 10922};
  CHECK(range.size() == 5462);
  CHECK(range.contains(5461));
  CHECK(range.contains(10922));
  CHECK_FALSE(range.contains(5460));
  CHECK_FALSE(range.contains(10923));
  CHECK(SlotRange{7, 7}.size() == 1);
}

TEST_CASE("make_topology lists pods shard-major with their DNS names", "[topology]") {
  Topology t = make_topology(options(3, 2));
  CHECK(t.prefix == "redis");
  CHECK(t.shards == 3);
  CHECK(t.replicas == 2);
  CHECK(t.port == 6379);
  CHECK(t.bus_port == 16379);
  REQUIRE(t.pod_count() == 9);

  const char* names[] = {"redis-shard0-0", "redis-shard0-1", "redis-shard0-2", "redis-shard1-0", "redis-shard1-1",
                         "redis-shard1-2", "redis-shard2-0", "redis-shard2-1", "redis-shard2-2"};
  for (int i = 0; i < 9; ++i) {
    INFO("index " << i);
    CHECK(t.pods[i].name == names[i]);
    CHECK(t.pods[i].dns_name == std::string(names[i]) + ".redis-pods.default.svc.cluster.local");
    CHECK(t.pods[i].shard == i / 3);
    CHECK(t.pods[i].ordinal == i % 3);
  }
  for (int shard = 0; shard < 3; ++shard) {
    for (int ordinal = 0; ordinal <= 2; ++ordinal) {
      const auto& pod = t.pods.at(t.index_of(shard, ordinal));
      CHECK(pod.shard == shard);
      CHECK(pod.ordinal == ordinal);
    }
  }
}

TEST_CASE("make_topology with ten shards orders shard10 after shard9", "[topology]") {
  Topology t = make_topology(options(11, 0));
  REQUIRE(t.pod_count() == 11);
  CHECK(t.pods[1].name == "redis-shard1-0");
  CHECK(t.pods[10].name == "redis-shard10-0");
  CHECK(t.index_of(10, 0) == 10);
}

TEST_CASE("pod DNS names use the service, namespace and cluster domain", "[topology]") {
  Options o = options(3, 0);
  o.service = "cache-pods";
  o.namespace_name = "prod";
  o.cluster_domain = "k8s.example.org";
  CHECK(pod_dns_name("cache-shard2-0", o) == "cache-shard2-0.cache-pods.prod.svc.k8s.example.org");
}

TEST_CASE("quorum is the smallest majority of all expected pods", "[topology]") {
  CHECK(make_topology(options(3, 0)).quorum() == 2);  // 3 pods
  CHECK(make_topology(options(4, 0)).quorum() == 3);  // 4 pods: 2 is not a majority
  CHECK(make_topology(options(3, 1)).quorum() == 4);  // 6 pods
  CHECK(make_topology(options(3, 2)).quorum() == 5);  // 9 pods
  CHECK(make_topology(options(5, 1)).quorum() == 6);  // 10 pods
}

TEST_CASE("topology: the pods a lowered REPLICAS no longer has are told from every other name", "[topology]") {
  Options options;
  options.pod = PodName{"redis", 0, 0};
  options.pod_name = "redis-shard0-0";
  options.service = "redis-pods";
  options.namespace_name = "default";
  options.shards = 3;
  options.replicas = 1;
  const Topology topology = make_topology(options);
  auto departed = departed_pod(topology, "redis-shard2-2.redis-pods.default.svc.cluster.local");
  REQUIRE(departed.has_value());
  CHECK(departed->name == "redis-shard2-2");
  CHECK(departed->shard == 2);
  CHECK(departed->ordinal == 2);
  CHECK(departed_pod(topology, "redis-shard2-2").has_value());  // a bare pod name (round 1)
  CHECK_FALSE(departed_pod(topology, "redis-shard2-1.redis-pods.default.svc.cluster.local"));  // expected
  // A shard SHARDS no longer has (scaled in): its every pod is departed.
  CHECK(departed_pod(topology, "redis-shard3-0.redis-pods.default.svc.cluster.local").has_value());
  CHECK_FALSE(departed_pod(topology, "other-shard0-2.redis-pods.default.svc.cluster.local"));  // another prefix
  CHECK_FALSE(departed_pod(topology, "redis-shard0-2.redis-pods.staging.svc.cluster.local"));  // another namespace
  CHECK_FALSE(departed_pod(topology, "redis-shard0-x.redis-pods.default.svc.cluster.local"));
  CHECK_FALSE(departed_pod(topology, ""));
}
