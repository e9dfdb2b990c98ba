#pragma once
// Renders observations and plans for people (tables) and scripts (JSON). Pure functions.

#include <string>

#include "rci/observe/observation.hpp"
#include "rci/plan/planner.hpp"

namespace rci::report {

std::string discover_text(const Topology& topology, const Observation& observation);
std::string discover_json(const Topology& topology, const Observation& observation);
std::string status_text(const Topology& topology, const Observation& observation);
std::string status_json(const Topology& topology, const Observation& observation);
std::string plan_text(const plan::Plan& plan);
std::string plan_json(const plan::Plan& plan);

}  // namespace rci::report
