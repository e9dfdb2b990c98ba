#pragma once
// The subcommands: each takes validated options and returns the process exit code.

#include "rci/config/options.hpp"

namespace rci {

int run_bootstrap(const Options& options);
int run_discover(const Options& options);
int run_status(const Options& options);
int run_plan(const Options& options);
int run_install(const Options& options);
int run_probe(const Options& options);

// Dispatches to the subcommand named in the options.
int run_subcommand(const Options& options);

}  // namespace rci
