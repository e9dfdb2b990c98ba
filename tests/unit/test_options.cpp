// config/options: flags and environment into validated options, or a ConfigError naming the
// option. Kubernetes passes env (downward API), people debugging pass flags: flags win.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/topology.hpp"
#include "rci/util/error.hpp"

using namespace rci;

namespace {

using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

// What a pod of a 3x1 cluster gets from its StatefulSet.
Env pod_env() {
  return {{"POD_NAME", "redis-shard1-0"}, {"POD_IP", "10.0.0.3"}, {"GOVERNING_SERVICE", "redis-pods"},
          {"POD_NAMESPACE", "default"},   {"SHARDS", "3"},        {"REPLICAS", "1"}};
}

Env with(Env env, const Env& changes) {
  for (const auto& [key, value] : changes) env[key] = value;
  return env;
}

Env without(Env env, const std::vector<std::string>& keys) {
  for (const auto& key : keys) env.erase(key);
  return env;
}

EnvLookup lookup(const Env& env) {
  return [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

Options parse(const Args& args, const Env& env = pod_env()) {
  auto result = parse_command_line(args, lookup(env));
  REQUIRE(result.options.has_value());
  return *result.options;
}

// The message of the ConfigError that parsing must throw.
std::string config_error(const Args& args, const Env& env = pod_env()) {
  try {
    parse_command_line(args, lookup(env));
  } catch (const ConfigError& e) {
    return e.message;
  }
  FAIL("no ConfigError was thrown");
  return {};
}

// A file in the temporary directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string pattern = (std::filesystem::temp_directory_path() / "rci-test-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("a pod's environment alone gives complete options", "[options]") {
  Options o = parse({"bootstrap"});
  CHECK(o.subcommand == Subcommand::bootstrap);
  CHECK(o.pod == PodName{"redis", 1, 0});
  CHECK(o.pod_name == "redis-shard1-0");
  CHECK(o.pod_ip == "10.0.0.3");
  CHECK(o.service == "redis-pods");
  CHECK(o.namespace_name == "default");
  CHECK(o.cluster_domain == "cluster.local");
  CHECK(o.shards == 3);
  CHECK(o.replicas == 1);
  CHECK(o.port == 6379);
  CHECK(o.bus_port == 16379);
  CHECK_FALSE(o.dns_server.has_value());
  CHECK(o.credentials.user.empty());
  CHECK(o.credentials.password.empty());
  CHECK(o.timeout == std::chrono::seconds(300));
  CHECK(o.connect_timeout == std::chrono::milliseconds(1000));
  CHECK(o.command_timeout == std::chrono::milliseconds(2000));
  CHECK(o.log_format == log::Format::text);
  CHECK(o.log_level == log::Level::info);
  CHECK_FALSE(o.json_output);
}

TEST_CASE("the pod IP is kept in canonical form, as Redis prints addresses", "[options]") {
  auto with_ip = [](const std::string& ip) {
    return parse({"bootstrap", "--pod-name", "redis-shard0-0", "--pod-ip", ip, "--service", "redis-pods", "--namespace",
                  "default", "--shards", "3"},
                 {})
        .pod_ip;
  };
  CHECK(with_ip("FE80:0000::0001") == "fe80::1");
  CHECK(with_ip(" 10.0.0.3 ") == "10.0.0.3");
  CHECK(with_ip("::ffff:10.0.0.3") == "10.0.0.3");  // as DNS and CLUSTER NODES give it
}

TEST_CASE("flags alone give complete options", "[options]") {
  Options o = parse({"plan",
                     "--pod-name",
                     "cache-shard2-1",
                     "--pod-ip=10.1.2.3",
                     "--service",
                     "cache-pods",
                     "--namespace",
                     "prod",
                     "--shards",
                     "4",
                     "--replicas",
                     "2",
                     "--port",
                     "7000",
                     "--cluster-domain",
                     "k8s.example.org.",
                     "--dns-server",
                     "10.96.0.10:5353",
                     "--timeout",
                     "60",
                     "--connect-timeout-ms",
                     "250",
                     "--command-timeout-ms",
                     "500",
                     "--log-format",
                     "json",
                     "--log-level",
                     "debug",
                     "--json"},
                    {});
  CHECK(o.subcommand == Subcommand::plan);
  CHECK(o.pod == PodName{"cache", 2, 1});
  CHECK(o.pod_ip == "10.1.2.3");
  CHECK(o.service == "cache-pods");
  CHECK(o.namespace_name == "prod");
  CHECK(o.cluster_domain == "k8s.example.org");  // trailing dot dropped
  CHECK(o.shards == 4);
  CHECK(o.replicas == 2);
  CHECK(o.port == 7000);
  CHECK(o.bus_port == 17000);
  REQUIRE(o.dns_server.has_value());
  CHECK(o.dns_server->host == "10.96.0.10");
  CHECK(o.dns_server->port == 5353);
  CHECK(o.timeout == std::chrono::seconds(60));
  CHECK(o.connect_timeout == std::chrono::milliseconds(250));
  CHECK(o.command_timeout == std::chrono::milliseconds(500));
  CHECK(o.log_format == log::Format::json);
  CHECK(o.log_level == log::Level::debug);
  CHECK(o.json_output);
}

TEST_CASE("flags win over the environment", "[options]") {
  Options o = parse({"bootstrap", "--shards", "5", "--replicas", "2", "--pod-name", "redis-shard4-2", "--pod-ip",
                     "10.0.0.9", "--service", "other-pods", "--port", "6380"},
                    with(pod_env(), {{"REDIS_PORT", "7000"}, {"LOG_LEVEL", "warn"}}));
  CHECK(o.shards == 5);
  CHECK(o.replicas == 2);
  CHECK(o.pod == PodName{"redis", 4, 2});
  CHECK(o.pod_ip == "10.0.0.9");
  CHECK(o.service == "other-pods");
  CHECK(o.port == 6380);
  CHECK(o.bus_port == 16380);
  CHECK(o.namespace_name == "default");    // from env: no flag given
  CHECK(o.log_level == log::Level::warn);  // from env
}

TEST_CASE("POD_NAME falls back to HOSTNAME", "[options]") {
  SECTION("HOSTNAME alone") {
    Options o = parse({"bootstrap"}, with(without(pod_env(), {"POD_NAME"}), {{"HOSTNAME", "redis-shard2-1"}}));
    CHECK(o.pod == PodName{"redis", 2, 1});
  }
  SECTION("an empty POD_NAME counts as unset") {
    Options o = parse({"bootstrap"}, with(pod_env(), {{"POD_NAME", ""}, {"HOSTNAME", "redis-shard2-1"}}));
    CHECK(o.pod == PodName{"redis", 2, 1});
  }
  SECTION("POD_NAME wins over HOSTNAME") {
    Options o = parse({"bootstrap"}, with(pod_env(), {{"HOSTNAME", "redis-shard2-1"}}));
    CHECK(o.pod == PodName{"redis", 1, 0});
  }
  SECTION("the flag wins over both") {
    Options o = parse({"bootstrap", "--pod-name", "redis-shard0-1"}, with(pod_env(), {{"HOSTNAME", "redis-shard2-1"}}));
    CHECK(o.pod == PodName{"redis", 0, 1});
  }
}

TEST_CASE("a pod of a shard at or above SHARDS is accepted: it is surplus and drains (scale-in)", "[options]") {
  Options o = parse({"bootstrap", "--pod-name", "redis-shard4-1"});
  CHECK(o.pod == PodName{"redis", 4, 1});
  CHECK(o.shards == 3);
  CHECK(make_topology(o).surplus);
}

TEST_CASE("ports: the bus port is port + 10000 unless given", "[options]") {
  CHECK(parse({"bootstrap", "--port", "7000"}).bus_port == 17000);
  CHECK(parse({"bootstrap", "--port", "7000", "--bus-port", "7001"}).bus_port == 7001);
  CHECK(parse({"bootstrap"}, with(pod_env(), {{"REDIS_PORT", "6380"}, {"REDIS_BUS_PORT", "16000"}})).bus_port == 16000);
  CHECK(parse({"bootstrap", "--port", "55535"}).bus_port == 65535);
  CHECK(parse({"bootstrap", "--port", "1"}).port == 1);
}

TEST_CASE("log levels and formats", "[options]") {
  CHECK(parse({"bootstrap", "--log-level", "warning"}).log_level == log::Level::warn);
  CHECK(parse({"bootstrap", "--log-level", "error"}).log_level == log::Level::error);
  CHECK(parse({"bootstrap"}, with(pod_env(), {{"LOG_FORMAT", "json"}})).log_format == log::Format::json);
}

TEST_CASE("the pod IP is needed only by bootstrap, plan and run", "[options]") {
  Env no_ip = without(pod_env(), {"POD_IP"});
  CHECK_THAT(config_error({"bootstrap"}, no_ip), Catch::Contains("--pod-ip / POD_IP: missing"));
  CHECK_THAT(config_error({"plan"}, no_ip), Catch::Contains("--pod-ip / POD_IP: missing"));
  CHECK_THAT(config_error({"run", "--", "redis-server"}, no_ip), Catch::Contains("--pod-ip / POD_IP: missing"));

  Options discover = parse({"discover"}, no_ip);
  CHECK(discover.subcommand == Subcommand::discover);
  CHECK(discover.pod_ip.empty());
  Options status = parse({"status", "--json"}, no_ip);
  CHECK(status.subcommand == Subcommand::status);
  CHECK(status.json_output);
}

TEST_CASE("every invalid value is a ConfigError naming the option it came from", "[options]") {
  struct Row {
    const char* name;
    Args args;
    Env env;
    std::vector<std::string> says;  // each must appear in the message
  };
  const Env env = pod_env();
  const std::vector<Row> rows = {
      {"shards below 3 (flag)", {"bootstrap", "--shards", "2"}, env, {"--shards", "'2'", "at least 3"}},
      {"shards below 3 (env)", {"bootstrap"}, with(env, {{"SHARDS", "2"}}), {"SHARDS", "'2'"}},
      {"shards not a number", {"bootstrap", "--shards", "three"}, env, {"--shards", "'three'", "not a whole number"}},
      {"shards with trailing junk", {"bootstrap"}, with(env, {{"SHARDS", "3x"}}), {"SHARDS", "'3x'"}},
      {"shards missing", {"bootstrap"}, without(env, {"SHARDS"}), {"--shards / SHARDS: missing"}},
      {"replicas -1 (flag)", {"bootstrap", "--replicas=-1"}, env, {"--replicas", "'-1'"}},
      {"replicas -1 (env)", {"bootstrap"}, with(env, {{"REPLICAS", "-1"}}), {"REPLICAS", "'-1'"}},
      {"replicas not a number", {"bootstrap", "--replicas", "one"}, env, {"--replicas", "'one'"}},
      {"ordinal above replicas",
       {"bootstrap"},
       with(env, {{"POD_NAME", "redis-shard1-2"}}),
       {"POD_NAME", "'redis-shard1-2'", "ordinal 2", "1 replicas"}},
      {"ordinal with no replicas",
       {"bootstrap", "--pod-name", "redis-shard0-1", "--replicas", "0"},
       env,
       {"--pod-name", "ordinal 1"}},
      {"port 0", {"bootstrap", "--port", "0"}, env, {"--port", "'0'"}},
      {"port whose bus port would pass 65535", {"bootstrap", "--port", "55536"}, env, {"--port", "'55536'"}},
      {"port 65536 (env)", {"bootstrap"}, with(env, {{"REDIS_PORT", "65536"}}), {"REDIS_PORT", "'65536'"}},
      {"port not a number", {"bootstrap", "--port", "http"}, env, {"--port", "'http'"}},
      {"bus port out of range", {"bootstrap", "--bus-port", "70000"}, env, {"--bus-port", "'70000'"}},
      {"bus port equal to port", {"bootstrap", "--port", "7000", "--bus-port", "7000"}, env, {"--bus-port", "7000"}},
      {"timeout 0", {"bootstrap", "--timeout", "0"}, env, {"--timeout", "'0'"}},
      {"timeout 0 (env)", {"bootstrap"}, with(env, {{"BOOTSTRAP_TIMEOUT", "0"}}), {"BOOTSTRAP_TIMEOUT", "'0'"}},
      {"timeout not a number", {"bootstrap", "--timeout", "5m"}, env, {"--timeout", "'5m'"}},
      {"connect timeout too short", {"bootstrap", "--connect-timeout-ms", "5"}, env, {"--connect-timeout-ms", "'5'"}},
      {"command timeout too long",
       {"bootstrap"},
       with(env, {{"COMMAND_TIMEOUT_MS", "600000"}}),
       {"COMMAND_TIMEOUT_MS", "'600000'"}},
      {"log format", {"bootstrap", "--log-format", "xml"}, env, {"--log-format", "'xml'", "text or json"}},
      {"log format (env)", {"bootstrap"}, with(env, {{"LOG_FORMAT", "yaml"}}), {"LOG_FORMAT", "'yaml'"}},
      {"log level", {"bootstrap", "--log-level", "verbose"}, env, {"--log-level", "'verbose'"}},
      {"dns server bad port", {"bootstrap", "--dns-server", "10.0.0.1:0"}, env, {"--dns-server", "'0'"}},
      {"dns server unclosed bracket (env)",
       {"bootstrap"},
       with(env, {{"DNS_SERVER", "[::1"}}),
       {"DNS_SERVER", "'[::1'"}},
      {"pod name malformed (flag)",
       {"bootstrap", "--pod-name", "redis-0"},
       env,
       {"--pod-name", "'redis-0'", "expected"}},
      {"pod name malformed (HOSTNAME)",
       {"bootstrap"},
       with(without(env, {"POD_NAME"}), {{"HOSTNAME", "web-7d9f-x"}}),
       {"HOSTNAME", "'web-7d9f-x'"}},
      {"pod name missing", {"bootstrap"}, without(env, {"POD_NAME"}), {"--pod-name / POD_NAME / HOSTNAME: missing"}},
      {"pod ip is a name", {"bootstrap", "--pod-ip", "redis-shard1-0.redis-pods"}, env, {"--pod-ip", "numeric IP"}},
      {"pod ip (env) is a word", {"bootstrap"}, with(env, {{"POD_IP", "localhost"}}), {"POD_IP", "'localhost'"}},
      {"pod ip with three parts", {"bootstrap", "--pod-ip", "10.0.3"}, env, {"--pod-ip", "'10.0.3'", "numeric IP"}},
      {"pod ip with a bad group", {"bootstrap", "--pod-ip", "fe80::1::2"}, env, {"--pod-ip", "numeric IP"}},
      {"pod ip unspecified", {"bootstrap", "--pod-ip", "0.0.0.0"}, env, {"--pod-ip", "'0.0.0.0'", "unspecified"}},
      {"pod ip unspecified (IPv6)", {"bootstrap"}, with(env, {{"POD_IP", "::"}}), {"POD_IP", "unspecified"}},
      {"pod ip multicast", {"bootstrap", "--pod-ip", "224.0.0.1"}, env, {"--pod-ip", "multicast"}},
      {"pod ip multicast (IPv6)", {"bootstrap", "--pod-ip", "ff02::1"}, env, {"--pod-ip", "multicast"}},
      {"pod ip broadcast", {"bootstrap", "--pod-ip", "255.255.255.255"}, env, {"--pod-ip", "broadcast"}},
      {"shards far too large",
       {"bootstrap", "--shards", "99999999999999999999999"},
       env,
       {"--shards", "is out of range"}},
      {"service with capitals", {"bootstrap", "--service", "Redis_Pods"}, env, {"--service", "'Redis_Pods'"}},
      {"service missing",
       {"bootstrap"},
       without(env, {"GOVERNING_SERVICE"}),
       {"--service / GOVERNING_SERVICE: missing"}},
      {"namespace empty (flag)", {"bootstrap", "--namespace="}, env, {"--namespace"}},
      {"namespace missing", {"bootstrap"}, without(env, {"POD_NAMESPACE"}), {"--namespace / POD_NAMESPACE: missing"}},
      {"cluster domain", {"bootstrap", "--cluster-domain", "bad..domain"}, env, {"--cluster-domain", "'bad..domain'"}},
      {"user without password", {"bootstrap", "--user", "admin"}, env, {"--user"}},
      {"unknown flag", {"bootstrap", "--shard", "3"}, env, {"bootstrap: unknown option '--shard'"}},
      {"unknown flag with =", {"bootstrap", "--shard=3"}, env, {"unknown option '--shard'"}},
      {"stray argument", {"plan", "extra"}, env, {"plan: an unexpected argument"}},
      {"an option before the subcommand", {"--shards", "3", "bootstrap"}, env, {"--shards", "after the subcommand"}},
      {"no subcommand", {}, env, {"subcommand"}},
      {"unknown subcommand", {"boot"}, env, {"'boot'", "bootstrap"}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    std::string message = config_error(row.args, row.env);
    for (const auto& part : row.says) CHECK_THAT(message, Catch::Contains(part));
    CHECK(message.find('\n') == std::string::npos);  // one line
  }
}

TEST_CASE("parse_dns_server reads host, host:port and [ipv6]:port", "[options]") {
  struct Row {
    const char* value;
    const char* host;
    int port;
  };
  const Row rows[] = {
      {"10.96.0.10", "10.96.0.10", 53},
      {"10.96.0.10:5353", "10.96.0.10", 5353},
      {" 10.96.0.10 ", "10.96.0.10", 53},
      {"[fd00::10]:5353", "fd00::10", 5353},
      {"[::1]", "::1", 53},
      {"::1", "::1", 53},  // bare IPv6 without a port
      {"fd00::a:b", "fd00::a:b", 53},
      {"127.0.0.1:65535", "127.0.0.1", 65535},
  };
  for (const auto& row : rows) {
    INFO(row.value);
    DnsServer server = parse_dns_server(row.value, "--dns-server");
    CHECK(server.host == row.host);
    CHECK(server.port == row.port);
  }
}

TEST_CASE("parse_dns_server refuses bad values naming the option", "[options]") {
  for (const char* value : {"", ":53", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:dns", "[::1", "[::1]:",
                            "[::1]5353", "[::1]:x", "[]:53", "dns.example.org", "dns.example.org:53", "10.0.0"}) {
    INFO("value: '" << value << "'");
    try {
      parse_dns_server(value, "DNS_SERVER");
      FAIL_CHECK("accepted");
    } catch (const ConfigError& e) {
      CHECK_THAT(e.message, Catch::StartsWith("DNS_SERVER: "));
    }
  }
}

TEST_CASE("password: --password-file, REDIS_PASSWORD, then REDISCLI_AUTH", "[options]") {
  TempFile file("from-file\n");
  Env both = with(pod_env(), {{"REDIS_PASSWORD", "from-env"}, {"REDISCLI_AUTH", "from-cli-env"}});

  CHECK(parse({"bootstrap", "--password-file", file.path()}, both).credentials.password == "from-file");
  CHECK(parse({"bootstrap"}, with(both, {{"REDIS_PASSWORD_FILE", file.path()}})).credentials.password == "from-file");
  CHECK(parse({"bootstrap"}, both).credentials.password == "from-env");
  CHECK(parse({"bootstrap"}, with(pod_env(), {{"REDISCLI_AUTH", "from-cli-env"}})).credentials.password ==
        "from-cli-env");
  CHECK(parse({"bootstrap"}, with(both, {{"REDIS_PASSWORD", ""}})).credentials.password == "from-cli-env");
  CHECK(parse({"bootstrap"}).credentials.password.empty());
}

TEST_CASE("password files: line ends stripped, empty or unreadable files refused", "[options]") {
  SECTION("a trailing newline is not part of the password") {
    TempFile file("s3cret\n");
    CHECK(parse({"bootstrap", "--password-file", file.path()}).credentials.password == "s3cret");
  }
  SECTION("nor a trailing \\r\\n") {
    TempFile file("s3cret\r\n");
    CHECK(parse({"bootstrap", "--password-file", file.path()}).credentials.password == "s3cret");
  }
  SECTION("without a newline the whole file is the password, spaces included") {
    TempFile file(" pass word ");
    CHECK(parse({"bootstrap", "--password-file", file.path()}).credentials.password == " pass word ");
  }
  SECTION("with a user") {
    TempFile file("s3cret");
    Options o = parse({"bootstrap", "--password-file", file.path(), "--user", "cluster-admin"});
    CHECK(o.credentials.user == "cluster-admin");
    CHECK(o.credentials.password == "s3cret");
  }
  SECTION("an empty file") {
    TempFile file("");
    CHECK_THAT(config_error({"bootstrap", "--password-file", file.path()}),
               Catch::Contains("--password-file") && Catch::Contains("empty"));
  }
  SECTION("a file holding only a newline") {
    TempFile file("\n");
    CHECK_THAT(config_error({"bootstrap"}, with(pod_env(), {{"REDIS_PASSWORD_FILE", file.path()}})),
               Catch::Contains("REDIS_PASSWORD_FILE") && Catch::Contains("empty"));
  }
  SECTION("a missing file") {
    CHECK_THAT(config_error({"bootstrap", "--password-file", "/nonexistent/rci-test/password"}),
               Catch::Contains("--password-file") && Catch::Contains("cannot be read"));
  }
  SECTION("a directory") {
    CHECK_THAT(config_error({"bootstrap", "--password-file", std::filesystem::temp_directory_path().string()}),
               Catch::Contains("--password-file") && Catch::Contains("not a regular file"));
  }
  SECTION("a device, which would be read forever") {
    CHECK_THAT(config_error({"bootstrap", "--password-file", "/dev/zero"}),
               Catch::Contains("--password-file") && Catch::Contains("not a regular file"));
  }
  SECTION("a file far larger than a password") {
    TempFile file(std::string(100 * 1024, 'x'));
    CHECK_THAT(config_error({"bootstrap", "--password-file", file.path()}), Catch::Contains("larger than"));
  }
  SECTION("a NUL byte, which redis.conf cannot hold: refused without showing the password") {
    TempFile file(std::string("top-secret\0tail\n", 16));
    std::string message = config_error({"bootstrap", "--password-file", file.path()});
    CHECK_THAT(message, Catch::Contains("NUL"));
    CHECK_THAT(message, !Catch::Contains("top-secret") && !Catch::Contains("tail"));
  }
}

TEST_CASE("the password never appears in a ConfigError", "[options]") {
  const std::string secret = "Tr0ub4dor-s3cret";
  TempFile file(secret + "\n");
  const std::vector<Args> bad_args = {
      {"bootstrap", "--shards", "2"},
      {"bootstrap", "--replicas=-1"},
      {"bootstrap", "--pod-name", "redis-shardX-0"},
      {"bootstrap", "--port", "0"},
      {"bootstrap", "--timeout", "0"},
      {"bootstrap", "--log-format", "xml"},
      {"bootstrap", "--dns-server", "[::1"},
      {"bootstrap", "--service", "BAD"},
      {"bootstrap", "--unknown-flag", "x"},
      {"bootstrap", "--requirepass", secret},
      {"bootstrap", "--requirepass=" + secret},
      {"plan", secret},
  };
  const std::vector<Env> secret_sources = {
      with(pod_env(), {{"REDIS_PASSWORD", secret}}),
      with(pod_env(), {{"REDISCLI_AUTH", secret}}),
      with(pod_env(), {{"REDIS_PASSWORD_FILE", file.path()}}),
  };
  for (const auto& env : secret_sources) {
    for (const auto& args : bad_args) {
      std::string message = config_error(args, env);
      INFO(message);
      CHECK(message.find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("help and version flags return text without options", "[options]") {
  for (const Args& args : {Args{"--help"}, Args{"-h"}, Args{"bootstrap", "--help"}, Args{"status", "-h"}}) {
    INFO(args.front());
    auto result = parse_command_line(args, lookup({}));
    CHECK_FALSE(result.options.has_value());
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.output, Catch::Contains("Usage:") && Catch::Contains("--help"));
  }
  auto help = parse_command_line({"bootstrap", "--help"}, lookup({}));
  CHECK_THAT(help.output, Catch::Contains("--pod-name") && Catch::Contains("POD_NAME"));
  auto version = parse_command_line({"--version"}, lookup({}));
  CHECK_FALSE(version.options.has_value());
  CHECK_FALSE(version.output.empty());
}

TEST_CASE("run: the server command after -- and the run-only options", "[options]") {
  Options o = parse({"run", "--on-bootstrap-failure", "exit", "--reconcile-interval", "10", "--", "redis-server",
                     "/etc/redis/redis.conf", "--appendonly", "yes"});
  CHECK(o.subcommand == Subcommand::run);
  CHECK(o.server_command == Args{"redis-server", "/etc/redis/redis.conf", "--appendonly", "yes"});
  CHECK(o.on_bootstrap_failure == OnBootstrapFailure::exit);
  CHECK(o.reconcile_interval == std::chrono::seconds(10));
  CHECK(parse({"run", "--", "redis-server"}).on_bootstrap_failure == OnBootstrapFailure::keep_running);
  CHECK_THAT(config_error({"run", "--on-bootstrap-failure", "maybe", "--", "redis-server"}),
             Catch::Contains("--on-bootstrap-failure"));
  CHECK_THAT(config_error({"run", "--", "redis-server"}, with(pod_env(), {{"RECONCILE_INTERVAL", "0"}})),
             Catch::Contains("RECONCILE_INTERVAL"));
  CHECK_THAT(config_error({"run"}), Catch::Contains("command"));
}

TEST_CASE("run: the handover is on by default, for at most 20 s", "[options]") {
  Options defaults = parse({"run", "--", "redis-server"});
  CHECK(defaults.handover);
  CHECK(defaults.handover_timeout == std::chrono::seconds(20));
  Options off = parse({"run", "--handover", "off", "--handover-timeout", "45", "--", "redis-server"});
  CHECK_FALSE(off.handover);
  CHECK(off.handover_timeout == std::chrono::seconds(45));
  CHECK_FALSE(parse({"run", "--", "redis-server"}, with(pod_env(), {{"HANDOVER", "off"}})).handover);
  CHECK_THAT(config_error({"run", "--handover", "maybe", "--", "redis-server"}),
             Catch::Contains("--handover") && Catch::Contains("expected on or off"));
  CHECK_THAT(config_error({"run", "--", "redis-server"}, with(pod_env(), {{"HANDOVER_TIMEOUT", "0"}})),
             Catch::Contains("HANDOVER_TIMEOUT") && Catch::Contains("seconds from 1 to 3600"));
  CHECK_THAT(config_error({"bootstrap", "--handover", "on"}), Catch::Contains("--handover"));
}

TEST_CASE("tls: files only with --tls yes, a CA required, and each file checked before any traffic", "[options]") {
  CHECK_THAT(config_error({"bootstrap", "--tls-cert-file", "/tls/tls.crt"}),
             Catch::Contains("--tls-cert-file") && Catch::Contains("without --tls yes"));
  CHECK_THAT(config_error({"bootstrap", "--tls", "yes"}), Catch::Contains("--tls-ca-cert-file or --tls-ca-cert-dir"));
  CHECK_THAT(config_error({"bootstrap", "--tls", "maybe"}), Catch::Contains("--tls") && Catch::Contains("yes or no"));
  CHECK_THAT(config_error({"bootstrap", "--tls", "yes", "--tls-verify", "none"}),
             Catch::Contains("--tls-verify") && Catch::Contains("full or ca"));
  CHECK_THAT(config_error({"bootstrap", "--tls", "yes", "--tls-ca-cert-file", "/nonexistent/ca.crt"}),
             Catch::Contains("--tls-ca-cert-file: /nonexistent/ca.crt: cannot read"));
  CHECK_THAT(config_error({"run", "--tls", "yes", "--tls-ca-cert-file", "/nonexistent/ca.crt", "--", "redis-server"}),
             Catch::Contains("--tls-cert-file and --tls-key-file"));
  CHECK_THAT(config_error({"run", "--tls", "yes", "--tls-reload-interval", "0", "--", "redis-server"}),
             Catch::Contains("--tls-reload-interval") && Catch::Contains("seconds from 1"));
  CHECK_FALSE(parse({"bootstrap"}).tls);
  CHECK(parse({"run", "--", "redis-server"}).tls_reload_interval == std::chrono::seconds(30));
}

TEST_CASE("plaintext-port: run with --tls yes only, on a port of its own", "[options]") {
  CHECK(parse({"run", "--", "redis-server"}).plaintext_port == 0);
  CHECK_THAT(config_error({"run", "--plaintext-port", "6380", "--", "redis-server"}),
             Catch::Contains("--plaintext-port") && Catch::Contains("without --tls yes"));
  CHECK_THAT(config_error({"run", "--", "redis-server"}, with(pod_env(), {{"PLAINTEXT_PORT", "6380"}})),
             Catch::Contains("PLAINTEXT_PORT") && Catch::Contains("without --tls yes"));
  for (const char* taken : {"6379", "16379"}) {
    CHECK_THAT(config_error({"run", "--tls", "yes", "--plaintext-port", taken, "--", "redis-server"}),
               Catch::Contains("--plaintext-port") && Catch::Contains("a port of its own"));
  }
  CHECK_THAT(config_error({"run", "--tls", "yes", "--plaintext-port", "70000", "--", "redis-server"}),
             Catch::Contains("--plaintext-port") && Catch::Contains("a port from 1 to 65535"));
  CHECK_THAT(config_error({"bootstrap", "--tls", "yes", "--plaintext-port", "6380"}),
             Catch::Contains("--plaintext-port"));
}

TEST_CASE("announce-hostname and preferred-endpoint: fqdn and ip by default", "[options]") {
  Options defaults = parse({"bootstrap"});
  CHECK(defaults.announced_name == AnnouncedName::fqdn);
  CHECK(defaults.preferred_endpoint == PreferredEndpoint::ip);
  Options asked = parse({"bootstrap", "--announce-hostname", "pod", "--preferred-endpoint", "hostname"});
  CHECK(asked.announced_name == AnnouncedName::pod);
  CHECK(asked.preferred_endpoint == PreferredEndpoint::hostname);
  CHECK_THAT(config_error({"bootstrap", "--preferred-endpoint", "dns"}),
             Catch::Contains("--preferred-endpoint") && Catch::Contains("ip or hostname"));
  CHECK_THAT(config_error({"bootstrap"}, with(pod_env(), {{"ANNOUNCE_HOSTNAME", "ip"}})),
             Catch::Contains("ANNOUNCE_HOSTNAME") && Catch::Contains("fqdn or pod"));
}

TEST_CASE("probe: needs no cluster layout, defaults to 127.0.0.1 and 5 s", "[options]") {
  Options o = parse({"probe", "liveness"}, Env{});
  CHECK(o.subcommand == Subcommand::probe);
  CHECK(o.probe_kind == ProbeKind::liveness);
  CHECK(o.pod_ip == "127.0.0.1");
  CHECK(o.timeout == std::chrono::seconds(5));
  Options from_env = parse({"probe", "readiness"}, Env{{"POD_IP", "10.0.0.9"}, {"REDIS_PASSWORD", "pw"}});
  CHECK(from_env.probe_kind == ProbeKind::readiness);
  CHECK(from_env.pod_ip == "10.0.0.9");
  CHECK(from_env.credentials.password == "pw");
  CHECK_THAT(config_error({"probe", "startup"}, Env{}), Catch::Contains("startup"));
  CHECK_THAT(config_error({"probe"}, Env{}), Catch::Contains("probe") && Catch::Contains("readiness or liveness"));
  CHECK_THAT(config_error({"probe", "readiness", "--shards", "3"}, Env{}), Catch::Contains("--shards"));
}

TEST_CASE("install: a directory, /scripts by default, nothing else needed", "[options]") {
  CHECK(parse({"install"}, Env{}).install_dir == "/scripts");
  CHECK(parse({"install", "/tmp/x"}, Env{}).install_dir == "/tmp/x");
  CHECK(parse({"install"}, Env{}).subcommand == Subcommand::install);
}

TEST_CASE("probe: its deadline is --timeout only, never run's BOOTSTRAP_TIMEOUT", "[options]") {
  CHECK(parse({"probe", "readiness"}, Env{{"BOOTSTRAP_TIMEOUT", "300"}}).timeout == std::chrono::seconds(5));
  CHECK(parse({"probe", "readiness", "--timeout", "2"}, Env{}).timeout == std::chrono::seconds(2));
  CHECK(parse({"bootstrap"}, with(pod_env(), {{"BOOTSTRAP_TIMEOUT", "30"}})).timeout == std::chrono::seconds(30));
}

TEST_CASE("probe liveness needs no password: a missing Secret must not fail it", "[options]") {
  Options o = parse({"probe", "liveness"}, Env{{"REDIS_PASSWORD_FILE", "/nonexistent/rci-test/password"}});
  CHECK(o.credentials.password.empty());
  CHECK_THAT(config_error({"probe", "readiness"}, Env{{"REDIS_PASSWORD_FILE", "/nonexistent/rci-test/password"}}),
             Catch::Contains("REDIS_PASSWORD_FILE"));
}

TEST_CASE("the termination-log option: default /dev/termination-log, a path, or none", "[options]") {
  Options defaults = parse({"bootstrap"});
  CHECK(defaults.termination_log == "/dev/termination-log");
  CHECK_FALSE(defaults.termination_log_given);
  Options given = parse({"bootstrap", "--termination-log", "/tmp/why"});
  CHECK(given.termination_log == "/tmp/why");
  CHECK(given.termination_log_given);
  CHECK(parse({"bootstrap"}, with(pod_env(), {{"TERMINATION_LOG", "none"}})).termination_log.empty());
  CHECK_THAT(config_error({"bootstrap", "--termination-log", ""}),
             Catch::Contains("--termination-log") && Catch::Contains("'none'"));
}
