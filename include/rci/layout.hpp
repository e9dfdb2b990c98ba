#pragma once
// The slot layout a cluster of SHARDS shards should hold, computed from the layout it holds:
// a pure function, so every pod computes the same target without talking, and every move
// toward it keeps the target where it was (ARCHITECTURE.md, "Scaling shards").

#include <string>
#include <vector>

#include "rci/topology.hpp"

namespace rci {

// The shard serving each slot (index = slot): a shard number, or no_shard where no pod's
// node serves the slot (unassigned, or a node that is no pod of this layout).
inline constexpr int no_shard = -1;
using SlotOwners = std::vector<int>;

// How many slots shard `shard` of `shards` holds in the target: the size of its creation
// range, so a cluster just created holds its target already.
int slot_quota(int shard, int shards);

// The target owner of every slot. Each shard below `shards` keeps the lowest slots it holds,
// up to its quota; the slots over quota, and every slot of a shard at or above `shards`, go
// in slot order to the shards below their quota, in shard order. Slots no shard serves
// (no_shard) stay so. `owners` must hold cluster_slots entries.
SlotOwners target_layout(const SlotOwners& owners, int shards);

// A run of consecutive slots that moves from one shard to another.
struct SlotMove {
  SlotRange range;
  int from = 0;
  int to = 0;
  bool operator==(const SlotMove&) const = default;
};

// Where `owners` and `target` differ, as runs, in slot order.
std::vector<SlotMove> moves_between(const SlotOwners& owners, const SlotOwners& target);

// The number of slots the moves carry.
int slots_moved(const std::vector<SlotMove>& moves);

}  // namespace rci
