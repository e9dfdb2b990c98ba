// app/supervisor: the pure parts of `run`: the child's argv and the credentials include file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>

#include "rci/app/server_version.hpp"
#include "rci/app/supervisor.hpp"

using namespace rci;

namespace {

Options run_options() {
  Options o;
  o.subcommand = Subcommand::run;
  o.pod_ip = "10.0.0.7";
  o.port = 6379;
  o.bus_port = 16379;
  o.server_command = {"redis-server", "/etc/redis/redis.conf"};
  return o;
}

bool contains_pair(const std::vector<std::string>& argv, const std::string& name, const std::string& value) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == name && argv[i + 1] == value) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("redis_server_argv keeps the user's command first and adds the cluster settings after it", "[supervisor]") {
  auto argv = redis_server_argv(run_options(), "");
  REQUIRE(argv.size() >= 2);
  CHECK(argv[0] == "redis-server");
  CHECK(argv[1] == "/etc/redis/redis.conf");
  CHECK(contains_pair(argv, "--cluster-enabled", "yes"));
  CHECK(contains_pair(argv, "--port", "6379"));
  CHECK(contains_pair(argv, "--cluster-announce-ip", "10.0.0.7"));
  CHECK(std::find(argv.begin(), argv.end(), "--cluster-port") == argv.end());  // default bus port
  CHECK(std::find(argv.begin(), argv.end(), "--include") == argv.end());       // no password
}

TEST_CASE("redis_server_argv with TLS: TLS only, for clients, the cluster bus and replication", "[supervisor]") {
  Options o = run_options();
  o.tls = true;
  o.tls_files.cert_file = "/tls/tls.crt";
  o.tls_files.key_file = "/tls/tls.key";
  o.tls_files.ca_cert_file = "/tls/ca.crt";
  auto argv = redis_server_argv(o, "");
  CHECK(contains_pair(argv, "--port", "0"));
  CHECK(contains_pair(argv, "--tls-port", "6379"));
  CHECK(contains_pair(argv, "--tls-cluster", "yes"));
  CHECK(contains_pair(argv, "--tls-replication", "yes"));
  CHECK(contains_pair(argv, "--tls-cert-file", "/tls/tls.crt"));
  CHECK(contains_pair(argv, "--tls-key-file", "/tls/tls.key"));
  CHECK(contains_pair(argv, "--tls-ca-cert-file", "/tls/ca.crt"));
  CHECK(std::find(argv.begin(), argv.end(), "--tls-ca-cert-dir") == argv.end());
  CHECK_FALSE(contains_pair(argv, "--port", "6379"));

  // A plaintext port the user keeps for clients: served besides TLS, never the TLS port.
  o.plaintext_port = 6380;
  auto kept = redis_server_argv(o, "");
  CHECK(contains_pair(kept, "--port", "6380"));
  CHECK(contains_pair(kept, "--tls-port", "6379"));
  CHECK(contains_pair(kept, "--tls-cluster", "yes"));
  CHECK_FALSE(contains_pair(kept, "--port", "0"));
}

TEST_CASE("redis_server_argv sets a non-default bus port and includes the credentials file", "[supervisor]") {
  Options o = run_options();
  o.bus_port = 17000;
  o.credentials.password = "s3cret";
  auto argv = redis_server_argv(o, "/tmp/redis-cluster-init.abc/auth.conf");
  CHECK(contains_pair(argv, "--cluster-port", "17000"));
  CHECK(contains_pair(argv, "--include", "/tmp/redis-cluster-init.abc/auth.conf"));
  for (const auto& arg : argv) CHECK(arg.find("s3cret") == std::string::npos);
}

TEST_CASE("auth_include_text quotes the password for redis.conf", "[supervisor]") {
  std::string text = auth_include_text(Credentials{"", R"(a"b\c)"});
  CHECK_THAT(text, Catch::Contains(R"(requirepass "a\"b\\c")"));
  CHECK_THAT(text, Catch::Contains(R"(masterauth "a\"b\\c")"));
  CHECK_THAT(text, !Catch::Contains("masteruser"));
  CHECK_THAT(auth_include_text(Credentials{"replicator", "pw"}), Catch::Contains(R"(masteruser "replicator")"));
}

TEST_CASE("redis_server_argv announces the pod name only where the server has the option", "[supervisor]") {
  Options o = run_options();
  o.pod_name = "redis-shard1-0";
  o.service = "redis-pods";
  o.namespace_name = "prod";
  CHECK(contains_pair(redis_server_argv(o, "", HostnameSetting::on_command_line), "--cluster-announce-hostname",
                      "redis-shard1-0.redis-pods.prod.svc.cluster.local"));
  auto older = redis_server_argv(o, "", HostnameSetting::left_to_bootstrap);
  CHECK(std::find(older.begin(), older.end(), "--cluster-announce-hostname") == older.end());
  CHECK(std::find(older.begin(), older.end(), "--cluster-preferred-endpoint-type") == older.end());
}

TEST_CASE("redis_server_argv: the bare pod name, and host-name endpoints, where asked", "[supervisor]") {
  Options o = run_options();
  o.pod_name = "redis-shard1-0";
  o.service = "redis-pods";
  o.namespace_name = "prod";
  o.announced_name = AnnouncedName::pod;
  o.preferred_endpoint = PreferredEndpoint::hostname;
  auto argv = redis_server_argv(o, "", HostnameSetting::on_command_line);
  CHECK(contains_pair(argv, "--cluster-announce-hostname", "redis-shard1-0"));
  CHECK(contains_pair(argv, "--cluster-preferred-endpoint-type", "hostname"));
  o.preferred_endpoint = PreferredEndpoint::ip;
  auto by_ip = redis_server_argv(o, "", HostnameSetting::on_command_line);
  CHECK(std::find(by_ip.begin(), by_ip.end(), "--cluster-preferred-endpoint-type") == by_ip.end());
}

TEST_CASE("parse_server_version reads redis-server's and valkey-server's --version", "[supervisor]") {
  CHECK(parse_server_version("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c9\n") ==
        ServerVersion{7, 0});
  CHECK(parse_server_version("Redis server v=6.2.16 sha=00000000:0 malloc=libc bits=64 build=1\n") ==
        ServerVersion{6, 2});
  CHECK(parse_server_version("Valkey server v=8.0.1 sha=00000000:0 malloc=libc bits=64 build=2\n") ==
        ServerVersion{8, 0});
  CHECK_FALSE(parse_server_version("usage: wrapper.sh [args]").has_value());
  CHECK_FALSE(parse_server_version("Redis server v=seven").has_value());
  CHECK_FALSE(parse_server_version("").has_value());
}

TEST_CASE("hostname_setting_for asks only a server binary, and only one that says its version", "[supervisor]") {
  // A wrapper is never run with --version (it might start something).
  CHECK(hostname_setting_for({"/usr/local/bin/docker-entrypoint.sh", "redis-server"}) ==
        HostnameSetting::left_to_bootstrap);
  CHECK(hostname_setting_for({"/nonexistent/redis-server"}) == HostnameSetting::left_to_bootstrap);
  if (std::system("command -v redis-server >/dev/null 2>&1") == 0) {
    auto version = ask_server_version("redis-server", Millis(2000));
    REQUIRE(version.has_value());
    CHECK(hostname_setting_for({"redis-server", "/etc/redis/redis.conf"}) ==
          (version->major >= 7 ? HostnameSetting::on_command_line : HostnameSetting::server_too_old));
  }
}
