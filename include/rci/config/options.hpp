#pragma once
// Every option of every subcommand: flags and environment variables (flags win).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rci/config/pod_name.hpp"
#include "rci/net/tls.hpp"
#include "rci/util/log.hpp"

namespace rci {

enum class Subcommand { bootstrap, discover, status, plan, run, probe, install };
enum class ProbeKind { readiness, liveness };
// What `run` does when bootstrap misses its deadline.
enum class OnBootstrapFailure {
  keep_running,  // keep serving (the readiness probe keeps traffic away) and keep reconciling
  exit,          // stop redis-server and exit 1, so the pod restarts
};

// How peers are found in DNS.
enum class DiscoveryMode {
  automatic,  // SRV of the service's named port when it answers, else each pod's own name
  srv,        // only the SRV records (one query for every pod)
  names,      // only each pod's own name (docker compose, plain DNS)
};

// What a node announces as cluster-announce-hostname.
enum class AnnouncedName {
  fqdn,  // <pod>.<service>.<namespace>.svc.<domain>: unique across namespaces and services
  pod,   // the bare pod name (what round 1 announced)
};

// What Redis (>= 7) gives clients in MOVED, ASK and CLUSTER SLOTS: cluster-preferred-endpoint-type.
enum class PreferredEndpoint {
  ip,        // Redis' default
  hostname,  // the announced name: TLS clients that check names follow redirects to names
             // their certificates hold
};

// A DNS server to ask instead of /etc/resolv.conf.
struct DnsServer {
  std::string host;
  int port = 53;
};

// Credentials for every redis-server of the cluster. The password is read from a file or the
// environment, never from argv, and is never logged.
struct Credentials {
  std::string user;      // empty: the default user
  std::string password;  // empty: no AUTH
};

struct Options {
  Subcommand subcommand = Subcommand::bootstrap;
  PodName pod;
  std::string pod_name;  // as given, for messages
  std::string pod_ip;
  std::string service;
  std::string namespace_name;
  std::string cluster_domain = "cluster.local";
  int shards = 0;
  int replicas = 0;
  int port = 6379;
  int bus_port = 0;  // 0 until resolved: port + 10000 unless --bus-port
  std::optional<DnsServer> dns_server;
  DiscoveryMode discovery = DiscoveryMode::automatic;
  std::string port_name = "redis";  // the service's named port, for SRV: _<port_name>._tcp.<service>...
  Credentials credentials;
  // --tls yes: every connection is TLS, made with the source's current context: loaded from
  // `tls_files` when the options were parsed, replaced by `run` when renewed files load.
  bool tls = false;
  net::TlsFiles tls_files;
  std::shared_ptr<net::TlsContextSource> tls_context;
  // run: how often the TLS files are checked for a renewal (cert-manager rewrites them in place).
  std::chrono::seconds tls_reload_interval{30};
  // run --tls yes: a plaintext port redis-server also serves clients on (0: none, TLS only).
  // The binary itself, the cluster bus and replication stay on TLS.
  int plaintext_port = 0;
  std::chrono::seconds timeout{300};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{2000};
  int migration_batch = 100;  // keys per MIGRATE when slots move (--migration-batch)
  // Slots one destination moves from one source at once (--migration-concurrency).
  int migration_concurrency = 16;
  log::Format log_format = log::Format::text;
  log::Level log_level = log::Level::info;
  bool json_output = false;                     // status/discover/plan: machine-readable output
  std::string install_dir = "/scripts";         // install
  ProbeKind probe_kind = ProbeKind::readiness;  // probe
  std::vector<std::string> server_command;      // run: redis-server and its arguments
  OnBootstrapFailure on_bootstrap_failure = OnBootstrapFailure::keep_running;  // run
  std::chrono::seconds reconcile_interval{30};                                 // run
  // run: how long redis-server gets to stop once `run` asked it to (bootstrap failed under
  // --on-bootstrap-failure exit) before it is killed.
  std::chrono::seconds stop_grace{30};
  // run: on SIGTERM, a master serving slots first hands them to its healthy replica of the
  // lowest ordinal (a coordinated CLUSTER FAILOVER), for at most `handover_timeout`.
  bool handover = true;
  std::chrono::seconds handover_timeout{20};
  // Redis' automatic replica migration moves replicas between shards; here shards are defined
  // by pod names, so it is turned off on each node unless allowed.
  bool allow_replica_migration = false;
  // bootstrap, run: where the reason for giving up is written for `kubectl describe pod` (the
  // container's terminationMessagePath). Empty: nowhere. The default is written only where it
  // exists (outside Kubernetes /dev/termination-log does not); a path given is created if need
  // be, and warned about when it cannot be written.
  std::string termination_log = "/dev/termination-log";
  bool termination_log_given = false;
  AnnouncedName announced_name = AnnouncedName::fqdn;
  PreferredEndpoint preferred_endpoint = PreferredEndpoint::ip;
  // A shard whose every pod lost its data may be taken over, empty, by its ordinal-0 pod.
  bool recover_lost_slots = false;
};

// Looks up an environment variable; injected so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// The process environment.
EnvLookup process_env();

// Outcome of parsing the command line: options to run with, or text to print and exit with.
struct ParsedCommandLine {
  std::optional<Options> options;  // set when there is work to do
  std::string output;              // help or version text when options is empty
  int exit_code = 0;
};

// Parses the arguments after the program name and the environment into validated options. Throws ConfigError with a
// one-line message naming the option on any invalid value; no network traffic happens before this.
ParsedCommandLine parse_command_line(const std::vector<std::string>& args, const EnvLookup& env);

// Parses `host[:port]` (IPv6 literals in brackets). Throws ConfigError naming `what`.
DnsServer parse_dns_server(const std::string& value, const std::string& what);

}  // namespace rci
