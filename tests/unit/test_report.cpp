// app/report: what `plan`, `status` and `discover` print, for people and for scripts.
#include <catch2/catch.hpp>

#include <cctype>
#include <string>
#include <string_view>

#include "fixtures.hpp"
#include "rci/app/report.hpp"

using namespace rci;
using namespace rci::test;

namespace {

// A strict little JSON checker (RFC 8259 grammar, no semantics), enough to tell that the
// output would load in `jq` or Python.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  bool valid() {
    skip_ws();
    if (!value()) return false;
    skip_ws();
    return pos_ == s_.size();
  }

 private:
  bool value() {
    if (pos_ >= s_.size()) return false;
    switch (s_[pos_]) {
      case '{': return object();
      case '[': return array();
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }
  bool object() {
    ++pos_;
    skip_ws();
    if (peek('}')) return ++pos_, true;
    while (true) {
      skip_ws();
      if (!peek('"') || !string()) return false;
      skip_ws();
      if (!peek(':')) return false;
      ++pos_;
      skip_ws();
      if (!value()) return false;
      skip_ws();
      if (peek('}')) return ++pos_, true;
      if (!peek(',')) return false;
      ++pos_;
    }
  }
  bool array() {
    ++pos_;
    skip_ws();
    if (peek(']')) return ++pos_, true;
    while (true) {
      skip_ws();
      if (!value()) return false;
      skip_ws();
      if (peek(']')) return ++pos_, true;
      if (!peek(',')) return false;
      ++pos_;
    }
  }
  bool string() {
    ++pos_;
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (pos_ >= s_.size()) return false;
        char e = s_[pos_++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            if (pos_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_++]))) return false;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    size_t start = pos_;
    if (peek('-')) ++pos_;
    size_t digits = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == digits) return false;
    if (s_[digits] == '0' && pos_ - digits > 1) return false;
    return pos_ > start;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void skip_ws() {
    while (pos_ < s_.size() && std::string_view(" \t\r\n").find(s_[pos_]) != std::string_view::npos) ++pos_;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool valid_json(std::string_view text) {
  return JsonChecker(text).valid();
}

}  // namespace

TEST_CASE("the JSON checker itself", "[report]") {
  CHECK(valid_json(R"({"a":[1,-2,"x\"y\\z\u00e9",true,false,null,{}],"b":[]})"));
  CHECK_FALSE(valid_json(R"({"a":1,})"));
  CHECK_FALSE(valid_json(R"({"a" 1})"));
  CHECK_FALSE(valid_json("{\"a\":\"line\nbreak\"}"));
  CHECK_FALSE(valid_json(R"({"a":"\q"})"));
  CHECK_FALSE(valid_json(R"({"a":1}})"));
}

TEST_CASE("plan_text lists each action's command and reason", "[report]") {
  plan::Plan plan = ClusterBuilder().fresh_all().claimed(m1).plan_for(m0);
  std::string text = report::plan_text(plan);
  CHECK_THAT(text, Catch::Contains("situation: " + plan.situation));
  CHECK_THAT(text, Catch::Contains("role: master"));
  CHECK_THAT(text, Catch::Contains("outcome: act"));
  CHECK_THAT(text, Catch::Contains("1. CLUSTER SET-CONFIG-EPOCH 1"));
  CHECK_THAT(text, Catch::Contains("2. CLUSTER ADDSLOTSRANGE 0 5460"));
  CHECK_THAT(text, Catch::Contains("3. CLUSTER MEET 10.0.0.3 6379 16379"));
  for (const auto& action : plan.actions) CHECK_THAT(text, Catch::Contains("because " + action.reason));
}

TEST_CASE("plan_text lists what a waiting plan waits for", "[report]") {
  plan::Plan plan = ClusterBuilder().fresh(m0).plan_for(m0);
  std::string text = report::plan_text(plan);
  CHECK_THAT(text, Catch::Contains("outcome: wait"));
  CHECK_THAT(text, Catch::Contains("waiting for:"));
  for (const auto& line : plan.waiting_for) CHECK_THAT(text, Catch::Contains("  - " + line));
  CHECK_THAT(text, !Catch::Contains("actions:"));
}

TEST_CASE("plan_json is valid JSON with kinds, commands and reasons", "[report]") {
  plan::Plan plan = ClusterBuilder().fresh_all().claimed(m1).plan_for(m0);
  std::string json = report::plan_json(plan);
  CHECK(valid_json(json));
  CHECK_THAT(json, Catch::Contains(R"("outcome":"act")"));
  CHECK_THAT(json, Catch::Contains(R"("role":"master")"));
  CHECK_THAT(json, Catch::Contains(R"({"kind":"set-config-epoch","command":"CLUSTER SET-CONFIG-EPOCH 1","reason":")"));
  CHECK_THAT(json, Catch::Contains(R"({"kind":"claim-slots","command":"CLUSTER ADDSLOTSRANGE 0 5460","reason":")"));
  CHECK_THAT(json, Catch::Contains(R"({"kind":"meet","command":"CLUSTER MEET 10.0.0.3 6379 16379","reason":")"));
  CHECK_THAT(json, Catch::Contains(R"("waiting_for":[])"));
}

TEST_CASE("plan_json escapes quotes, backslashes and newlines in reasons", "[report]") {
  plan::Plan plan;
  plan.situation = "a \"quoted\" situation\\with a backslash";
  plan.waiting_for = {"line one\nline two", "tab\there"};
  plan.actions.push_back({.step = plan::Replicate{"redis-shard0-0", std::string(40, 'a')},
                          .target = plan::ThisNode{},
                          .reason = "because \"x\""});
  CHECK(valid_json(report::plan_json(plan)));
}

TEST_CASE("status_json is valid JSON listing every pod, answering or not", "[report]") {
  ClusterBuilder cluster = healthy_3x1().down(r2).cluster_disabled(r1).keys(m0, 12);
  cluster.unresolved(m2);
  Observation observation = cluster.build();
  std::string json = report::status_json(cluster.topology(), observation);
  INFO(json);
  CHECK(valid_json(json));
  CHECK_THAT(json, Catch::StartsWith(R"({"shards":3,"replicas":1,"pods":[)"));
  for (const auto& pod : cluster.topology().pods) CHECK_THAT(json, Catch::Contains("\"pod\":\"" + pod.name + "\""));
  CHECK_THAT(json,
             Catch::Contains(
                 R"("pod":"redis-shard0-0","shard":0,"ordinal":0,"address":"10.0.0.1","port":6379,"answers":true)"));
  CHECK_THAT(json, Catch::Contains(R"("role":"master","slots":["0-5460"])"));
  CHECK_THAT(json, Catch::Contains(R"("keys":12)"));
  CHECK_THAT(json, Catch::Contains(R"("pod":"redis-shard2-0","shard":2,"ordinal":0,"address":null)"));
  CHECK_THAT(json, Catch::Contains("NXDOMAIN"));
  CHECK_THAT(json, Catch::Contains("connection refused"));
  CHECK_THAT(json, Catch::Contains(R"("cluster_enabled":false)"));
  CHECK_THAT(json, Catch::Contains(R"("master_id":")" + cluster.id(m0) + "\""));
}

TEST_CASE("status_json names the pods that see a node failing", "[report]") {
  // m2 answers again but r0's table still flags it failed.
  ClusterBuilder cluster = healthy_3x1();
  Observation observation = cluster.build();
  std::vector<redis::ClusterNode> lines = observation.pods[1].probe->nodes.lines();
  for (auto& node : lines) {
    if (node.id == cluster.id(m2)) node.fail = true;
  }
  observation.pods[1].probe->nodes = lines;
  std::string json = report::status_json(cluster.topology(), observation);
  CHECK(valid_json(json));
  CHECK_THAT(json, Catch::Contains(R"("failing_for":["redis-shard0-1"])"));
}

TEST_CASE("status_text groups pods by shard with their slots", "[report]") {
  ClusterBuilder cluster = healthy_3x1().down(r2);
  std::string text = report::status_text(cluster.topology(), cluster.build());
  CHECK_THAT(text, Catch::Contains("shard 0 (slots 0-5460 at creation)"));
  CHECK_THAT(text, Catch::Contains("shard 1 (slots 5461-10922 at creation)"));
  CHECK_THAT(text, Catch::Contains("shard 2 (slots 10923-16383 at creation)"));
  for (const auto& pod : cluster.topology().pods) CHECK_THAT(text, Catch::Contains(pod.name));
  CHECK_THAT(text, Catch::Contains("down: redis-shard2-1: 10.0.0.6:6379: connection refused"));
}

TEST_CASE("discover says which discovery answered, and why that one", "[report]") {
  ClusterBuilder cluster = ClusterBuilder().fresh_all();
  Observation observation = cluster.build();
  observation.discovery = {DiscoveryMethod::srv, "", {"redis-shard3-0.redis-pods.default.svc.cluster.local"}};
  std::string text = report::discover_text(cluster.topology(), observation);
  CHECK_THAT(text, Catch::StartsWith("discovery: SRV records of _redis._tcp.redis-pods.default.svc.cluster.local\n"));
  CHECK_THAT(text, Catch::Contains("also listed, no expected pod: redis-shard3-0.redis-pods"));
  observation.discovery = {DiscoveryMethod::names, "SRV _redis._tcp...: NXDOMAIN: the name does not exist", {}};
  CHECK_THAT(report::discover_text(cluster.topology(), observation),
             Catch::Contains("discovery: each pod's own name\n  because SRV _redis._tcp...: NXDOMAIN"));
  CHECK(valid_json(report::discover_json(cluster.topology(), observation)));
}

TEST_CASE("discover_json and discover_text list every pod", "[report]") {
  ClusterBuilder cluster = ClusterBuilder().fresh_all().unresolved(r2);
  Observation observation = cluster.build();
  std::string json = report::discover_json(cluster.topology(), observation);
  CHECK(valid_json(json));
  CHECK_THAT(json, Catch::Contains(R"("discovery":{"method":"names")"));
  CHECK_THAT(json, Catch::Contains(
                       R"("pod":"redis-shard0-0","dns_name":"redis-shard0-0.redis-pods.default.svc.cluster.local")"));
  CHECK_THAT(json, Catch::Contains(R"("node_id":")" + cluster.id(m0) + "\""));
  CHECK_THAT(json, Catch::Contains(R"("address":null,"port":null,"answers":false,"error":")"));
  std::string text = report::discover_text(cluster.topology(), observation);
  CHECK_THAT(text, Catch::StartsWith("discovery: each pod's own name\n"));
  for (const auto& pod : cluster.topology().pods) {
    CHECK_THAT(text, Catch::Contains(pod.name));
    CHECK_THAT(text, Catch::Contains(pod.dns_name));
  }
}
