#pragma once
// Parser for the text of CLUSTER NODES (and nodes.conf lines, which share the format).

#include <string>
#include <string_view>
#include <vector>

#include "rci/topology.hpp"
#include "rci/util/error.hpp"

namespace rci::redis {

// A slot that is moving, as a node's own line shows it: `[slot->-<to-id>]` (migrating out) or
// `[slot-<-<from-id>]` (importing).
struct OpenSlot {
  int slot = 0;
  std::string peer;  // the node it moves to (migrating) or from (importing)
  bool operator==(const OpenSlot&) const = default;
};

// One line of CLUSTER NODES.
struct ClusterNode {
  std::string id;
  std::string ip;  // empty when the node has no known address (noaddr)
  int port = 0;
  int bus_port = 0;
  std::string hostname;  // Redis >= 7 with cluster-announce-hostname
  bool myself = false;
  bool master = false;
  bool replica = false;
  bool fail = false;       // FAIL: agreed failed by a majority
  bool pfail = false;      // PFAIL: this node cannot reach it
  bool handshake = false;  // MEET in progress, id not yet known
  bool noaddr = false;
  bool nofailover = false;
  std::string master_id;  // for replicas; empty otherwise
  long long ping_sent = 0;
  long long pong_received = 0;
  long long config_epoch = 0;
  bool link_connected = false;
  std::vector<SlotRange> slots;     // importing/migrating markers are not slots: they go below
  std::vector<OpenSlot> migrating;  // only on the node's own (myself) line
  std::vector<OpenSlot> importing;

  int slot_count() const;
  bool serves_slot(int slot) const;
  // A master that owns slots and is not agreed failed.
  bool is_live_slot_owner() const { return master && !fail && !slots.empty(); }
  // Another node that the viewing node is connected to and sees healthy: its entry is as good
  // as asking it for what an entry holds (ID, role, slots, name).
  bool is_connected_peer() const { return !myself && !handshake && link_connected && !fail && !pfail; }
};

// Parses the whole reply; a malformed line is an error naming the line number and field.
Result<std::vector<ClusterNode>> parse_cluster_nodes(std::string_view text);

// The entry flagged `myself`, or nullptr.
const ClusterNode* find_myself(const std::vector<ClusterNode>& nodes);
// The entry with this id, or nullptr.
const ClusterNode* find_node(const std::vector<ClusterNode>& nodes, std::string_view id);

}  // namespace rci::redis
