// config/redis_conf: reading redis-server's configuration far enough to find nodes.conf.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "rci/config/redis_conf.hpp"

using namespace rci;
namespace fs = std::filesystem;

namespace {

using Words = std::vector<std::string>;

Words split(std::string_view line) {
  auto words = redis_conf::split_arguments(line);
  REQUIRE(words.has_value());
  return *words;
}

// A scratch directory holding configuration files, removed at the end of the test.
struct ConfigDir {
  fs::path root;
  ConfigDir() {
    std::string pattern = (fs::temp_directory_path() / "rci-redis-conf.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root = pattern;
  }
  ~ConfigDir() { fs::remove_all(root); }
  std::string write(const std::string& name, const std::string& text) const {
    fs::create_directories((root / name).parent_path());
    std::ofstream(root / name) << text;
    return (root / name).string();
  }
};

}  // namespace

TEST_CASE("split_arguments splits words as redis-server does", "[redis_conf]") {
  CHECK(split("dir /data") == Words{"dir", "/data"});
  CHECK(split("  save 900 1\t") == Words{"save", "900", "1"});
  CHECK(split(R"(dir "/my data")") == Words{"dir", "/my data"});
  CHECK(split(R"(requirepass "a\"b\\c\x41\n")") == Words{"requirepass", "a\"b\\cA\n"});
  CHECK(split(R"(save '')") == Words{"save", ""});
  CHECK(split(R"(x 'it\'s')") == Words{"x", "it's"});
  CHECK(split(R"(x ab"cd")") == Words{"x", "abcd"});
  CHECK(split("").empty());
  // Any whitespace separates words, but only space, tab, CR and LF end a bare one.
  CHECK(split("\vdir\f/data") == Words{"dir\f/data"});
  CHECK(split("x \"a\"\v") == Words{"x", "a"});
}

TEST_CASE("split_arguments rejects unbalanced quotes and a quote glued to the next word", "[redis_conf]") {
  CHECK_FALSE(redis_conf::split_arguments(R"(dir "/data)").has_value());
  CHECK_FALSE(redis_conf::split_arguments("dir '/data").has_value());
  CHECK_FALSE(redis_conf::split_arguments(R"(dir "/da"ta)").has_value());
}

TEST_CASE("parse skips comments and blank lines, lower-cases names and says where an error is", "[redis_conf]") {
  auto directives = redis_conf::parse("# comment\n\nDIR /data\r\n  cluster-config-file n.conf\n", "r.conf");
  REQUIRE(directives.has_value());
  REQUIRE(directives->size() == 2);
  CHECK((*directives)[0].name == "dir");
  CHECK((*directives)[0].args == Words{"/data"});
  CHECK((*directives)[1].origin == "r.conf:4");
  auto broken = redis_conf::parse("port 6379\ndir \"/data\n", "r.conf");
  REQUIRE_FALSE(broken.has_value());
  CHECK_THAT(broken.error().message, Catch::StartsWith("r.conf:2: ") && Catch::Contains("quote"));
}

std::vector<redis_conf::Directive> arguments(const std::vector<std::string>& args) {
  auto directives = redis_conf::from_arguments(args);
  REQUIRE(directives.has_value());
  return *directives;
}

TEST_CASE("from_arguments starts a directive at every --name", "[redis_conf]") {
  auto directives = arguments({"--dir", "/data", "--save", "900", "1", "--appendonly", "yes"});
  REQUIRE(directives.size() == 3);
  CHECK(directives[0].name == "dir");
  CHECK(directives[1].args == Words{"900", "1"});
  CHECK(directives[2].origin == "command line");
}

TEST_CASE("from_arguments reads options as Redis 7 does", "[redis_conf]") {
  // One argument holding name and value is split like a config line.
  auto joined = arguments({"--dir /data", "--cluster-config-file", "my nodes.conf"});
  REQUIRE(joined.size() == 2);
  CHECK(joined[0].name == "dir");
  CHECK(joined[0].args == Words{"/data"});
  CHECK(joined[1].args == Words{"my nodes.conf"});  // a value is kept whole
  // An option without a value yet takes the next word, even one starting with --.
  auto dashed = arguments({"--requirepass", "--secret--", "--dir", "/d"});
  REQUIRE(dashed.size() == 2);
  CHECK(dashed[0].args == Words{"--secret--"});
  CHECK(dashed[1].name == "dir");
  // `--save` alone means save "".
  auto save = arguments({"--save", "--dir", "/d"});
  REQUIRE(save.size() == 2);
  CHECK(save[0].args == Words{""});
  CHECK(save[1].args == Words{"/d"});
  CHECK_FALSE(redis_conf::from_arguments({"--dir \"/data"}).has_value());
  // A newline in the option word starts a line of its own, as Redis pastes it into its config.
  auto two_lines = arguments({"--cluster-config-file n.conf\ndir /d2", "--appendonly", "yes"});
  REQUIRE(two_lines.size() == 3);
  CHECK(two_lines[0].name == "cluster-config-file");
  CHECK(two_lines[0].args == Words{"n.conf"});
  CHECK(two_lines[1].name == "dir");
  CHECK(two_lines[1].args == Words{"/d2"});
  CHECK(two_lines[2].args == Words{"yes"});
  // Whether the option has its value is judged on the whole argument, newline and all: here it
  // has, so the next --word is an option of its own.
  auto judged_whole = arguments({"--dir /a\nappendonly", "--port", "7000"});
  REQUIRE(judged_whole.size() == 3);
  CHECK(judged_whole[1].name == "appendonly");
  CHECK(judged_whole[2].name == "port");
}

TEST_CASE("locate_nodes_conf: defaults, the config file, then the command line", "[redis_conf]") {
  ConfigDir dir;
  CHECK(redis_conf::locate_nodes_conf({"redis-server"}, "/work") == "/work/nodes.conf");
  CHECK(redis_conf::locate_nodes_conf({"/usr/bin/redis-server", "--port", "7000"}, "/work") == "/work/nodes.conf");
  const std::string conf = dir.write("redis.conf", "dir /data\ncluster-config-file nodes-6379.conf\n");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", conf}, "/work") == "/data/nodes-6379.conf");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", conf, "--dir", "/other"}, "/work") == "/other/nodes-6379.conf");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", conf, "--cluster-config-file", "/abs/n.conf"}, "/work") ==
        "/abs/n.conf");
  // A relative dir moves from where redis-server starts (or from the previous dir).
  const std::string relative = dir.write("rel.conf", "dir data\ndir ../state\n");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", relative}, "/work") == "/work/state/nodes.conf");
}

TEST_CASE("locate_nodes_conf: valkey-server, and a server after a wrapper that passes its arguments on",
          "[redis_conf]") {
  ConfigDir dir;
  const std::string conf = dir.write("valkey.conf", "dir /data\ncluster-config-file nodes-6379.conf\n");
  CHECK(redis_conf::locate_nodes_conf({"/opt/valkey/bin/valkey-server", conf}, "/work") == "/data/nodes-6379.conf");
  CHECK(redis_conf::locate_nodes_conf({"tini", "--", "redis-server", conf, "--dir", "/x"}, "/work") ==
        "/x/nodes-6379.conf");
  CHECK(redis_conf::locate_nodes_conf({"/usr/local/bin/docker-entrypoint.sh", "valkey-server", "--port", "7000"},
                                      "/work") == "/work/nodes.conf");
  auto from_stdin = redis_conf::locate_nodes_conf({"valkey-server", "-"}, "/work");
  REQUIRE_FALSE(from_stdin.has_value());
  CHECK_THAT(from_stdin.error().message, Catch::Contains("valkey-server reads its configuration from stdin"));
}

TEST_CASE("locate_nodes_conf follows includes, relative to the dir in effect, and glob patterns", "[redis_conf]") {
  ConfigDir dir;
  dir.write("conf.d/10-dir.conf", "dir /data\n");
  dir.write("conf.d/20-file.conf", "cluster-config-file cluster.conf\n");
  const std::string main = dir.write("redis.conf", "dir " + dir.root.string() + "\ninclude conf.d/*.conf\n");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", main}, "/work") == "/data/cluster.conf");
  // The command line is applied after every file, whatever the files include.
  CHECK(redis_conf::locate_nodes_conf({"redis-server", main, "--dir", "/x"}, "/work") == "/x/cluster.conf");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", main, "--dir /x"}, "/work") == "/x/cluster.conf");
  // An include on the command line, and a pattern that matches nothing (skipped, as Redis does).
  const std::string extra = dir.write("extra.conf", "cluster-config-file extra-nodes.conf\n");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", "--include", extra, "--dir", "/y"}, "/work") ==
        "/y/extra-nodes.conf");
  const std::string none = dir.write("none.conf", "include " + dir.root.string() + "/absent/*.conf\n");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", none}, "/work") == "/work/nodes.conf");
}

TEST_CASE("locate_nodes_conf reads the files of one pattern as one text, as Redis 7 does", "[redis_conf]") {
  // A ConfigMap written with `|-` has no final newline: its last line runs into the next file's
  // first, here turning it into part of a comment.
  ConfigDir dir;
  dir.write("conf.d/00.conf", "cluster-config-file first.conf\n# end");
  dir.write("conf.d/10.conf", "cluster-config-file second.conf\n");
  const std::string main = dir.write("redis.conf", "include " + dir.root.string() + "/conf.d/*.conf\n");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", main}, "/work") == "/work/first.conf");
}

TEST_CASE("locate_nodes_conf follows dir through symbolic links, as chdir does", "[redis_conf]") {
  ConfigDir dir;
  fs::create_directories(dir.root / "real" / "sub");
  fs::create_symlink(dir.root / "real" / "sub", dir.root / "link");
  const std::string conf = dir.write("redis.conf", "dir " + (dir.root / "link" / "..").string() + "\n");
  CHECK(redis_conf::locate_nodes_conf({"redis-server", conf}, "/work") == (dir.root / "real" / "nodes.conf").string());
}

TEST_CASE("locate_nodes_conf says why it cannot tell", "[redis_conf]") {
  ConfigDir dir;
  auto missing = redis_conf::locate_nodes_conf({"redis-server", "/nonexistent/redis.conf"}, "/work");
  REQUIRE_FALSE(missing.has_value());
  CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/redis.conf") && Catch::Contains("cannot read") &&
                                          Catch::Contains("No such file"));
  auto wrapper = redis_conf::locate_nodes_conf({"sh", "-c", "exec redis-server"}, "/work");
  REQUIRE_FALSE(wrapper.has_value());
  CHECK_THAT(wrapper.error().message, Catch::Contains("sh -c exec redis-server") &&
                                          Catch::Contains("names neither redis-server nor valkey-server"));
  CHECK_FALSE(redis_conf::locate_nodes_conf({"redis-server", "-"}, "/work").has_value());
  CHECK_FALSE(redis_conf::locate_nodes_conf({"redis-server", "--port", "7000", "-"}, "/work").has_value());
  const std::string broken_include = dir.write("inc.conf", "include /nonexistent/extra.conf\n");
  auto include = redis_conf::locate_nodes_conf({"redis-server", broken_include}, "/work");
  REQUIRE_FALSE(include.has_value());
  CHECK_THAT(include.error().message, Catch::Contains("inc.conf:1") && Catch::Contains("/nonexistent/extra.conf"));
  const std::string loop = dir.write("loop.conf", "include " + dir.root.string() + "/loop.conf\n");
  auto nested = redis_conf::locate_nodes_conf({"redis-server", loop}, "/work");
  REQUIRE_FALSE(nested.has_value());
  CHECK_THAT(nested.error().message, Catch::Contains("deeper"));
}
