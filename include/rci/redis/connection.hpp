#pragma once
// One connection to a redis-server: our socket, hiredis as the RESP codec (command
// formatter and reply reader). Every command goes through one function that turns a
// missing reply, an error reply or a timeout into an Error naming the server.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/net/socket.hpp"
#include "rci/redis/reply.hpp"
#include "rci/util/error.hpp"

namespace rci::redis {

struct Timeouts {
  Millis connect{1000};
  Millis command{2000};
};

class Connection {
 public:
  // Connects and authenticates (AUTH is sent only when a password is set), each within its
  // timeout, cut short by `cap`; later commands get the full timeouts.
  static Result<Connection> open(const net::Endpoint& endpoint, const Credentials& credentials, Timeouts timeouts,
                                 std::optional<Deadline> cap = std::nullopt);

  // Wraps a socket that has just connected; no AUTH is sent (pipeline it yourself).
  static Connection adopt(net::Socket socket, Timeouts timeouts);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one command within the command timeout, cut short by `cap`. An error reply becomes an
  // Error of kind `reply` (`auth` for NOAUTH, WRONGPASS) with its code, naming the command.
  Result<Reply> command(const std::vector<std::string>& argv, std::optional<Deadline> cap = std::nullopt);
  // Sends several commands in one write and reads their replies in order; error replies are
  // returned as replies, not failures, so the caller can tell which command failed.
  Result<std::vector<Reply>> pipeline(const std::vector<std::vector<std::string>>& commands,
                                      std::optional<Deadline> cap = std::nullopt);

  // The two halves of pipeline(), for driving many connections from one poll loop: send the
  // commands, then collect replies as they arrive; `collect` returns nothing until all `count`
  // replies are in, and never waits.
  Result<void> send_commands(const std::vector<std::vector<std::string>>& commands);
  Result<std::optional<std::vector<Reply>>> collect(size_t count);
  int fd() const { return socket_.fd(); }

  const net::Endpoint& endpoint() const { return endpoint_; }
  bool is_open() const { return socket_.is_open(); }

  // What the replies to the current commands have cost: bytes received and reply objects
  // built (defined in connection.cpp, whose reply builders charge it).
  struct ReplyBudget;

 private:
  Connection(net::Socket socket, net::Endpoint endpoint, Timeouts timeouts);
  Result<Reply> read_reply(Deadline deadline);
  // The next whole reply the reader holds, or nothing until more bytes come; a reply it cannot
  // read closes the connection.
  Result<std::optional<Reply>> next_reply();
  // Hands received bytes to the reply reader; fails (and closes) once the replies to the
  // current commands pass a size no reply we ask for comes near.
  Result<void> feed(const std::string& data);
  struct ReaderDeleter {
    void operator()(void* reader) const;
  };
  net::Socket socket_;
  net::Endpoint endpoint_;
  Timeouts timeouts_;
  std::unique_ptr<ReplyBudget> budget_;          // the reader's, so at a stable address
  std::unique_ptr<void, ReaderDeleter> reader_;  // hiredis redisReader
  std::vector<Reply> collected_;                 // replies collect() has taken so far
};

// AUTH [user] password for `credentials` (which must hold a password); the one place the
// command is spelt, for every connection that authenticates, opened here or pipelined by hand.
std::vector<std::string> auth_command(const Credentials& credentials);

// The command as it may appear in a log line: AUTH arguments are replaced by "(redacted)".
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace rci::redis
