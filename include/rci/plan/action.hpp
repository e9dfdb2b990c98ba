#pragma once
// What the planner asks the actor to do: one type per step, each with the fields its command
// needs and no other, and the node the command is sent to. Plain data, compared by tests.

#include <string>
#include <variant>
#include <vector>

#include "rci/net/address.hpp"
#include "rci/topology.hpp"

namespace rci::plan {

// CLUSTER SET-CONFIG-EPOCH: distinct epochs for the creating masters.
struct SetConfigEpoch {
  long long epoch = 0;
  bool operator==(const SetConfigEpoch&) const = default;
};

// CLUSTER ADDSLOTSRANGE (ADDSLOTS on servers that lack it).
struct ClaimSlots {
  SlotRange range{};
  bool operator==(const ClaimSlots&) const = default;
};

// CLUSTER MEET ip port bus-port: introduces a peer, verified as its pod's node, to this node.
struct Meet {
  std::string pod;      // the peer's pod name
  std::string node_id;  // the peer's node ID, as it answered at `ip`
  std::string ip;
  int port = 0;
  int bus_port = 0;
  bool operator==(const Meet&) const = default;
};

// CLUSTER REPLICATE node-id: makes this node a replica of its shard's master.
struct Replicate {
  std::string pod;      // the master's pod name
  std::string node_id;  // the master's node ID
  bool operator==(const Replicate&) const = default;
};

// CLUSTER FORGET node-id: removes a dead node ID from a node's table (Redis bans it for 60 s).
struct Forget {
  std::string node_id;
  bool operator==(const Forget&) const = default;
};

// CLUSTER BUMPEPOCH: a recovered range must win over any stale claim.
struct BumpEpoch {
  bool operator==(const BumpEpoch&) const = default;
};

// A node a slot move talks to: its pod, its ID, where it answers, and the name a TLS
// connection checks its certificate for (its pod's FQDN). A node of a surplus shard is no pod
// this pod observes: its address and name come from its table entry.
struct MoveEnd {
  std::string pod;
  std::string node_id;
  net::Endpoint endpoint;
  std::string server_name;
  bool operator==(const MoveEnd&) const = default;
};

// Moves `range` from `source` into this node, slot by slot, in the documented order (see
// ARCHITECTURE.md, "Scaling shards"): SETSLOT IMPORTING here, SETSLOT MIGRATING on the
// source, GETKEYSINSLOT + MIGRATE on the source until the slot is empty, then SETSLOT NODE
// here, on the source and on `other_masters`. Sent by the actor to each of those nodes; every
// step is idempotent, so a move cut short is finished by the next one.
struct MigrateSlots {
  SlotRange range{};
  MoveEnd source;
  MoveEnd destination;                 // this pod's own node
  std::vector<MoveEnd> other_masters;  // told the new owner too
  bool operator==(const MigrateSlots&) const = default;
};

// CLUSTER SETSLOT slot STABLE: clears a migrating or importing marker this node keeps on a
// slot whose move is over (its owner is already the one the move was for).
struct CloseSlot {
  int slot = 0;
  bool operator==(const CloseSlot&) const = default;
};

// CLUSTER RESET SOFT on a replica: it becomes an empty master knowing no other node (its
// dataset, a copy of its master's, is flushed; its node ID stays). For a new shard's master
// that Redis turned into a replica of another shard's node (see Situation::new_shard_lost_to).
struct ResetToEmptyMaster {
  std::string followed_id;  // the master it replicates, whose copy is flushed
  bool operator==(const ResetToEmptyMaster&) const = default;
};

using Step = std::variant<SetConfigEpoch, ClaimSlots, Meet, Replicate, Forget, BumpEpoch, MigrateSlots, CloseSlot,
                          ResetToEmptyMaster>;

// The target: this pod's own node, over the connection the reconciler holds.
struct ThisNode {
  bool operator==(const ThisNode&) const = default;
};

// The target: each of these nodes in turn, this pod's own first. A FORGET must reach every node:
// one that keeps the ID gossips it back once the ban ends.
struct EveryNode {
  std::vector<net::Endpoint> nodes;
  bool operator==(const EveryNode&) const = default;
};

using Target = std::variant<ThisNode, EveryNode>;

// One step of a plan, where its command goes, and why.
struct Action {
  Step step;
  Target target;           // where the command is sent: ThisNode for every step but a FORGET
                           // (a MigrateSlots step names its other nodes itself)
  std::string reason;      // the observation that led to it, in words
  bool data_loss = false;  // part of --recover-lost-slots: logged as an error

  bool operator==(const Action&) const = default;
};

// The step's short name for logs and JSON, e.g. "claim-slots".
const char* to_string(const Step& step);
// The step's command, e.g. {"CLUSTER", "MEET", "10.0.0.3", "6379", "16379"}; none holds a secret.
std::vector<std::string> argv(const Step& step);
// The action as a command line, e.g. "CLUSTER MEET 10.0.0.3 6379 16379", with the number of
// nodes it goes to where that is not just this one: "CLUSTER FORGET <id> (on 6 nodes)".
std::string describe(const Action& action);

}  // namespace rci::plan
