// config/pod_name: shard membership comes from an exact parse of the pod name, never from
// substrings (the shell scripts matched "shard1" inside "shard10").
#include <catch2/catch.hpp>

#include <string>

#include "rci/config/pod_name.hpp"

using rci::parse_pod_name;
using rci::PodName;

TEST_CASE("pod names parse exactly into prefix, shard and ordinal", "[pod_name]") {
  struct Row {
    const char* name;
    PodName expected;
  };
  const Row rows[] = {
      {"redis-shard1-0", {"redis", 1, 0}},
      {"redis-shard10-0", {"redis", 10, 0}},  // not shard 1
      {"redis-shard0-10", {"redis", 0, 10}},  // ordinals >= 10 work
      {"redis-shard123-45", {"redis", 123, 45}},
      {"a-statefulset-name-as-long-as-a-dns-label-allows-it-ab-shard1-0",
       {"a-statefulset-name-as-long-as-a-dns-label-allows-it-ab", 1, 0}},
      {"my-shard-db-shard2-1", {"my-shard-db", 2, 1}},  // "-shard" inside the prefix
      {"db-shard3-shard4-2", {"db-shard3", 4, 2}},
      {"a-shard0-0", {"a", 0, 0}},
      {"redis-7-shard7-3", {"redis-7", 7, 3}},
  };
  for (const auto& row : rows) {
    INFO("pod name: " << row.name);
    auto parsed = parse_pod_name(row.name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == row.expected);
  }
}

TEST_CASE("malformed pod names are refused saying what was expected", "[pod_name]") {
  struct Row {
    const char* name;
    const char* says;  // part of the message naming the problem
  };
  const Row rows[] = {
      {"", "empty"},
      {"redis", "no '-<ordinal>' suffix"},
      {"redis-0", "no '-shard<S>' part"},
      {"shard1-0", "no '-shard<S>' part"},
      {"redis-shard1", "ordinal"},
      {"redis-shard1-", "ordinal"},
      {"redis-shard1-x", "ordinal"},
      {"redis-shard1--1", "not 'shard<S>'"},
      {"redis-shard1-01", "ordinal after the last '-' has a leading zero"},
      {"redis-shard1-00", "ordinal after the last '-' has a leading zero"},
      {"redis-shard1-+1", "lowercase letters, digits and '-'"},
      {"redis-shard1-1234567", "ordinal after the last '-' is too large"},
      {"redis-shard-0", "shard number"},
      {"redis-shard01-0", "shard number after 'shard' has a leading zero"},
      {"redis-shardx-0", "shard number"},
      {"redis-shard1a-0", "shard number"},
      {"redis-SHARD1-0", "lowercase letters, digits and '-'"},
      {"Redis-shard1-0", "lowercase letters, digits and '-'"},
      {"my_redis-shard1-0", "lowercase letters, digits and '-'"},    // Redis refuses it as a hostname
      {"redis.prod-shard1-0", "lowercase letters, digits and '-'"},  // peers' DNS names would break
      {"a b-shard1-0", "lowercase letters, digits and '-'"},
      {"a-very-long-statefulset-name-that-does-not-fit-in-a-label-shard1-0", "longer than 63 characters"},
      {"--shard1-0", "the prefix starts with '-'"},
      {"redis-primary1-0", "not 'shard<S>'"},
      {"redis-xshard1-0", "not 'shard<S>'"},
      {"-shard1-0", "empty prefix"},
  };
  for (const auto& row : rows) {
    INFO("pod name: '" << row.name << "'");
    auto parsed = parse_pod_name(row.name);
    REQUIRE_FALSE(parsed.has_value());
    const std::string& message = parsed.error();
    CHECK_THAT(message, Catch::Contains(row.says));
    CHECK_THAT(message, Catch::Contains(std::string("'") + row.name + "'"));
    CHECK_THAT(message, Catch::Contains("expected <prefix>-shard<S>-<ordinal>"));
  }
}

TEST_CASE("format_pod_name is the inverse of parse_pod_name", "[pod_name]") {
  CHECK(rci::format_pod_name("redis", 1, 0) == "redis-shard1-0");
  CHECK(rci::format_pod_name("my-shard-db", 12, 3) == "my-shard-db-shard12-3");
  for (int shard : {0, 1, 9, 10, 11, 99, 100}) {
    for (int ordinal : {0, 1, 10}) {
      auto parsed = parse_pod_name(rci::format_pod_name("db-shard9", shard, ordinal));
      REQUIRE(parsed.has_value());
      CHECK(*parsed == PodName{"db-shard9", shard, ordinal});
    }
  }
}
