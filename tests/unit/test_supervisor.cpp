// app/supervisor: the pure parts of `run`: the child's argv and the credentials include file.
#include <catch2/catch.hpp>

#include <algorithm>

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
