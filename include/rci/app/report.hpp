#pragma once
// Renders observations and plans for people (tables) and scripts (JSON). Pure functions.

#include <optional>
#include <string>
#include <vector>

#include "rci/observe/observation.hpp"
#include "rci/plan/planner.hpp"

namespace rci::report {

std::string discover_text(const Topology& topology, const Observation& observation);
std::string discover_json(const Topology& topology, const Observation& observation);
std::string status_text(const Topology& topology, const Observation& observation);
std::string status_json(const Topology& topology, const Observation& observation);
std::string plan_text(const plan::Plan& plan);
// `layout`: layout_json's object, or "" for none.
std::string plan_json(const plan::Plan& plan, const std::string& layout = "");

// The keys a layout change moves, counted on the servers (CLUSTER COUNTKEYSINSLOT, DBSIZE):
// per move of LayoutChange::moves (nothing where a source did not answer), and in all.
struct LayoutKeys {
  std::vector<std::optional<long long>> per_move;
  std::optional<long long> total;
};
// What `plan` prints of a layout change: the slots (and keys) to move against the minimum and
// against a re-split, then each move.
std::string layout_text(const plan::LayoutChange& change, const LayoutKeys& keys);
std::string layout_json(const plan::LayoutChange& change, const LayoutKeys& keys);

}  // namespace rci::report
