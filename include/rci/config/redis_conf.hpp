#pragma once
// Reads redis-server's configuration the way redis-server does, far enough to know where it
// will keep nodes.conf: `run` must know, before starting the server, whether this pod still has
// its cluster identity (see app/start_guard).

#include <string>
#include <string_view>
#include <vector>

#include "rci/util/error.hpp"

namespace rci::redis_conf {

// One configuration line: its name, lower-cased, and its arguments.
struct Directive {
  std::string name;
  std::vector<std::string> args;
  std::string origin;  // "<file>:<line>" or "command line", for error messages
};

// Splits one line into words as redis-server does: blanks separate words; "..." allows the
// escapes \n \r \t \b \a \\ \" and \xHH; '...' allows \'. A closing quote must end the word.
// Fails on an unbalanced quote.
Result<std::vector<std::string>> split_arguments(std::string_view line);

// The directives of a configuration file's text, in order; blank lines and # comments skipped.
// `source` names the file in errors.
Result<std::vector<Directive>> parse(std::string_view text, const std::string& source);

// The directives redis-server's command line adds after the configuration file, as Redis 7
// reads them: `--name` starts one (split like a line, so "--dir /data" as one argument is
// dir /data) and the arguments after it are its values; a `--word` right after an option
// that has no value yet is that value.
Result<std::vector<Directive>> from_arguments(const std::vector<std::string>& args);

// The absolute path of the nodes.conf that `server_command` (redis-server, its configuration
// file and options) will use when started in `cwd`: the last `cluster-config-file` (default
// nodes.conf), relative to the directory the last `dir` moved to. Follows `include` (with glob
// patterns, as Redis 7 does). The server is the first word named redis-server or valkey-server
// (after a wrapper such as `tini --`). Fails, saying why, when no word is, the server reads
// its configuration from stdin, or a file cannot be read or parsed.
Result<std::string> locate_nodes_conf(const std::vector<std::string>& server_command, const std::string& cwd);

}  // namespace rci::redis_conf
