#include "rci/act/actor.hpp"

#include <fmt/format.h>

#include "rci/util/log.hpp"
#include "rci/util/text.hpp"

namespace rci {
namespace {

Result<redis::Reply> claim_slots(redis::Connection& self, SlotRange range, Deadline deadline) {
  auto reply =
      self.command({"CLUSTER", "ADDSLOTSRANGE", std::to_string(range.first), std::to_string(range.last)}, deadline);
  // Redis 6.2 has no ADDSLOTSRANGE and refuses it with a plain ERR (its wording differs from
  // 7's); every server has ADDSLOTS, which refuses what ADDSLOTSRANGE would for the same reason.
  if (reply || reply.error().code != ReplyCode::err) return reply;
  log::info("CLUSTER ADDSLOTSRANGE refused ({}); naming every slot with CLUSTER ADDSLOTS instead",
            reply.error().message);
  std::vector<std::string> argv = {"CLUSTER", "ADDSLOTS"};
  for (int slot = range.first; slot <= range.last; ++slot) argv.push_back(std::to_string(slot));
  return self.command(argv, deadline);
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

// FORGET goes to every node: a node that keeps the ID would gossip it back once the 60 s ban
// ends. Each node's refusal is its own (a node cannot forget its own master, and one that never
// knew the ID refuses too); the next observation shows which tables still hold the ID, so the
// outcome here is reported, not decided on.
Result<redis::Reply> Actor::forget_everywhere(const plan::Action& action, Deadline deadline) {
  int forgotten = 0;
  std::vector<std::string> refused;
  for (const auto& address : action.addresses) {
    if (deadline.expired()) {
      refused.push_back(fmt::format("{} more not asked before the deadline",
                                    action.addresses.size() - static_cast<size_t>(forgotten) - refused.size()));
      break;
    }
    auto connection = connect_(address, deadline);
    auto reply = connection ? (*connection)->command({"CLUSTER", "FORGET", action.node_id}, deadline)
                            : Result<redis::Reply>(std::unexpected(connection.error()));
    if (reply) {
      ++forgotten;
    } else {
      refused.push_back(reply.error().message);
    }
  }
  if (forgotten == 0 && !refused.empty()) {
    return fail(ErrorKind::reply, fmt::format("refused by every node; {}", refused.front()));
  }
  if (!refused.empty()) {
    log::debug("CLUSTER FORGET {}: forgotten on {} of {} nodes; {}", action.node_id, forgotten, action.addresses.size(),
               text::join(refused, "; "));
  }
  return ok_reply();
}

Result<redis::Reply> Actor::send(redis::Connection& self, const plan::Action& action, Deadline deadline) {
  using plan::ActionKind;
  switch (action.kind) {
    case ActionKind::set_config_epoch:
      return self.command({"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(action.config_epoch)}, deadline);
    case ActionKind::claim_slots: return claim_slots(self, action.slots, deadline);
    case ActionKind::meet:
      return self.command({"CLUSTER", "MEET", action.ip, std::to_string(action.port), std::to_string(action.bus_port)},
                          deadline);
    case ActionKind::replicate: return self.command({"CLUSTER", "REPLICATE", action.node_id}, deadline);
    case ActionKind::forget: return forget_everywhere(action, deadline);
    case ActionKind::bump_epoch: return self.command({"CLUSTER", "BUMPEPOCH"}, deadline);
  }
  return fail(ErrorKind::internal, "unknown action");
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
      if (action.kind == plan::ActionKind::claim_slots) break;
      continue;
    }
    auto reply = send(self, action, deadline);
    if (reply) {
      refusals_.erase(command);
      ++result.applied;
      if (action.data_loss) {
        log::error("DATA LOSS ACCEPTED: {}: {} (because {})", plan::to_string(action.kind), command, action.reason);
      } else {
        log::info("{}: {} (because {})", plan::to_string(action.kind), command, action.reason);
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
    note_refusal(action, reply.error());
    const bool later_steps_depend_on_it = action.kind == plan::ActionKind::claim_slots;
    if (later_steps_depend_on_it) break;
  }
  return result;
}

}  // namespace rci
