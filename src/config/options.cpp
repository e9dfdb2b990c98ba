// Command-line and environment parsing. Each option is read as text from its flag, else from
// its environment variable(s), else its default; then validated here with a message that
// names the option and the source it came from. Kubernetes passes configuration through env
// (the downward API), people debugging pass flags: flags win.
#include "rci/config/options.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "rci/net/address.hpp"
#include "rci/util/error.hpp"
#include "rci/util/text.hpp"

namespace rci {
namespace {

// One option's text as found, with where it came from for error messages.
struct RawValue {
  std::string text;
  std::string source;  // "--shards" or "SHARDS"
  bool present = false;
};

// Which subcommands take an option.
enum Scope : unsigned {
  cluster = 1,  // bootstrap, discover, status, plan, run: the whole cluster's layout
  probe = 2,    // probe: only how to reach this pod's own redis-server
  run = 4,      // run only
  install_scope = 8,
};

struct OptionSpec {
  const char* flag;
  std::vector<const char*> env;  // first one set wins
  const char* help;
  unsigned scopes = cluster;
};

struct SubcommandSpec {
  const char* name;
  Subcommand subcommand;
  unsigned scope;
  const char* help;
};

const std::vector<SubcommandSpec>& subcommand_specs() {
  static const std::vector<SubcommandSpec> specs = {
      {"bootstrap", Subcommand::bootstrap, cluster,
       "reconcile this pod's running redis-server into the cluster, then exit"},
      {"discover", Subcommand::discover, cluster, "print every expected peer, its address and whether it answers"},
      {"status", Subcommand::status, cluster, "print the cluster as the reachable nodes see it, grouped by shard"},
      {"plan", Subcommand::plan, cluster, "print what bootstrap would do now, and why, without doing it"},
      {"run", Subcommand::run, cluster | run,
       "container entrypoint: start redis-server (after --), bootstrap it, keep reconciling, forward signals"},
      {"probe", Subcommand::probe, probe, "kubelet probe of this pod's redis-server: readiness or liveness"},
      {"install", Subcommand::install, install_scope,
       "copy this binary into a directory (default /scripts), atomically"},
  };
  return specs;
}

// Every option, in the order they appear in --help.
const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {
      {"--pod-name", {"POD_NAME", "HOSTNAME"}, "this pod's name, <prefix>-shard<S>-<ordinal>"},
      {"--pod-ip",
       {"POD_IP"},
       "address this pod's redis-server listens on and announces (probe: default 127.0.0.1)",
       cluster | probe},
      {"--service", {"GOVERNING_SERVICE"}, "headless governing service of the pods"},
      {"--namespace", {"POD_NAMESPACE"}, "Kubernetes namespace of the pods"},
      {"--cluster-domain", {"CLUSTER_DOMAIN"}, "cluster DNS domain (default cluster.local)"},
      {"--shards", {"SHARDS"}, "number of shards (masters), at least 3"},
      {"--replicas", {"REPLICAS"}, "replicas per shard, 0 or more (default 0)"},
      {"--port", {"REDIS_PORT"}, "redis-server port (default 6379)", cluster | probe},
      {"--bus-port", {"REDIS_BUS_PORT"}, "cluster bus port (default port+10000)"},
      {"--dns-server", {"DNS_SERVER"}, "ask this DNS server (host[:port]) instead of /etc/resolv.conf"},
      {"--discovery",
       {"DISCOVERY"},
       "auto (default: the service's SRV records if they answer, else each pod's name), srv or names"},
      {"--port-name", {"REDIS_PORT_NAME"}, "the service's port name, for SRV discovery (default redis)"},
      {"--password-file",
       {"REDIS_PASSWORD_FILE"},
       "file holding the redis password (else env REDIS_PASSWORD or REDISCLI_AUTH)",
       cluster | probe},
      {"--user", {"REDIS_USER"}, "ACL user to authenticate as (default: the default user)", cluster | probe},
      {"--timeout", {"BOOTSTRAP_TIMEOUT"}, "overall deadline in seconds (default 300)"},
      // The probe runs in the redis container, whose environment holds run's BOOTSTRAP_TIMEOUT:
      // its own deadline is a flag only.
      {"--timeout", {}, "deadline of the whole probe in seconds (default 5)", probe},
      {"--on-bootstrap-failure",
       {"ON_BOOTSTRAP_FAILURE"},
       "when bootstrap misses its deadline: keep-running (default: serve, keep reconciling) or exit",
       run},
      {"--reconcile-interval", {"RECONCILE_INTERVAL"}, "seconds between reconciling passes (default 30)", run},
      {"--stop-grace",
       {"STOP_GRACE"},
       "seconds redis-server gets to stop after a failed bootstrap (exit policy) before SIGKILL (default 30)",
       run},
      {"--handover",
       {"HANDOVER"},
       "on (default: on SIGTERM a master hands its slots to a healthy replica first) or off",
       run},
      {"--handover-timeout",
       {"HANDOVER_TIMEOUT"},
       "seconds a handover may take before redis-server is stopped anyway (default 20)",
       run},
      {"--termination-log",
       {"TERMINATION_LOG"},
       "file for the reason bootstrap or run gives up, shown by kubectl describe pod "
       "(default /dev/termination-log where writable; 'none': no file)"},
      {"--announce-hostname",
       {"ANNOUNCE_HOSTNAME"},
       "what each node announces as cluster-announce-hostname: fqdn (default: "
       "<pod>.<service>.<namespace>.svc.<domain>) "
       "or pod (the bare pod name)"},
      {"--preferred-endpoint",
       {"PREFERRED_ENDPOINT"},
       "what Redis >= 7 gives clients in MOVED and CLUSTER SLOTS: ip (default) or hostname (the announced name)"},
      {"--replica-migration",
       {"REPLICA_MIGRATION"},
       "deny (default: replicas stay in the shard their pod name says) or allow (Redis' automatic migration)"},
      {"--tls", {"TLS"}, "yes: talk to every redis-server over TLS (default no)", cluster | probe},
      {"--tls-cert-file",
       {"TLS_CERT_FILE"},
       "this pod's certificate (PEM), also presented to servers as the client certificate",
       cluster | probe},
      {"--tls-key-file", {"TLS_KEY_FILE"}, "the private key of --tls-cert-file (PEM, unencrypted)", cluster | probe},
      {"--tls-ca-cert-file",
       {"TLS_CA_CERT_FILE"},
       "the CA certificate(s) servers' certificates must chain to",
       cluster | probe},
      {"--tls-ca-cert-dir", {"TLS_CA_CERT_DIR"}, "a directory of CA certificates (c_rehash layout)", cluster | probe},
      {"--tls-verify",
       {"TLS_VERIFY"},
       "full (default: the chain and the pod's FQDN among the certificate's names) or ca (the chain only)",
       cluster},
      {"--tls-reload-interval",
       {"TLS_RELOAD_INTERVAL"},
       "seconds between checks of the TLS files for a renewal, reloaded without a restart (default 30)",
       run},
      {"--plaintext-port",
       {"PLAINTEXT_PORT"},
       "with --tls yes, a port redis-server also serves plaintext clients on (default: none, port 0); the binary, "
       "the cluster bus and replication stay on TLS",
       run},
      {"--connect-timeout-ms",
       {"CONNECT_TIMEOUT_MS"},
       "connect timeout per node in ms (default 1000)",
       cluster | probe},
      {"--command-timeout-ms",
       {"COMMAND_TIMEOUT_MS"},
       "command timeout per node in ms (default 2000)",
       cluster | probe},
      {"--migration-batch",
       {"MIGRATION_BATCH"},
       "keys per MIGRATE when slots move to another shard (default 100)",
       cluster},
      {"--migration-concurrency",
       {"MIGRATION_CONCURRENCY"},
       "slots a destination moves from one source at once, each step for all of them in one write (default 16)",
       cluster},
      {"--log-format", {"LOG_FORMAT"}, "text or json (default text)", cluster | probe | install_scope},
      {"--log-level", {"LOG_LEVEL"}, "debug, info, warn or error (default info)", cluster | probe | install_scope},
  };
  return specs;
}

[[noreturn]] void bad(const RawValue& raw, const std::string& what) {
  throw ConfigError{fmt::format("{}: '{}' {}", raw.source, raw.text, what)};
}

// The value that names `raw.text` among `choices`; a text none of them has is refused with
// `what` ("is not a log format; expected text or json").
template <typename T>
T choose(const RawValue& raw, std::initializer_list<std::pair<const char*, T>> choices, const char* what) {
  for (const auto& [name, value] : choices) {
    if (raw.text == name) return value;
  }
  bad(raw, what);
}

[[noreturn]] void missing(const std::string& flag, const std::vector<const char*>& env, const std::string& why) {
  std::string names = flag;
  for (const char* e : env) names += fmt::format(" / {}", e);
  throw ConfigError{fmt::format("{}: missing; {}", names, why)};
}

int parse_int_in(const RawValue& raw, long long min, long long max, const std::string& what) {
  const std::string_view digits = text::trim(raw.text);
  auto value = text::to_int(digits);
  if (!value && text::is_integer_syntax(digits)) bad(raw, fmt::format("is out of range; expected {}", what));
  if (!value) bad(raw, fmt::format("is not a whole number; expected {}", what));
  if (*value < min || *value > max) bad(raw, fmt::format("is out of range; expected {}", what));
  return static_cast<int>(*value);
}

// A DNS label: what Kubernetes allows in service and namespace names (RFC 1123).
bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), text::is_dns_label_char);
}

bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (auto label : text::split(s, '.')) {
    if (!is_dns_label(label)) return false;
  }
  return true;
}

// A password file is a mounted Secret: a small regular file. Anything else is refused before
// it is read (a device would be read forever), and so is a NUL byte, which redis.conf cannot
// hold (redis-server would print the password in its error).
std::string read_password_file(const RawValue& raw) {
  constexpr std::uintmax_t max_size = 64 * 1024;
  std::error_code error;
  const auto status = std::filesystem::status(raw.text, error);
  if (error) bad(raw, fmt::format("cannot be read: {}", error.message()));
  if (!std::filesystem::is_regular_file(status)) bad(raw, "is not a regular file");
  const auto size = std::filesystem::file_size(raw.text, error);
  if (error) bad(raw, fmt::format("cannot be read: {}", error.message()));
  if (size > max_size) bad(raw, fmt::format("is larger than {} bytes; expected a file holding a password", max_size));
  std::ifstream in(raw.text, std::ios::binary);
  if (!in) bad(raw, fmt::format("cannot be read: {}", std::strerror(errno)));
  std::stringstream content;
  content << in.rdbuf();
  std::string password = content.str();
  // Secrets mounted from Kubernetes often end with a newline that is not part of the password.
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  if (password.empty()) bad(raw, "is empty");
  if (password.find('\0') != std::string::npos) bad(raw, "holds a NUL byte, which a Redis password cannot");
  return password;
}

// Where CLI11 leaves what it parsed: every option of every subcommand as text (validated
// afterwards, so every error message has one form), and the few typed extras.
struct CliValues {
  std::map<std::string, std::string> flag_values;  // key: subcommand name + flag
  std::map<std::string, CLI::Option*> flag_options;
  bool json_output = false;
  bool recover_lost_slots = false;
  std::string install_dir = "/scripts";
  std::string probe_kind;
  std::vector<std::string> server_command;
};

void define_cli(CLI::App& app, CliValues& values) {
  for (const auto& sub : subcommand_specs()) {
    CLI::App* cmd = app.add_subcommand(sub.name, sub.help);
    // Left over for parse_command_line to report: CLI11's own message echoes every leftover
    // value, and one may be a secret given to an option that does not exist.
    cmd->allow_extras();
    for (const auto& spec : option_specs()) {
      if ((spec.scopes & sub.scope) == 0) continue;
      std::string help = spec.help;
      help += " [";
      for (size_t i = 0; i < spec.env.size(); ++i) help += (i ? ", " : "") + std::string(spec.env[i]);
      help += "]";
      const std::string key = std::string(sub.name) + spec.flag;
      values.flag_options[key] = cmd->add_option(spec.flag, values.flag_values[key], help);
    }
    if (sub.subcommand == Subcommand::bootstrap || sub.subcommand == Subcommand::run ||
        sub.subcommand == Subcommand::plan) {
      cmd->add_flag("--recover-lost-slots", values.recover_lost_slots,
                    "let this pod take over its shard's slots when every pod of the shard lost its data "
                    "(accepts that loss) [RECOVER_LOST_SLOTS=yes]");
    }
    switch (sub.subcommand) {
      case Subcommand::discover:
      case Subcommand::status:
      case Subcommand::plan: cmd->add_flag("--json", values.json_output, "print JSON instead of a table"); break;
      case Subcommand::install:
        cmd->add_option("dir", values.install_dir, "directory to copy the binary into (default /scripts)");
        break;
      case Subcommand::probe: cmd->add_option("kind", values.probe_kind, "readiness or liveness"); break;
      case Subcommand::run:
        cmd->add_option("command", values.server_command, "-- redis-server and its arguments");
        break;
      case Subcommand::bootstrap: break;
    }
  }
}

// "--shard" of "--shard=3": an option's name without a value that may follow it.
std::string option_name(const std::string& arg) {
  return arg.substr(0, arg.find('='));
}

// What CLI11 left over for a subcommand: unknown options (named, never with their values) or
// arguments it takes none of (counted, not shown: they may be secrets).
void reject_leftovers(const std::string& subcommand, std::vector<std::string> leftovers) {
  // CLI11 leaves the `--` that ends the options among them.
  std::erase(leftovers, "--");
  if (leftovers.empty()) return;
  for (const auto& arg : leftovers) {
    if (arg.starts_with("-") && arg.size() > 1) {
      throw ConfigError{
          fmt::format("{}: unknown option '{}' (see {} --help)", subcommand, option_name(arg), subcommand)};
    }
  }
  throw ConfigError{fmt::format(
      "{}: {} (not shown: {} be a secret; see {} --help)", subcommand,
      leftovers.size() == 1 ? "an unexpected argument" : fmt::format("{} unexpected arguments", leftovers.size()),
      leftovers.size() == 1 ? "it may" : "one may", subcommand)};
}

const OptionSpec& spec_of(std::string_view flag, unsigned scope) {
  for (const auto& spec : option_specs()) {
    if (flag == spec.flag && (spec.scopes & scope) != 0) return spec;
  }
  throw ConfigError{fmt::format("internal: unknown option {}", flag)};
}

// Each option's text for the chosen subcommand: the flag if given, else the first of its
// environment variables that is set and not empty.
class OptionSource {
 public:
  OptionSource(const CliValues& values, const SubcommandSpec& subcommand, const EnvLookup& env)
      : values_(values), subcommand_(subcommand.name), scope_(subcommand.scope), env_(env) {}

  RawValue operator()(std::string_view flag) const {
    const OptionSpec& spec = spec_of(flag, scope_);
    const std::string key = subcommand_ + spec.flag;
    if (auto it = values_.flag_options.find(key); it != values_.flag_options.end() && it->second->count() > 0) {
      return RawValue{values_.flag_values.at(key), spec.flag, true};
    }
    for (const char* name : spec.env) {
      if (auto value = env_(name); value && !value->empty()) return RawValue{*value, name, true};
    }
    return RawValue{"", spec.flag, false};
  }

  // The option's value, or a ConfigError naming its flag and variables and saying `why`.
  RawValue required(std::string_view flag, const std::string& why) const {
    RawValue value = (*this)(flag);
    if (!value.present) missing(std::string(flag), spec_of(flag, scope_).env, why);
    return value;
  }

 private:
  const CliValues& values_;
  std::string subcommand_;
  unsigned scope_;
  const EnvLookup& env_;
};

// The options every subcommand that talks to this pod's own redis-server shares: its address
// and port, and the time budgets.
void parse_connection_options(const OptionSource& get, Options& options) {
  if (auto v = get("--pod-ip"); v.present) {
    RawValue ip{std::string(text::trim(v.text)), v.source, true};
    auto canonical = net::canonical_ip(ip.text);
    if (!canonical) bad(ip, "is not a numeric IP address (the cluster bus takes addresses, not names)");
    if (auto why = net::unusable_reason(*canonical)) bad(ip, *why + "; expected the address of this pod");
    // Canonical, as Redis and the resolver print addresses, so comparisons with them hold.
    options.pod_ip = *canonical;
  }

  if (auto v = get("--port"); v.present) {
    options.port = parse_int_in(v, 1, 55535, "a port from 1 to 55535 (the bus port is port+10000)");
  }
  options.bus_port = options.port + 10000;

  if (auto v = get("--timeout"); v.present) {
    options.timeout = std::chrono::seconds(parse_int_in(v, 1, 86400, "seconds from 1 to 86400"));
  }
  if (auto v = get("--connect-timeout-ms"); v.present) {
    options.connect_timeout = std::chrono::milliseconds(parse_int_in(v, 10, 60000, "milliseconds from 10 to 60000"));
  }
  if (auto v = get("--command-timeout-ms"); v.present) {
    options.command_timeout = std::chrono::milliseconds(parse_int_in(v, 10, 60000, "milliseconds from 10 to 60000"));
  }
  if (options.subcommand == Subcommand::probe) return;  // probes move nothing
  if (auto v = get("--migration-batch"); v.present) {
    options.migration_batch = static_cast<int>(parse_int_in(v, 1, 10000, "keys from 1 to 10000"));
  }
  if (auto v = get("--migration-concurrency"); v.present) {
    options.migration_concurrency = static_cast<int>(parse_int_in(v, 1, 64, "slots from 1 to 64"));
  }
}

// TLS: the files are loaded now, so a missing file, a key that is not the certificate's or an
// expired certificate is a configuration error before any traffic. `probe` talks to its own
// pod's server over loopback and checks the chain only.
void parse_tls(const OptionSource& get, Options& options) {
  if (auto v = get("--tls"); v.present) {
    options.tls = choose<bool>(v, {{"yes", true}, {"no", false}}, "is not a choice; expected yes or no");
  }
  const char* file_options[] = {"--tls-cert-file", "--tls-key-file", "--tls-ca-cert-file", "--tls-ca-cert-dir"};
  std::string* fields[] = {&options.tls_files.cert_file, &options.tls_files.key_file, &options.tls_files.ca_cert_file,
                           &options.tls_files.ca_cert_dir};
  for (size_t i = 0; i < std::size(file_options); ++i) {
    auto v = get(file_options[i]);
    if (!v.present) continue;
    if (v.text.empty()) bad(v, "is not a file path");
    if (!options.tls) {
      throw ConfigError{fmt::format("{}: given without --tls yes (TLS): say --tls yes to use TLS", v.source)};
    }
    *fields[i] = v.text;
  }
  if (options.subcommand == Subcommand::run) {
    if (auto v = get("--plaintext-port"); v.present) {
      if (!options.tls) {
        throw ConfigError{fmt::format(
            "{}: given without --tls yes (TLS): without TLS, redis-server serves plaintext on --port already",
            v.source)};
      }
      options.plaintext_port = parse_int_in(v, 1, 65535, "a port from 1 to 65535");
      if (options.plaintext_port == options.port || options.plaintext_port == options.bus_port) {
        bad(v, fmt::format("is --port ({}) or the cluster bus port ({}); the plaintext port needs a port of its own",
                           options.port, options.bus_port));
      }
    }
  }
  if (options.subcommand != Subcommand::probe) {
    if (auto v = get("--tls-verify"); v.present) {
      options.tls_files.verify = choose<net::TlsVerify>(v, {{"full", net::TlsVerify::full}, {"ca", net::TlsVerify::ca}},
                                                        "is not a choice; expected full or ca");
    }
  } else {
    options.tls_files.verify = net::TlsVerify::ca;
  }
  if (!options.tls) return;
  if (options.subcommand == Subcommand::run) {
    if (auto v = get("--tls-reload-interval"); v.present) {
      options.tls_reload_interval = std::chrono::seconds(parse_int_in(v, 1, 86400, "seconds from 1 to 86400"));
    }
  }
  if (options.subcommand == Subcommand::run && options.tls_files.cert_file.empty()) {
    throw ConfigError{
        "run: --tls yes needs --tls-cert-file and --tls-key-file (TLS_CERT_FILE, TLS_KEY_FILE): "
        "redis-server serves with them"};
  }
  auto context = net::TlsContext::load(options.tls_files);
  if (!context) throw ConfigError{context.error().message};
  options.tls_context = std::make_shared<net::TlsContextSource>(std::move(*context));
}

// The user and password for every redis-server: the password from a file, else the environment.
void parse_credentials(const OptionSource& get, const EnvLookup& env, Options& options) {
  if (auto v = get("--user"); v.present) options.credentials.user = v.text;
  if (auto v = get("--password-file"); v.present) {
    options.credentials.password = read_password_file(v);
  } else if (auto p = env("REDIS_PASSWORD"); p && !p->empty()) {
    options.credentials.password = *p;
  } else if (auto a = env("REDISCLI_AUTH"); a && !a->empty()) {
    options.credentials.password = *a;
  }
  if (!options.credentials.user.empty() && options.credentials.password.empty()) {
    throw ConfigError{
        "--user: an ACL user was given without a password (--password-file, REDIS_PASSWORD or REDISCLI_AUTH)"};
  }
}

bool parse_recover_lost_slots(bool flag, const EnvLookup& env) {
  if (flag) return true;
  auto v = env("RECOVER_LOST_SLOTS");
  if (!v || v->empty() || *v == "no" || *v == "false" || *v == "0") return false;
  if (*v == "yes" || *v == "true" || *v == "1") return true;
  throw ConfigError{fmt::format("RECOVER_LOST_SLOTS: '{}' is not yes or no", *v)};
}

void parse_logging(const OptionSource& get, Options& options) {
  if (auto v = get("--log-format"); v.present) {
    options.log_format = choose<log::Format>(v, {{"text", log::Format::text}, {"json", log::Format::json}},
                                             "is not a log format; expected text or json");
  }
  if (auto v = get("--log-level"); v.present) {
    options.log_level = choose<log::Level>(v,
                                           {{"debug", log::Level::debug},
                                            {"info", log::Level::info},
                                            {"warn", log::Level::warn},
                                            {"warning", log::Level::warn},
                                            {"error", log::Level::error}},
                                           "is not a log level; expected debug, info, warn or error");
  }
}

// Kubernetes' rule for a port name (IANA_SVC_NAME): at most 15 lowercase letters, digits and
// '-', at least one letter, no '-' at either end or twice in a row.
bool is_port_name(const std::string& name) {
  if (name.empty() || name.size() > 15 || name.front() == '-' || name.back() == '-') return false;
  if (name.find("--") != std::string::npos) return false;
  bool letter = false;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') {
      letter = true;
    } else if (!(c >= '0' && c <= '9') && c != '-') {
      return false;
    }
  }
  return letter;
}

void parse_discovery(const OptionSource& get, Options& options) {
  if (auto v = get("--discovery"); v.present) {
    options.discovery = choose<DiscoveryMode>(
        v, {{"auto", DiscoveryMode::automatic}, {"srv", DiscoveryMode::srv}, {"names", DiscoveryMode::names}},
        "is not a discovery method; expected auto, srv or names");
  }
  if (auto v = get("--port-name"); v.present) {
    if (!is_port_name(v.text)) {
      bad(v, "is not a port name (at most 15 lowercase letters, digits and '-', with at least one letter)");
    }
    options.port_name = v.text;
  }
}

// This pod's identity and the cluster's layout: what every subcommand but probe and install
// needs.
void parse_cluster_options(const OptionSource& get, const EnvLookup& env, Options& options) {
  const bool needs_local_node = options.subcommand == Subcommand::bootstrap || options.subcommand == Subcommand::plan ||
                                options.subcommand == Subcommand::run;
  auto pod_name = get.required("--pod-name", "this pod's name gives the database prefix, shard and ordinal");
  auto parsed_name = parse_pod_name(pod_name.text);
  if (!parsed_name) throw ConfigError{fmt::format("{}: {}", pod_name.source, parsed_name.error())};
  options.pod = *parsed_name;
  options.pod_name = pod_name.text;

  if (needs_local_node) get.required("--pod-ip", "the address of this pod's redis-server is needed");
  parse_connection_options(get, options);
  parse_credentials(get, env, options);

  auto service = get.required("--service", "peer names are <pod>.<service>.<namespace>.svc.<domain>");
  if (!is_dns_label(service.text)) bad(service, "is not a valid service name (lowercase letters, digits, '-')");
  options.service = service.text;

  auto ns = get.required("--namespace", "peer names are <pod>.<service>.<namespace>.svc.<domain>");
  if (!is_dns_label(ns.text)) bad(ns, "is not a valid namespace name (lowercase letters, digits, '-')");
  options.namespace_name = ns.text;

  if (auto v = get("--cluster-domain"); v.present) {
    std::string domain = v.text;
    if (domain.ends_with('.')) domain.pop_back();
    if (!is_dns_name(domain)) bad(v, "is not a valid DNS domain");
    options.cluster_domain = domain;
  }

  auto shards = get.required("--shards", "the number of shards is needed to compute slot ranges");
  options.shards = parse_int_in(shards, 3, 16384 / 2, "an integer of at least 3 (a Redis Cluster needs three masters)");
  // A pod of a shard at or above SHARDS is surplus (SHARDS was lowered while its StatefulSet
  // still runs): not an error, it drains (see Topology::surplus).
  if (auto v = get("--replicas"); v.present) {
    options.replicas = parse_int_in(v, 0, 100, "an integer from 0 to 100");
  }
  if (options.pod.ordinal > options.replicas) {
    throw ConfigError{fmt::format("{}: '{}' has ordinal {}, but with {} replicas per shard ordinals are 0..{}",
                                  pod_name.source, pod_name.text, options.pod.ordinal, options.replicas,
                                  options.replicas)};
  }
  if (auto v = get("--bus-port"); v.present) options.bus_port = parse_int_in(v, 1, 65535, "a port from 1 to 65535");
  if (options.bus_port == options.port) {
    throw ConfigError{
        fmt::format("--bus-port: {} equals --port; the cluster bus needs a port of its own", options.bus_port)};
  }

  if (auto v = get("--replica-migration"); v.present) {
    options.allow_replica_migration =
        choose<bool>(v, {{"allow", true}, {"deny", false}}, "is not a choice; expected allow or deny");
  }
  if (auto v = get("--announce-hostname"); v.present) {
    options.announced_name = choose<AnnouncedName>(v, {{"fqdn", AnnouncedName::fqdn}, {"pod", AnnouncedName::pod}},
                                                   "is not a choice; expected fqdn or pod");
  }
  if (auto v = get("--preferred-endpoint"); v.present) {
    options.preferred_endpoint =
        choose<PreferredEndpoint>(v, {{"ip", PreferredEndpoint::ip}, {"hostname", PreferredEndpoint::hostname}},
                                  "is not a choice; expected ip or hostname");
  }
  if (auto v = get("--dns-server"); v.present) options.dns_server = parse_dns_server(v.text, v.source);
  parse_discovery(get, options);
  if (auto v = get("--termination-log"); v.present) {
    if (v.text.empty()) bad(v, "is not a file path; give a path, or 'none' for no termination message");
    options.termination_log = v.text == "none" ? "" : v.text;
    options.termination_log_given = true;
  }
}

void parse_run_options(const OptionSource& get, const std::vector<std::string>& server_command, Options& options) {
  if (auto v = get("--on-bootstrap-failure"); v.present) {
    options.on_bootstrap_failure = choose<OnBootstrapFailure>(
        v, {{"exit", OnBootstrapFailure::exit}, {"keep-running", OnBootstrapFailure::keep_running}},
        "is not a policy; expected exit or keep-running");
  }
  if (auto v = get("--reconcile-interval"); v.present) {
    options.reconcile_interval = std::chrono::seconds(parse_int_in(v, 1, 86400, "seconds from 1 to 86400"));
  }
  if (auto v = get("--stop-grace"); v.present) {
    options.stop_grace = std::chrono::seconds(parse_int_in(v, 1, 3600, "seconds from 1 to 3600"));
  }
  if (auto v = get("--handover"); v.present) {
    options.handover = choose<bool>(v, {{"on", true}, {"off", false}}, "is not a choice; expected on or off");
  }
  if (auto v = get("--handover-timeout"); v.present) {
    options.handover_timeout = std::chrono::seconds(parse_int_in(v, 1, 3600, "seconds from 1 to 3600"));
  }
  if (server_command.empty()) throw ConfigError{"run: no server command; expected: run [options] -- redis-server ..."};
  options.server_command = server_command;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

DnsServer parse_dns_server(const std::string& given, const std::string& what) {
  const std::string value(text::trim(given));
  RawValue raw{value, what, true};
  DnsServer server;
  std::string port_text;
  bool has_port = false;
  if (!value.empty() && value.front() == '[') {
    auto close = value.find(']');
    if (close == std::string::npos) bad(raw, "has '[' without ']'; expected [ipv6]:port");
    server.host = value.substr(1, close - 1);
    if (close + 1 < value.size()) {
      if (value[close + 1] != ':') bad(raw, "has something other than ':port' after ']'");
      port_text = value.substr(close + 2);
      has_port = true;
    }
  } else if (std::count(value.begin(), value.end(), ':') == 1) {
    auto colon = value.find(':');
    server.host = value.substr(0, colon);
    port_text = value.substr(colon + 1);
    has_port = true;
  } else {
    server.host = value;  // a bare IPv4 address, or an IPv6 literal without a port
  }
  if (server.host.empty()) bad(raw, "has no host; expected ip[:port]");
  auto canonical = net::canonical_ip(server.host);
  // c-ares takes server addresses only; a name here would make every lookup fail.
  if (!canonical) bad(raw, "does not start with a numeric IP address; expected ip[:port] or [ipv6]:port");
  server.host = *canonical;
  if (has_port) {
    if (port_text.empty()) bad(raw, "has no port after ':'; expected ip[:port]");
    server.port = parse_int_in(RawValue{port_text, what, true}, 1, 65535, "a port from 1 to 65535");
  }
  return server;
}

ParsedCommandLine parse_command_line(const std::vector<std::string>& args, const EnvLookup& env) {
  CLI::App app{
      "redis-cluster-init: creates or joins a Redis Cluster from inside a Kubernetes pod.\n"
      "Every option also reads an environment variable (shown in brackets); flags win.",
      "redis-cluster-init"};
  app.set_version_flag("--version", std::string(RCI_VERSION));
  app.require_subcommand(1);
  CliValues values;
  define_cli(app, values);

  // CLI11's own message for a wrong subcommand does not name it.
  const std::string subcommand_list = "bootstrap, discover, status, plan, run, probe or install";
  if (args.empty()) throw ConfigError{"a subcommand is required: " + subcommand_list + " (see --help)"};
  const bool known_subcommand = std::any_of(subcommand_specs().begin(), subcommand_specs().end(),
                                            [&](const SubcommandSpec& sub) { return args.front() == sub.name; });
  const bool top_level_flag =
      args.front().starts_with("-h") || args.front().starts_with("--help") || args.front() == "--version";
  if (!known_subcommand && !top_level_flag) {
    if (args.front().starts_with("-")) {
      throw ConfigError{fmt::format("{}: options come after the subcommand; expected {} first",
                                    option_name(args.front()), subcommand_list)};
    }
    throw ConfigError{fmt::format("unknown subcommand '{}'; expected {}", args.front(), subcommand_list)};
  }
  // CLI11 consumes arguments from the back.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  ParsedCommandLine result;
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    // The help of the subcommand it was asked of, with that subcommand's options.
    auto parsed = app.get_subcommands();
    result.output = parsed.empty() ? app.help() : parsed.front()->help();
    return result;
  } catch (const CLI::CallForAllHelp&) {
    result.output = app.help("", CLI::AppFormatMode::All);
    return result;
  } catch (const CLI::CallForVersion&) {
    result.output = std::string(RCI_VERSION) + "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    throw ConfigError{message.empty() ? "invalid command line" : message};
  }

  const SubcommandSpec* chosen = nullptr;
  for (const auto& sub : subcommand_specs()) {
    if (app.got_subcommand(sub.name)) chosen = &sub;
  }
  if (chosen == nullptr) throw ConfigError{"a subcommand is required: " + subcommand_list + " (see --help)"};
  reject_leftovers(chosen->name, app.get_subcommand(chosen->name)->remaining());
  const OptionSource source{values, *chosen, env};

  Options options;
  options.subcommand = chosen->subcommand;
  options.json_output = values.json_output;
  options.recover_lost_slots = parse_recover_lost_slots(values.recover_lost_slots, env);
  // Logging first, so later problems are reported in the chosen format.
  parse_logging(source, options);

  switch (options.subcommand) {
    case Subcommand::install:
      if (values.install_dir.empty()) throw ConfigError{"install: the directory is empty"};
      options.install_dir = values.install_dir;
      break;
    case Subcommand::probe:
      if (values.probe_kind == "readiness")
        options.probe_kind = ProbeKind::readiness;
      else if (values.probe_kind == "liveness")
        options.probe_kind = ProbeKind::liveness;
      else if (values.probe_kind.empty())
        throw ConfigError{"probe: which probe is missing; expected readiness or liveness"};
      else
        throw ConfigError{fmt::format("probe: '{}' is not a probe; expected readiness or liveness", values.probe_kind)};
      options.timeout = std::chrono::seconds(5);
      options.pod_ip = "127.0.0.1";
      parse_connection_options(source, options);
      parse_tls(source, options);
      // Liveness never authenticates (any answer, NOAUTH included, is alive): a Secret that is
      // missing or emptied must not get a healthy server restarted.
      if (options.probe_kind == ProbeKind::readiness) parse_credentials(source, env, options);
      break;
    case Subcommand::run:
    case Subcommand::bootstrap:
    case Subcommand::plan:
    case Subcommand::discover:
    case Subcommand::status:
      parse_cluster_options(source, env, options);
      if (options.subcommand == Subcommand::run) parse_run_options(source, values.server_command, options);
      parse_tls(source, options);
      break;
  }
  result.options = std::move(options);
  return result;
}

}  // namespace rci
