// act/actor against a real redis-server: steps applied, a refused step backed off and not
// sent again at the poll loop's pace, the deadline kept (also by a FORGET fan-out), and a lost
// connection ending the batch.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <thread>

#include "rci/act/actor.hpp"
#include "servers.hpp"

using namespace rci;

namespace {

// A cluster-enabled redis-server on 127.0.0.1 and a free port, in a scratch directory.
struct Server {
  test::ScratchProcess process{"redis"};
  int port = test::free_redis_port();

  Server() {
    process.start({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                   "--dir", process.dir().string(), "--save", "", "--appendonly", "no"});
    REQUIRE(test::eventually([&] { return connect().has_value(); }));
  }
  net::Endpoint endpoint() const { return {"127.0.0.1", port}; }
  Result<redis::Connection> connect() const {
    return redis::Connection::open(endpoint(),
                                   {.credentials = {}, .timeouts = {Millis(500), Millis(1000)}, .tls = nullptr});
  }
};

plan::Action replicate_unknown() {
  return {
      .step = plan::Replicate{"redis-shard0-0", std::string(40, 'f')}, .target = plan::ThisNode{}, .reason = "a test"};
}

Connector no_other_nodes() {
  return [](const net::Endpoint& node, const std::string&, Deadline) -> Result<std::shared_ptr<redis::Connection>> {
    return fail(ErrorKind::io, node.to_string() + ": not reachable in this test");
  };
}

}  // namespace

TEST_CASE("refusal_backoff doubles from 100 ms to at most 5 s", "[actor]") {
  CHECK(refusal_backoff(1) == Millis(100));
  CHECK(refusal_backoff(2) == Millis(200));
  CHECK(refusal_backoff(4) == Millis(800));
  CHECK(refusal_backoff(7) == Millis(5000));
  CHECK(refusal_backoff(1000) == Millis(5000));
}

TEST_CASE("the actor applies steps, and backs a refused one off", "[actor]") {
  if (!test::available("redis-server")) {
    WARN("redis-server is not installed: actor tests not run");
    return;
  }
  Server server;
  auto self = server.connect();
  REQUIRE(self.has_value());
  Actor actor(no_other_nodes());

  const plan::Action claim{.step = plan::ClaimSlots{{0, 99}}, .target = plan::ThisNode{}, .reason = "a test"};
  CHECK(actor.apply(*self, {claim}, Deadline::after(Millis(2000))).applied == 1);
  CHECK(self->command({"CLUSTER", "INFO"})->str.find("cluster_slots_assigned:100") != std::string::npos);

  // Redis refuses to replicate a node it does not know (ERR): the refusal is reported, and the
  // same step asked for again at once (the next round of the poll loop) is not sent.
  ActResult first = actor.apply(*self, {replicate_unknown()}, Deadline::after(Millis(2000)));
  CHECK(first.failed == 1);
  ActResult again = actor.apply(*self, {replicate_unknown()}, Deadline::after(Millis(2000)));
  CHECK(again.failed == 0);
  CHECK(again.deferred == 1);
  std::this_thread::sleep_for(refusal_backoff(1) + Millis(20));
  CHECK(actor.apply(*self, {replicate_unknown()}, Deadline::after(Millis(2000))).failed == 1);

  // A deadline that has passed sends nothing.
  ActResult late = actor.apply(*self, {claim}, Deadline::after(Millis(0)));
  CHECK(late.applied + late.failed + late.deferred == 0);
}

TEST_CASE("a FORGET fan-out keeps to the deadline", "[actor]") {
  if (!test::available("redis-server")) return;
  Server server;
  auto self = server.connect();
  REQUIRE(self.has_value());
  // Every other node is slow to reach: each connect takes the time it is given.
  Actor actor(
      [](const net::Endpoint& node, const std::string&, Deadline until) -> Result<std::shared_ptr<redis::Connection>> {
        std::this_thread::sleep_for(std::min(until.remaining(), Millis(100)));
        return fail(ErrorKind::timeout, node.to_string() + ": timed out connecting");
      });
  plan::EveryNode nodes;
  for (int i = 0; i < 100; ++i) nodes.nodes.push_back({fmt::format("10.9.0.{}", i), 6379});
  const plan::Action forget{.step = plan::Forget{std::string(40, 'd')}, .target = nodes, .reason = "a test"};
  const auto started = Clock::now();
  actor.apply(*self, {forget}, Deadline::after(Millis(300)));
  CHECK(Clock::now() - started < Millis(600));  // not 100 x 100 ms
}

TEST_CASE("a lost connection ends the batch instead of failing every step on it", "[actor]") {
  if (!test::available("redis-server")) return;
  auto self = [] {
    Server server;
    return server.connect();
  }();  // the server is gone once this returns
  REQUIRE(self.has_value());
  Actor actor(no_other_nodes());
  const plan::Action meet{.step = plan::Meet{"redis-shard1-0", std::string(40, 'e'), "127.0.0.1", 6399, 16399},
                          .target = plan::ThisNode{},
                          .reason = "a test"};
  ActResult result = actor.apply(*self, {meet, meet, meet}, Deadline::after(Millis(2000)));
  CHECK(result.failed == 1);
  // Not a refusal: the same step is sent again at once next round.
  CHECK(actor.apply(*self, {meet}, Deadline::after(Millis(2000))).deferred == 0);
}

TEST_CASE("the actor sends each step to its target: this node, or every node in turn", "[actor]") {
  if (!test::available("redis-server")) return;
  Server server;
  auto self = server.connect();
  REQUIRE(self.has_value());
  std::vector<net::Endpoint> asked;  // the nodes the actor connected to, in order
  Actor actor(
      [&](const net::Endpoint& node, const std::string&, Deadline) -> Result<std::shared_ptr<redis::Connection>> {
        asked.push_back(node);
        if (node != server.endpoint()) return fail(ErrorKind::io, node.to_string() + ": not reachable in this test");
        auto connection = server.connect();
        if (!connection) return std::unexpected(connection.error());
        return std::make_shared<redis::Connection>(std::move(*connection));
      });

  // This node's steps go over `self`: no other connection is opened.
  const plan::Action bump{.step = plan::BumpEpoch{}, .target = plan::ThisNode{}, .reason = "a test"};
  CHECK(actor.apply(*self, {bump}, Deadline::after(Millis(2000))).applied == 1);
  CHECK(asked.empty());

  // Where the target is every node, each is asked in the given order, whatever the step; one
  // node taking it is enough.
  const std::vector<net::Endpoint> nodes = {{"10.9.0.1", 6379}, server.endpoint(), {"10.9.0.2", 6379}};
  const plan::Action everywhere{.step = plan::BumpEpoch{}, .target = plan::EveryNode{nodes}, .reason = "a test"};
  CHECK(actor.apply(*self, {everywhere}, Deadline::after(Millis(2000))).applied == 1);
  CHECK(asked == nodes);

  // A FORGET of an ID no node knows is refused by every node: a failure.
  asked.clear();
  const plan::Action forget{
      .step = plan::Forget{std::string(40, 'd')}, .target = plan::EveryNode{nodes}, .reason = "a test"};
  CHECK(actor.apply(*self, {forget}, Deadline::after(Millis(2000))).failed == 1);
  CHECK(asked == nodes);
}
