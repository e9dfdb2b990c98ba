// redis-cluster-init: parse the configuration (refusing bad input before any traffic), set up
// logging, run the subcommand. Fatal errors become `redis-cluster-init: error: ...` and an
// exit code documented in the README.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "rci/app/commands.hpp"
#include "rci/config/options.hpp"
#include "rci/util/error.hpp"
#include "rci/util/log.hpp"

int main(int argc, char** argv) {
  // A write to a peer that has gone raises SIGPIPE unless the call says MSG_NOSIGNAL, as our
  // TCP writes do; OpenSSL's socket writes cannot, and a TLS peer resetting must be an error
  // of that connection (EPIPE), not the end of this process. Children get the default back.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    auto parsed = rci::parse_command_line(args, rci::process_env());
    if (!parsed.options) {
      std::fputs(parsed.output.c_str(), stdout);
      return parsed.exit_code;
    }
    rci::log::init(parsed.options->log_format, parsed.options->log_level);
    const auto& options = *parsed.options;
    if (options.tls && options.tls_files.verify == rci::net::TlsVerify::ca &&
        options.subcommand != rci::Subcommand::probe) {
      rci::log::warn(
          "--tls-verify ca: servers' certificates are checked against the CA only, not against the pods' names: "
          "any certificate the CA signed is taken for any pod");
    }
    return rci::run_subcommand(*parsed.options);
  } catch (const rci::ConfigError& e) {
    std::fprintf(stderr, "redis-cluster-init: error: %s\n", e.message.c_str());
    return rci::exit_code::bad_config;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "redis-cluster-init: error: %s\n", e.what());
    return rci::exit_code::failed;
  }
}
