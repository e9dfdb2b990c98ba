#include "rci/layout.hpp"

#include <algorithm>
#include <cassert>

namespace rci {

int slot_quota(int shard, int shards) {
  return shard < shards ? shard_slot_range(shard, shards).size() : 0;
}

SlotOwners target_layout(const SlotOwners& owners, int shards) {
  assert(owners.size() == static_cast<size_t>(cluster_slots));
  SlotOwners target = owners;
  // 1. Each shard keeps its lowest slots up to its quota; the rest go to the pool.
  std::vector<int> kept(static_cast<size_t>(shards), 0);
  std::vector<int> pool;
  for (int slot = 0; slot < cluster_slots; ++slot) {
    const int shard = owners[static_cast<size_t>(slot)];
    if (shard == no_shard) continue;
    if (shard < shards && kept[static_cast<size_t>(shard)] < slot_quota(shard, shards)) {
      ++kept[static_cast<size_t>(shard)];
    } else {
      pool.push_back(slot);
    }
  }
  // 2. The pool, in slot order, fills the shards below quota, in shard order.
  auto next = pool.begin();
  for (int shard = 0; shard < shards && next != pool.end(); ++shard) {
    for (int wanted = slot_quota(shard, shards) - kept[static_cast<size_t>(shard)]; wanted > 0 && next != pool.end();
         --wanted) {
      target[static_cast<size_t>(*next++)] = shard;
    }
  }
  // Slots left in the pool (fewer slots served than the quotas sum to) stay where they are.
  return target;
}

std::vector<SlotMove> moves_between(const SlotOwners& owners, const SlotOwners& target) {
  std::vector<SlotMove> moves;
  for (int slot = 0; slot < static_cast<int>(owners.size()); ++slot) {
    const int from = owners[static_cast<size_t>(slot)], to = target[static_cast<size_t>(slot)];
    if (from == to) continue;
    if (!moves.empty() && moves.back().from == from && moves.back().to == to && moves.back().range.last == slot - 1) {
      moves.back().range.last = slot;
    } else {
      moves.push_back({{slot, slot}, from, to});
    }
  }
  return moves;
}

int slots_moved(const std::vector<SlotMove>& moves) {
  int total = 0;
  for (const auto& move : moves) total += move.range.size();
  return total;
}

}  // namespace rci
