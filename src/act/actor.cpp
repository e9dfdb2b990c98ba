#include "rci/act/actor.hpp"

#include <fmt/format.h>

#include "rci/util/log.hpp"

namespace rci {
namespace {

Result<redis::Reply> claim_slots(redis::Connection& self, SlotRange range) {
  auto reply = self.command({"CLUSTER", "ADDSLOTSRANGE", std::to_string(range.first), std::to_string(range.last)});
  if (reply || reply.error().kind != ErrorKind::reply ||
      reply.error().message.find("unknown subcommand") == std::string::npos) {
    return reply;
  }
  // Redis < 7 has no ADDSLOTSRANGE: name every slot instead.
  log::info("server lacks CLUSTER ADDSLOTSRANGE; falling back to CLUSTER ADDSLOTS");
  std::vector<std::string> argv = {"CLUSTER", "ADDSLOTS"};
  for (int slot = range.first; slot <= range.last; ++slot) argv.push_back(std::to_string(slot));
  return self.command(argv);
}

// FORGET goes to every node: a node that keeps the ID would gossip it back once the 60 s ban
// ends. A node that cannot forget it (it is that node's master) is reported, not fatal.
Result<redis::Reply> forget_everywhere(const plan::Action& action, const Connector& connect) {
  int forgotten = 0;
  std::string refused;
  for (const auto& address : action.addresses) {
    auto connection = connect(address);
    auto reply = connection ? (*connection)->command({"CLUSTER", "FORGET", action.node_id})
                            : Result<redis::Reply>(std::unexpected(connection.error()));
    if (reply || reply.error().message.find("Unknown node") != std::string::npos) {
      ++forgotten;
    } else {
      refused += (refused.empty() ? "" : "; ") + reply.error().message;
    }
  }
  if (!refused.empty()) {
    return fail(ErrorKind::reply,
                fmt::format("forgotten on {} of {} nodes; {}", forgotten, action.addresses.size(), refused));
  }
  redis::Reply ok;
  ok.type = redis::Reply::Type::status;
  ok.str = "OK";
  return ok;
}

Result<redis::Reply> apply(redis::Connection& self, const plan::Action& action, const Connector& connect) {
  using plan::ActionKind;
  switch (action.kind) {
    case ActionKind::set_config_epoch:
      return self.command({"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(action.config_epoch)});
    case ActionKind::claim_slots: return claim_slots(self, action.slots);
    case ActionKind::meet:
      return self.command({"CLUSTER", "MEET", action.ip, std::to_string(action.port), std::to_string(action.bus_port)});
    case ActionKind::replicate: return self.command({"CLUSTER", "REPLICATE", action.node_id});
    case ActionKind::forget: return forget_everywhere(action, connect);
    case ActionKind::bump_epoch: return self.command({"CLUSTER", "BUMPEPOCH"});
  }
  return fail(ErrorKind::internal, "unknown action");
}

// Redis answers a MEET to an address it is already shaking hands with by refusing it; the
// handshake under way does the job, so this is not a failure.
bool is_benign(const plan::Action& action, const Error& error) {
  return action.kind == plan::ActionKind::meet && error.kind == ErrorKind::reply &&
         error.message.find("Invalid node address") != std::string::npos;
}

}  // namespace

ActResult apply_actions(redis::Connection& self, const std::vector<plan::Action>& actions, const Connector& connect) {
  ActResult result;
  for (const auto& action : actions) {
    auto reply = apply(self, action, connect);
    if (reply) {
      ++result.applied;
      if (action.data_loss) {
        log::error("DATA LOSS ACCEPTED: {}: {} (because {})", plan::to_string(action.kind), plan::describe(action),
                   action.reason);
      } else {
        log::info("{}: {} (because {})", plan::to_string(action.kind), plan::describe(action), action.reason);
      }
      continue;
    }
    if (is_benign(action, reply.error())) {
      log::debug("{}: handshake with {} already under way", plan::describe(action), action.pod);
      continue;
    }
    ++result.failed;
    log::warn("{} failed: {} (it was for: {})", plan::describe(action), reply.error().message, action.reason);
    bool later_steps_depend_on_it = action.kind == plan::ActionKind::claim_slots;
    if (later_steps_depend_on_it) break;
  }
  return result;
}

}  // namespace rci
