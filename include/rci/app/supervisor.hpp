#pragma once
// `run -- redis-server ...`: the redis container's entrypoint and PID 1. Starts redis-server
// as a child with the cluster arguments it needs, bootstraps it, keeps reconciling at a low
// rate, forwards termination signals, reaps zombies and exits with redis-server's status.

#include <string>
#include <vector>

#include "rci/config/options.hpp"

namespace rci {

// Where cluster-announce-hostname (the pod name, by which every table says which pod a node
// is) gets set.
enum class HostnameSetting {
  on_command_line,    // the server has the option (Redis >= 7, Valkey): never seen nameless
  left_to_bootstrap,  // unknown server: the bootstrap sets it with CONFIG SET, if it can
  server_too_old,     // redis-server < 7 by its own word: it has no such option (nor
                      // cluster-preferred-endpoint-type); the bootstrap tries CONFIG SET
};

// The child's argv: the user's command, then the cluster settings this pod needs (they come
// last so they win over the config file). The password never appears here: when one is set,
// `include_file` (a 0600 file holding requirepass/masterauth) is included instead.
std::vector<std::string> redis_server_argv(const Options& options, const std::string& include_file,
                                           HostnameSetting hostname = HostnameSetting::left_to_bootstrap);

// How the hostname can be set for `options.server_command`: on its command line when it is
// redis-server or valkey-server (by its file name) and says it is version 7 or later.
HostnameSetting hostname_setting_for(const std::vector<std::string>& server_command);

// The config include file's text for the credentials (requirepass, masterauth, masteruser),
// with values quoted as redis.conf expects.
std::string auth_include_text(const Credentials& credentials);

// Runs the supervisor; returns the process exit code (redis-server's status, or 128+signal).
int run_supervised(const Options& options);

}  // namespace rci
