// redis/connection: what a peer can make us do. A scripted peer on a loopback socket sends
// what no real server would (a real redis-server cannot be made to), and the connection must
// stay bounded; error replies keep their code; AUTH never shows in what is logged.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <thread>

#include "rci/redis/connection.hpp"
#include "servers.hpp"

using namespace rci;

namespace {

// Accepts one connection, reads one request, answers `reply` (then stays silent until closed).
class ScriptedPeer {
 public:
  explicit ScriptedPeer(std::string reply) : reply_(std::move(reply)) {
    const auto listener = test::loopback_socket(SOCK_STREAM);
    fd_ = listener.fd;
    port_ = listener.port;
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char request[4096];
      if (ssize_t got = ::read(client, request, sizeof request); got > 0) {
        request_.assign(request, static_cast<size_t>(got));
        size_t sent = 0;
        while (sent < reply_.size()) {
          ssize_t n = ::write(client, reply_.data() + sent, reply_.size() - sent);
          if (n <= 0) break;
          sent += static_cast<size_t>(n);
        }
      }
      char rest[256];
      while (::read(client, rest, sizeof rest) > 0) {
      }
      ::close(client);
    });
  }
  ~ScriptedPeer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  Result<redis::Connection> connect() const {
    return redis::Connection::open(endpoint(),
                                   {.credentials = {}, .timeouts = {Millis(500), Millis(1000)}, .tls = nullptr});
  }
  net::Endpoint endpoint() const { return {"127.0.0.1", port_}; }
  // The bytes of the one request it read (once the client has closed).
  std::string request() {
    thread_.join();
    return request_;
  }

 private:
  std::string reply_;
  std::string request_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// What `command` gets from a peer that answers `reply`.
Result<redis::Reply> answer_of(const std::string& reply, const std::vector<std::string>& command) {
  ScriptedPeer peer(reply);
  auto connection = peer.connect();
  REQUIRE(connection.has_value());
  auto answer = connection->command(command);
  // A reply that broke the protocol leaves nothing to read on: the connection is closed.
  if (!answer && answer.error().kind == ErrorKind::protocol) CHECK_FALSE(connection->is_open());
  return answer;
}

}  // namespace

TEST_CASE("an array header of two billion elements allocates nothing and is refused", "[connection]") {
  auto reply = answer_of("*2147483647\r\n", {"CLUSTER", "NODES"});
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == ErrorKind::protocol);
  CHECK_THAT(reply.error().message, Catch::Contains("more than 100000 reply objects"));
}

TEST_CASE("a reply larger than any we ask for is cut off at 4 MiB", "[connection]") {
  auto reply = answer_of("$100000000\r\n" + std::string(5 << 20, 'x'), {"CLUSTER", "NODES"});
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == ErrorKind::protocol);
  CHECK_THAT(reply.error().message, Catch::Contains("more than 4194304 bytes"));
}

TEST_CASE("an error reply keeps its code and names the server and the command", "[connection]") {
  auto reply = answer_of("-MOVED 3999 127.0.0.1:6381\r\n", {"GET", "key"});
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == ErrorKind::reply);
  CHECK(reply.error().code == ReplyCode::moved);
  CHECK_THAT(reply.error().message, Catch::StartsWith("127.0.0.1:") && Catch::Contains("GET key: MOVED 3999"));
}

TEST_CASE("a refused AUTH is an auth error with its code, and the password is never in it", "[connection]") {
  auto reply = answer_of("-WRONGPASS invalid username-password pair or user is disabled.\r\n",
                         redis::auth_command(Credentials{"app", "s3cret-pw"}));
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == ErrorKind::auth);
  CHECK(reply.error().code == ReplyCode::wrongpass);
  CHECK(reply.error().message.find("s3cret-pw") == std::string::npos);
  CHECK(reply.error().message.find("app") == std::string::npos);
}

TEST_CASE("describe_command redacts every AUTH argument and shortens long commands", "[connection]") {
  CHECK(redis::describe_command({"AUTH", "s3cret"}) == "AUTH (redacted)");
  CHECK(redis::describe_command({"auth", "user", "s3cret"}) == "auth (redacted) (redacted)");
  CHECK(redis::describe_command({"CLUSTER", "MEET", "10.0.0.1", "6379"}) == "CLUSTER MEET 10.0.0.1 6379");
  CHECK(redis::describe_command({"MIGRATE", "10.0.0.1", "6379", "", "0", "5000", "AUTH", "s3cret", "KEYS", "k"}) ==
        "MIGRATE 10.0.0.1 6379  0 5000 AUTH (redacted) KEYS k");
  CHECK(redis::describe_command({"migrate", "h", "1", "", "0", "5", "auth2", "app", "s3cret", "KEYS", "auth"}) ==
        "migrate h 1  0 5 auth2 (redacted) (redacted) KEYS auth");
  CHECK(redis::describe_command({"MIGRATE", "h", "1", "", "0", "5", "KEYS", "AUTH", "k"}) ==
        "MIGRATE h 1  0 5 KEYS AUTH k");
  std::vector<std::string> many = {"CLUSTER", "ADDSLOTS"};
  for (int slot = 0; slot < 1000; ++slot) many.push_back(std::to_string(slot));
  const std::string shown = redis::describe_command(many);
  CHECK(shown.size() < 220);
  CHECK(shown.ends_with(" ..."));
  CHECK(redis::describe_command({}) == "(empty command)");
}

TEST_CASE("drive: many connections from one poll loop, each with its own replies", "[connection]") {
  std::vector<std::unique_ptr<ScriptedPeer>> peers;
  std::vector<redis::Connection> connections;
  for (int i = 0; i < 5; ++i) {
    peers.push_back(std::make_unique<ScriptedPeer>(fmt::format("${}\r\npeer{}\r\n", 5, i)));
    auto started = redis::Connection::start(
        peers.back()->endpoint(), {.credentials = {}, .timeouts = {Millis(500), Millis(1000)}, .tls = nullptr});
    REQUIRE(started.has_value());
    REQUIRE(started->send({{"CLUSTER", "NODES"}}).has_value());
    connections.push_back(std::move(*started));
  }
  std::vector<redis::Connection*> driven;
  for (auto& connection : connections) driven.push_back(&connection);
  auto outcomes = redis::drive(driven, Deadline::after(Millis(2000)));
  REQUIRE(outcomes.size() == 5);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(outcomes[i].has_value());
    auto replies = connections[i].take_replies();
    REQUIRE(replies.size() == 1);
    CHECK(replies.front().str == fmt::format("peer{}", i));
  }
}

TEST_CASE("a peer that never answers times out within the command timeout, naming the command", "[connection]") {
  ScriptedPeer silent("");
  auto connection = redis::Connection::open(
      silent.endpoint(), {.credentials = {}, .timeouts = {Millis(500), Millis(300)}, .tls = nullptr});
  REQUIRE(connection.has_value());
  const auto started = Clock::now();
  auto reply = connection->command({"CLUSTER", "NODES"}, Deadline::after(Millis(5000)));
  const auto waited = Clock::now() - started;
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().kind == ErrorKind::timeout);
  CHECK_THAT(reply.error().message, Catch::Contains("timed out waiting for a reply (after CLUSTER NODES)"));
  CHECK(waited >= Millis(300));
  CHECK(waited < Millis(2000));
  CHECK_FALSE(connection->is_open());
}

TEST_CASE("AUTH goes out in the same write as the first commands, and its reply is taken out", "[connection]") {
  ScriptedPeer peer("+OK\r\n$5\r\nnodes\r\n");
  const redis::ConnectionSettings settings{
      .credentials = {"", "s3cret-pw"}, .timeouts = {Millis(500), Millis(1000)}, .tls = nullptr};
  {
    auto connection = redis::Connection::start(peer.endpoint(), settings);
    REQUIRE(connection.has_value());
    auto replies = connection->pipeline({{"CLUSTER", "NODES"}});
    REQUIRE(replies.has_value());
    REQUIRE(replies->size() == 1);
    CHECK(replies->front().str == "nodes");
  }
  const std::string request = peer.request();  // the peer has read it all in one read
  CHECK(request.starts_with("*2\r\n$4\r\nAUTH\r\n$9\r\ns3cret-pw\r\n"));
  CHECK(request.find("CLUSTER") != std::string::npos);
}

TEST_CASE("a refused AUTH at open is an auth error that names the server, never the password", "[connection]") {
  ScriptedPeer peer("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  const redis::ConnectionSettings settings{
      .credentials = {"app", "s3cret-pw"}, .timeouts = {Millis(500), Millis(1000)}, .tls = nullptr};
  auto connection = redis::Connection::open(peer.endpoint(), settings);
  REQUIRE_FALSE(connection.has_value());
  CHECK(connection.error().kind == ErrorKind::auth);
  CHECK(connection.error().code == ReplyCode::wrongpass);
  CHECK_THAT(connection.error().message,
             Catch::StartsWith(peer.endpoint().to_string() + ": AUTH (redacted): WRONGPASS"));
  CHECK(connection.error().message.find("s3cret-pw") == std::string::npos);
}

TEST_CASE("a port nobody listens on is refused at once, as an I/O error naming the endpoint", "[connection]") {
  const net::Endpoint nobody{"127.0.0.1", test::free_port()};
  auto connection =
      redis::Connection::open(nobody, {.credentials = {}, .timeouts = {Millis(1000), Millis(1000)}, .tls = nullptr});
  REQUIRE_FALSE(connection.has_value());
  CHECK(connection.error().kind == ErrorKind::io);
  CHECK_THAT(connection.error().message, Catch::StartsWith(nobody.to_string() + ": connect: Connection refused"));
}
