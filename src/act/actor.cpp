#include "rci/act/actor.hpp"

#include <fmt/format.h>

#include "rci/util/log.hpp"
#include "rci/util/overloaded.hpp"
#include "rci/util/text.hpp"

namespace rci {
namespace {

Result<redis::Reply> claim_slots(redis::Connection& node, const plan::ClaimSlots& claim, Deadline deadline) {
  auto reply = node.command(plan::argv(claim), deadline);
  // Redis 6.2 has no ADDSLOTSRANGE and refuses it with a plain ERR (its wording differs from
  // 7's); every server has ADDSLOTS, which refuses what ADDSLOTSRANGE would for the same reason.
  if (reply || reply.error().code != ReplyCode::err) return reply;
  log::info("CLUSTER ADDSLOTSRANGE refused ({}); naming every slot with CLUSTER ADDSLOTS instead",
            reply.error().message);
  std::vector<std::string> argv = {"CLUSTER", "ADDSLOTS"};
  for (int slot = claim.range.first; slot <= claim.range.last; ++slot) argv.push_back(std::to_string(slot));
  return node.command(argv, deadline);
}

// The step's command on one node.
Result<redis::Reply> send_step(redis::Connection& node, const plan::Step& step, Deadline deadline) {
  if (const auto* claim = std::get_if<plan::ClaimSlots>(&step)) return claim_slots(node, *claim, deadline);
  return node.command(plan::argv(step), deadline);
}

// A failed slot claim stops the batch: the steps after it depend on it.
bool later_steps_depend_on(const plan::Action& action) {
  return std::holds_alternative<plan::ClaimSlots>(action.step);
}

redis::Reply ok_reply() {
  redis::Reply ok;
  ok.type = redis::Reply::Type::status;
  ok.str = "OK";
  return ok;
}

}  // namespace

Millis refusal_backoff(int refusals) {
  constexpr Millis first{100}, longest{5000};
  Millis wait = first;
  for (int i = 1; i < refusals && wait < longest; ++i) wait *= 2;
  return std::min(wait, longest);
}

// A step for every node (FORGET: a node that keeps the ID would gossip it back once the 60 s
// ban ends). Each node's refusal is its own (a node cannot forget its own master, and one that
// never knew the ID refuses too); the next observation shows which tables still hold the ID, so
// the outcome here is reported, not decided on.
Result<redis::Reply> Actor::send_everywhere(const plan::Step& step, const plan::EveryNode& nodes, Deadline deadline) {
  int accepted = 0;
  std::vector<std::string> refused;
  for (const auto& node : nodes.nodes) {
    if (deadline.expired()) {
      refused.push_back(fmt::format("{} more not asked before the deadline",
                                    nodes.nodes.size() - static_cast<size_t>(accepted) - refused.size()));
      break;
    }
    auto connection = connect_(node, "", deadline);
    auto reply = connection ? send_step(**connection, step, deadline)
                            : Result<redis::Reply>(std::unexpected(connection.error()));
    if (reply) {
      ++accepted;
    } else {
      refused.push_back(reply.error().message);
    }
  }
  if (accepted == 0 && !refused.empty()) {
    return fail(ErrorKind::reply, fmt::format("refused by every node; {}", refused.front()));
  }
  if (!refused.empty()) {
    log::debug("{}: accepted by {} of {} nodes; {}", text::join(plan::argv(step), " "), accepted, nodes.nodes.size(),
               text::join(refused, "; "));
  }
  return ok_reply();
}

// MIGRATE of `keys` from the source to the destination, authenticating as the cluster's user.
std::vector<std::string> migrate_command(const plan::MoveEnd& to, const Credentials& credentials, Millis timeout,
                                         const std::vector<std::string>& keys, bool replace) {
  std::vector<std::string> argv = {
      "MIGRATE", to.endpoint.ip, std::to_string(to.endpoint.port), "", "0", std::to_string(timeout.count())};
  if (replace) argv.push_back("REPLACE");
  if (!credentials.password.empty() && !credentials.user.empty()) {
    argv.insert(argv.end(), {"AUTH2", credentials.user, credentials.password});
  } else if (!credentials.password.empty()) {
    argv.insert(argv.end(), {"AUTH", credentials.password});
  }
  argv.push_back("KEYS");
  argv.insert(argv.end(), keys.begin(), keys.end());
  return argv;
}

// The commands of one step for every slot of `group`: {"CLUSTER", "SETSLOT", <slot>, args...}.
std::vector<std::vector<std::string>> per_slot(SlotRange group, std::initializer_list<std::string> head,
                                               const std::vector<std::string>& tail) {
  std::vector<std::vector<std::string>> commands;
  for (int slot = group.first; slot <= group.last; ++slot) {
    std::vector<std::string> argv(head);
    argv.push_back(std::to_string(slot));
    argv.insert(argv.end(), tail.begin(), tail.end());
    commands.push_back(std::move(argv));
  }
  return commands;
}

// Moves the keys of the slots of `group` from the source (MIGRATING) to the destination
// (IMPORTING) until none is left: their keys listed in one write, then a MIGRATE per slot
// that has keys (each with its own timeout: a big key takes long), again until every slot is
// empty. BUSYKEY means a key is on both sides: the source did not get the reply to an
// earlier MIGRATE of it in time. While the slot is MIGRATING the source serves every key it
// still holds (clients are sent to the destination only for keys it lacks), so the copy on
// the destination was never written by a client: the batch goes again with REPLACE.
Result<void> Actor::empty_slots(redis::Connection& source, const plan::MigrateSlots& move, SlotRange group,
                                Deadline deadline) {
  std::vector<int> pending;
  for (int slot = group.first; slot <= group.last; ++slot) pending.push_back(slot);
  while (!pending.empty()) {
    std::vector<std::vector<std::string>> listing;
    for (int slot : pending) {
      listing.push_back({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), std::to_string(migration_.batch)});
    }
    auto listed = source.commands(listing, deadline);
    if (!listed) return std::unexpected(listed.error());
    std::vector<int> with_keys;
    for (size_t i = 0; i < pending.size(); ++i) {
      const auto& keys_reply = (*listed)[i].elements;
      if (keys_reply.empty()) continue;
      with_keys.push_back(pending[i]);
      std::vector<std::string> keys;
      for (const auto& key : keys_reply) keys.push_back(key.str);
      auto moved = source.command(
          migrate_command(move.destination, migration_.credentials, migration_.key_timeout, keys, false), deadline);
      if (!moved && moved.error().code == ReplyCode::busykey) {
        log::warn(
            "slot {}: a key of this batch is on both {} and {} (an earlier MIGRATE's reply was lost); the source's "
            "copy is the one clients wrote, sending the batch again with REPLACE",
            pending[i], move.source.pod, move.destination.pod);
        moved = source.command(
            migrate_command(move.destination, migration_.credentials, migration_.key_timeout, keys, true), deadline);
      }
      if (!moved) {
        return std::unexpected(Error{moved.error().kind, fmt::format("slot {}: {}", pending[i], moved.error().message),
                                     moved.error().code});
      }
    }
    pending = std::move(with_keys);
  }
  return {};
}

// The move of a group of slots, in the documented order, each step for the whole group in
// one write; each step may be repeated safely.
Result<void> Actor::migrate_group(redis::Connection& self, redis::Connection& source, const plan::MigrateSlots& move,
                                  SlotRange group, Deadline deadline) {
  if (auto r = self.commands(per_slot(group, {"CLUSTER", "SETSLOT"}, {"IMPORTING", move.source.node_id}), deadline);
      !r) {
    return std::unexpected(r.error());
  }
  if (auto r =
          source.commands(per_slot(group, {"CLUSTER", "SETSLOT"}, {"MIGRATING", move.destination.node_id}), deadline);
      !r) {
    return std::unexpected(r.error());
  }
  if (auto emptied = empty_slots(source, move, group, deadline); !emptied) return emptied;
  // The destination first: its claim (with a config epoch bumped by Redis) is what gossip
  // spreads should the rest not be reached.
  const auto assign = per_slot(group, {"CLUSTER", "SETSLOT"}, {"NODE", move.destination.node_id});
  if (auto r = self.commands(assign, deadline); !r) return std::unexpected(r.error());
  if (auto r = source.commands(assign, deadline); !r) return std::unexpected(r.error());
  for (const auto& master : move.other_masters) {
    auto other = connect_(master.endpoint, master.server_name, deadline);
    auto told = other ? (*other)->commands(assign, deadline)
                      : Result<std::vector<redis::Reply>>(std::unexpected(other.error()));
    // Gossip tells a master that missed it; the next observation shows who has not learned yet.
    if (!told) {
      log::debug("slots {}-{}: {} (pod {}) not told their new owner: {}", group.first, group.last,
                 master.endpoint.to_string(), master.pod, told.error().message);
    }
  }
  return {};
}

// Whether the node answering over `connection` is `end`'s node: an address (from DNS, or from
// a table entry for a surplus shard's node) may have passed to another node since it was seen.
Result<void> Actor::verify_node(redis::Connection& connection, const plan::MoveEnd& end, Deadline deadline) {
  auto id = connection.command({"CLUSTER", "MYID"}, deadline);
  if (!id) return std::unexpected(id.error());
  if (id->str != end.node_id) {
    return fail(ErrorKind::reply,
                fmt::format("{} answers as node {}, not as node {} of pod {} that the move is from",
                            end.endpoint.to_string(), id->str.substr(0, 8), end.node_id.substr(0, 8), end.pod));
  }
  return {};
}

Result<redis::Reply> Actor::migrate_slots(redis::Connection& self, const plan::MigrateSlots& move, Deadline deadline) {
  auto source = connect_(move.source.endpoint, move.source.server_name, deadline);
  if (!source) return std::unexpected(source.error());
  if (auto verified = verify_node(**source, move.source, deadline); !verified) {
    return std::unexpected(verified.error());
  }
  // A group of `concurrency` slots at a time: that many slots are MIGRATING on the source at
  // once, and each step costs one round trip for the whole group.
  const int group_size = std::max(1, migration_.concurrency);
  for (int first = move.range.first; first <= move.range.last; first += group_size) {
    const SlotRange group{first, std::min(move.range.last, first + group_size - 1)};
    if (deadline.expired()) {
      return fail(ErrorKind::timeout, fmt::format("slots {}-{}: the deadline passed", group.first, group.last));
    }
    if (auto moved = migrate_group(self, **source, move, group, deadline); !moved) {
      return std::unexpected(Error{moved.error().kind,
                                   fmt::format("slots {}-{}: {}", group.first, group.last, moved.error().message),
                                   moved.error().code});
    }
  }
  return ok_reply();
}

Result<redis::Reply> Actor::send(redis::Connection& self, const plan::Action& action, Deadline deadline) {
  if (const auto* move = std::get_if<plan::MigrateSlots>(&action.step)) return migrate_slots(self, *move, deadline);
  return std::visit(Overloaded{
                        [&](const plan::ThisNode&) { return send_step(self, action.step, deadline); },
                        [&](const plan::EveryNode& nodes) { return send_everywhere(action.step, nodes, deadline); },
                    },
                    action.target);
}

// Logs a refusal the first time it is seen with this reason; the same refusal again (the plan
// asks for the same step every round) only moves its next try further away.
void Actor::note_refusal(const plan::Action& action, const Error& error) {
  Refusal& refusal = refusals_[plan::describe(action)];
  const bool new_reason = refusal.message != error.message;
  refusal.count = new_reason ? 1 : refusal.count + 1;
  refusal.message = error.message;
  const Millis wait = refusal_backoff(refusal.count);
  refusal.retry_at = Clock::now() + wait;
  if (new_reason) {
    log::warn("{} failed: {} (it was for: {}); trying again in {} ms at the earliest, backing off",
              plan::describe(action), error.message, action.reason, wait.count());
  } else {
    log::debug("{} refused again ({} times): {}", plan::describe(action), refusal.count, error.message);
  }
}

ActResult Actor::apply(redis::Connection& self, const std::vector<plan::Action>& actions, Deadline deadline) {
  ActResult result;
  for (const auto& action : actions) {
    if (deadline.expired()) break;
    const std::string command = plan::describe(action);
    if (auto it = refusals_.find(command); it != refusals_.end() && Clock::now() < it->second.retry_at) {
      ++result.deferred;
      if (later_steps_depend_on(action)) break;
      continue;
    }
    auto reply = send(self, action, deadline);
    if (reply) {
      refusals_.erase(command);
      ++result.applied;
      if (action.data_loss) {
        log::error("DATA LOSS ACCEPTED: {}: {} (because {})", plan::to_string(action.step), command, action.reason);
      } else {
        log::info("{}: {} (because {})", plan::to_string(action.step), command, action.reason);
      }
      continue;
    }
    ++result.failed;
    // A lost connection or a timeout is not Redis refusing the step: nothing more can be sent
    // on it this round (the next round reconnects), and the step is not held back.
    const ErrorKind kind = reply.error().kind;
    if (kind != ErrorKind::reply && kind != ErrorKind::auth) {
      log::warn("{} failed: {}; observing again before the remaining {} steps", command, reply.error().message,
                actions.size() - static_cast<size_t>(&action - actions.data()) - 1);
      break;
    }
    if (reply.error().code == ReplyCode::noperm) {
      log::error("{} refused: {}", command, reply.error().message);
      result.denied = reply.error();
      break;
    }
    note_refusal(action, reply.error());
    if (later_steps_depend_on(action)) break;
  }
  return result;
}

}  // namespace rci
