#pragma once
// One connection to a redis-server: a Transport (net/transport) for the bytes, hiredis as the
// RESP codec (command formatter and reply reader). A connection never blocks on its own: it
// holds the commands to send and the replies still to come, and advance() does what it can
// now. drive() moves many connections at once from one poll loop; pipeline() and command()
// are drive() over one. So every connection, one or a hundred, opens and talks the same way.

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/net/tls.hpp"
#include "rci/net/transport.hpp"
#include "rci/redis/reply.hpp"
#include "rci/util/clock.hpp"
#include "rci/util/error.hpp"

namespace rci::redis {

struct Timeouts {
  Millis connect{1000};  // TCP connect (and a TLS handshake)
  Millis command{2000};  // the replies to one batch of commands
};

// How to open a connection; start() picks the transport from it.
struct ConnectionSettings {
  Credentials credentials;  // AUTH is sent first when a password is set
  Timeouts timeouts;
  std::shared_ptr<const net::TlsContext> tls;  // set: TLS, else plain TCP
};

// The settings from the options: their credentials and timeouts.
ConnectionSettings connection_settings(const Options& options);

class Connection {
 public:
  // Starts connecting without waiting. AUTH, when a password is set, is queued first, so it
  // goes out in one write with the first commands. `server_name`: the name the node was found
  // by (its pod's FQDN), which a TLS connection sends and checks the certificate against.
  static Result<Connection> start(const net::Endpoint& endpoint, const ConnectionSettings& settings,
                                  const std::string& server_name = {});
  // start(), then waits until connected and AUTH answered, within the timeouts cut short by
  // `cap`. A refused AUTH is an Error of kind `auth`; a failed TLS handshake, of kind `tls`.
  static Result<Connection> open(const net::Endpoint& endpoint, const ConnectionSettings& settings,
                                 const std::string& server_name = {}, std::optional<Deadline> cap = std::nullopt);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one command within the command timeout, cut short by `cap`. An error reply becomes an
  // Error of kind `reply` (`auth` for NOAUTH, WRONGPASS) with its code, naming the command.
  Result<Reply> command(const std::vector<std::string>& argv, std::optional<Deadline> cap = std::nullopt);
  // Several commands in one write, as command() runs one: the first error reply fails the whole,
  // as an Error naming that command.
  Result<std::vector<Reply>> commands(const std::vector<std::vector<std::string>>& argvs,
                                      std::optional<Deadline> cap = std::nullopt);
  // Sends several commands in one write and reads their replies in order; error replies are
  // returned as replies, not failures, so the caller can tell which command failed.
  Result<std::vector<Reply>> pipeline(const std::vector<std::vector<std::string>>& commands,
                                      std::optional<Deadline> cap = std::nullopt);

  // The steps pipeline() is made of, for drive().
  // Queues commands; advance() sends them. Their command timeout starts now, or once
  // connected.
  Result<void> send(const std::vector<std::vector<std::string>>& commands);
  // Does what can be done now without waiting: connect, write, read, read replies. A failure
  // (I/O, a reply that breaks the protocol or the size bounds, a refused AUTH) closes the
  // connection.
  Result<void> advance();
  // Nothing left to do: connected, everything sent, every reply in.
  bool settled() const;
  // The replies to the commands sent (AUTH's taken out), once settled.
  std::vector<Reply> take_replies();
  // The poll events advance() waits for, and whether it can go on without them.
  short poll_events() const;
  bool ready_without_poll() const;
  // When the current step (connecting, or the replies awaited) runs out of its timeout.
  Clock::time_point step_deadline() const;
  // Closes the connection and says which step ran out of time.
  Error expire();
  int fd() const;

  const net::Endpoint& endpoint() const { return endpoint_; }
  bool is_open() const;

  // What the replies to the current commands have cost: bytes received and reply objects
  // built (defined in connection.cpp, whose reply builders charge it).
  struct ReplyBudget;

 private:
  Connection(std::unique_ptr<net::Transport> transport, net::Endpoint endpoint, const ConnectionSettings& settings);
  // drive() over this connection alone, until settled or failed, within its timeouts cut
  // short by `cap`.
  Result<void> drive_alone(std::optional<Deadline> cap);
  Result<void> flush();
  Result<void> receive();
  // The next whole reply the reader holds, or nothing until more bytes come; a reply it cannot
  // read closes the connection.
  Result<std::optional<Reply>> next_reply();
  // Hands received bytes to the reply reader; fails (and closes) once the replies to the
  // current commands pass a size no reply we ask for comes near.
  Result<void> feed(const std::string& data);
  // Takes the reply to AUTH off the front; a refusal fails the connection.
  Result<void> accept_auth_reply(const Reply& reply);
  // Closes the transport and returns `error` with what came before it.
  std::unexpected<Error> broken(Error error);
  struct ReaderDeleter {
    void operator()(void* reader) const;
  };
  std::unique_ptr<net::Transport> transport_;
  net::Endpoint endpoint_;
  Timeouts timeouts_;
  bool connected_ = false;
  Clock::time_point step_started_;
  std::string outbox_;                           // formatted commands not yet written
  std::deque<std::string> awaited_;              // the commands whose replies are still to come
  bool auth_awaited_ = false;                    // the first reply to come is AUTH's
  std::vector<Reply> replies_;                   // replies received since the last take_replies()
  std::unique_ptr<ReplyBudget> budget_;          // the reader's, so at a stable address
  std::unique_ptr<void, ReaderDeleter> reader_;  // hiredis redisReader
};

// Moves every connection forward from one poll loop until each has settled, has failed, or
// its step has run past its timeout or `cap`. One result per connection, in order; a
// connection that failed is closed.
std::vector<Result<void>> drive(std::span<Connection* const> connections, Deadline cap);

// AUTH [user] password for `credentials` (which must hold a password); the one place the
// command is spelt.
std::vector<std::string> auth_command(const Credentials& credentials);

// The command as it may appear in a log line: AUTH arguments are replaced by "(redacted)".
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace rci::redis
