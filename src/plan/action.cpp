#include "rci/plan/action.hpp"

#include <fmt/format.h>

#include "rci/util/overloaded.hpp"
#include "rci/util/text.hpp"

namespace rci::plan {

const char* to_string(const Step& step) {
  return std::visit(Overloaded{
                        [](const SetConfigEpoch&) { return "set-config-epoch"; },
                        [](const ClaimSlots&) { return "claim-slots"; },
                        [](const Meet&) { return "meet"; },
                        [](const Replicate&) { return "replicate"; },
                        [](const Forget&) { return "forget"; },
                        [](const BumpEpoch&) { return "bump-epoch"; },
                        [](const MigrateSlots&) { return "migrate-slots"; },
                        [](const CloseSlot&) { return "close-slot"; },
                        [](const ResetToEmptyMaster&) { return "reset-to-empty-master"; },
                    },
                    step);
}

std::vector<std::string> argv(const Step& step) {
  using Argv = std::vector<std::string>;
  return std::visit(
      Overloaded{
          [](const SetConfigEpoch& s) {
            return Argv{"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(s.epoch)};
          },
          [](const ClaimSlots& s) {
            return Argv{"CLUSTER", "ADDSLOTSRANGE", std::to_string(s.range.first), std::to_string(s.range.last)};
          },
          [](const Meet& s) {
            return Argv{"CLUSTER", "MEET", s.ip, std::to_string(s.port), std::to_string(s.bus_port)};
          },
          [](const Replicate& s) {
            return Argv{"CLUSTER", "REPLICATE", s.node_id};
          },
          [](const Forget& s) {
            return Argv{"CLUSTER", "FORGET", s.node_id};
          },
          [](const BumpEpoch&) {
            return Argv{"CLUSTER", "BUMPEPOCH"};
          },
          // The move's first command; the actor sends the rest (MigrateSlots).
          [](const MigrateSlots& s) {
            return Argv{"CLUSTER", "SETSLOT", std::to_string(s.range.first), "IMPORTING", s.source.node_id};
          },
          [](const CloseSlot& s) {
            return Argv{"CLUSTER", "SETSLOT", std::to_string(s.slot), "STABLE"};
          },
          [](const ResetToEmptyMaster&) {
            return Argv{"CLUSTER", "RESET", "SOFT"};
          },
      },
      step);
}

std::string describe(const Action& action) {
  if (const auto* move = std::get_if<MigrateSlots>(&action.step)) {
    return fmt::format("move slots {}-{} from node {} (pod {}) to this node", move->range.first, move->range.last,
                       move->source.node_id.substr(0, 8), move->source.pod);
  }
  const std::string command = text::join(argv(action.step), " ");
  return std::visit(
      Overloaded{
          [&](const ThisNode&) { return command; },
          [&](const EveryNode& nodes) { return fmt::format("{} (on {} nodes)", command, nodes.nodes.size()); },
      },
      action.target);
}

}  // namespace rci::plan
