#include <catch2/catch.hpp>

#include <random>

#include "rci/layout.hpp"

using namespace rci;

namespace {

// The layout creation gives a cluster of `shards`: shard i holds shard_slot_range(i, shards).
SlotOwners created(int shards) {
  SlotOwners owners(cluster_slots, no_shard);
  for (int shard = 0; shard < shards; ++shard) {
    const SlotRange range = shard_slot_range(shard, shards);
    for (int slot = range.first; slot <= range.last; ++slot) owners[static_cast<size_t>(slot)] = shard;
  }
  return owners;
}

std::vector<int> counts(const SlotOwners& owners, int shards) {
  std::vector<int> count(static_cast<size_t>(shards), 0);
  for (int shard : owners) {
    if (shard != no_shard && shard < shards) ++count[static_cast<size_t>(shard)];
  }
  return count;
}

void check_balanced(const SlotOwners& layout, int shards) {
  const auto count = counts(layout, shards);
  for (int shard = 0; shard < shards; ++shard) {
    INFO("shard " << shard);
    CHECK(count[static_cast<size_t>(shard)] == slot_quota(shard, shards));
  }
  for (int shard : layout) CHECK(shard < shards);
}

}  // namespace

TEST_CASE("a cluster as creation left it already holds its layout", "[layout]") {
  for (int shards = 1; shards <= 12; ++shards) {
    INFO(shards << " shards");
    CHECK(target_layout(created(shards), shards) == created(shards));
  }
}

TEST_CASE("3 -> 4 shards moves a quarter of the slots, the top of each old shard", "[layout]") {
  const SlotOwners target = target_layout(created(3), 4);
  check_balanced(target, 4);
  const auto moves = moves_between(created(3), target);
  CHECK(slots_moved(moves) == 4096);  // the minimum; a new contiguous split would move 8192
  REQUIRE(moves.size() == 3);
  CHECK(moves[0] == SlotMove{{4096, 5460}, 0, 3});
  CHECK(moves[1] == SlotMove{{9557, 10922}, 1, 3});
  CHECK(moves[2] == SlotMove{{15019, 16383}, 2, 3});
}

TEST_CASE("4 -> 3 shards drains shard 3 and gives back the creation layout", "[layout]") {
  const SlotOwners four = target_layout(created(3), 4);
  const SlotOwners back = target_layout(four, 3);
  CHECK(back == created(3));
  const auto moves = moves_between(four, back);
  CHECK(slots_moved(moves) == 4096);
  for (const auto& move : moves) CHECK(move.from == 3);
}

TEST_CASE("3 -> 5 and 5 -> 3 in one step move only the slots over quota", "[layout]") {
  const SlotOwners five = target_layout(created(3), 5);
  check_balanced(five, 5);
  CHECK(slots_moved(moves_between(created(3), five)) == slot_quota(3, 5) + slot_quota(4, 5));
  CHECK(target_layout(five, 3) == created(3));
  const SlotOwners three_of_five = target_layout(created(5), 3);
  check_balanced(three_of_five, 3);
  CHECK(slots_moved(moves_between(created(5), three_of_five)) == slot_quota(3, 5) + slot_quota(4, 5));
}

TEST_CASE("the target stays the same whatever part of the moves toward it is done", "[layout]") {
  // Every pod computes the target from the layout it sees, mid-move too: it must not shift.
  std::mt19937 random(20261203);
  for (auto [from_shards, to_shards] : {std::pair{3, 4}, std::pair{4, 3}, std::pair{3, 5}, std::pair{5, 2}}) {
    const SlotOwners start = from_shards == 4 ? target_layout(created(3), 4) : created(from_shards);
    const SlotOwners target = target_layout(start, to_shards);
    for (int trial = 0; trial < 20; ++trial) {
      SlotOwners midway = start;
      for (int slot = 0; slot < cluster_slots; ++slot) {
        if (start[static_cast<size_t>(slot)] != target[static_cast<size_t>(slot)] && random() % 2 == 0) {
          midway[static_cast<size_t>(slot)] = target[static_cast<size_t>(slot)];
        }
      }
      INFO(from_shards << " -> " << to_shards << ", trial " << trial);
      CHECK(target_layout(midway, to_shards) == target);
    }
  }
}

TEST_CASE("slots no shard serves stay unassigned and are not counted", "[layout]") {
  SlotOwners owners = created(3);
  for (int slot = 100; slot < 200; ++slot) owners[static_cast<size_t>(slot)] = no_shard;
  const SlotOwners target = target_layout(owners, 3);
  for (int slot = 100; slot < 200; ++slot) CHECK(target[static_cast<size_t>(slot)] == no_shard);
  // Shard 0 is 100 slots short, and no shard is over quota: nothing moves.
  CHECK(moves_between(owners, target).empty());
}
