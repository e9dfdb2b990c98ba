#include "rci/redis/connection.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "rci/util/log.hpp"
#include "rci/util/text.hpp"

namespace rci::redis {

Reply convert_reply(const redisReply* raw);  // reply.cpp

namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Formats one command in RESP with hiredis' formatter (binary-safe arguments).
Result<std::string> format_command(const std::vector<std::string>& argv) {
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
  for (const auto& arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* formatted = nullptr;
  int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), pointers.data(), lengths.data());
  if (length < 0 || formatted == nullptr) {
    return fail(ErrorKind::internal, "cannot format command " + describe_command(argv));
  }
  std::string out(formatted, static_cast<size_t>(length));
  std::free(formatted);
  return out;
}

// No reply we ask for comes near these sizes: CLUSTER NODES of a thousand nodes is a few hundred
// KiB and one string; a pipeline of probe commands is a handful of objects. A peer that sends
// more is not answering what we asked, and must not make us allocate without bound: hiredis 0.14
// allocates an array's element table as soon as it reads the header (16 GiB for "*2147483647"),
// and every reply object costs about 70 bytes whatever its size on the wire.
constexpr size_t max_reply_bytes = 4 << 20;
constexpr size_t max_reply_objects = 100'000;

}  // namespace

// What the replies to one batch of commands have cost so far: the bytes fed to the reader
// (feed() refuses past max_reply_bytes) and the objects it built (its builders refuse past
// max_reply_objects). Reset when the commands are sent.
struct Connection::ReplyBudget {
  size_t bytes = 0;
  size_t objects = 0;
};

namespace {

// hiredis' own reply builders, each first charged to the budget of the reader that asks (its
// privdata); past the budget, or for an array longer than it, they refuse, which hiredis
// reports as out of memory.
redisReplyObjectFunctions hiredis_builders;

bool within_budget(const redisReadTask* task, size_t objects) {
  auto* budget = static_cast<Connection::ReplyBudget*>(task->privdata);
  budget->objects += objects;
  return budget->objects <= max_reply_objects;
}

void* create_string(const redisReadTask* task, char* text, size_t length) {
  return within_budget(task, 1) ? hiredis_builders.createString(task, text, length) : nullptr;
}
void* create_array(const redisReadTask* task, int elements) {
  // The element table is allocated now: charge for it now.
  return elements >= 0 && within_budget(task, 1 + static_cast<size_t>(elements))
             ? hiredis_builders.createArray(task, elements)
             : nullptr;
}
void* create_integer(const redisReadTask* task, long long value) {
  return within_budget(task, 1) ? hiredis_builders.createInteger(task, value) : nullptr;
}
void* create_nil(const redisReadTask* task) {
  return within_budget(task, 1) ? hiredis_builders.createNil(task) : nullptr;
}

redisReader* create_bounded_reader(Connection::ReplyBudget* budget) {
  static redisReplyObjectFunctions bounded = [] {
    redisReader* sample = redisReaderCreate();
    hiredis_builders = *sample->fn;
    redisReaderFree(sample);
    redisReplyObjectFunctions functions = hiredis_builders;
    functions.createString = create_string;
    functions.createArray = create_array;
    functions.createInteger = create_integer;
    functions.createNil = create_nil;
    return functions;
  }();
  redisReader* reader = redisReaderCreateWithFunctions(&bounded);
  reader->privdata = budget;
  return reader;
}

// hiredis' reason for refusing the bytes fed to `reader`.
std::string reader_error(const redisReader* reader) {
  if (reader->err == REDIS_ERR_OOM) {
    return fmt::format("more than {} reply objects, or out of memory", max_reply_objects);
  }
  return reader->errstr;
}

// The error that cut replies short, with the first error reply that came before it: a server
// refusing a client (max clients reached, say) says why, then closes.
Error with_earlier_error_reply(Error error, const std::vector<Reply>& replies) {
  for (const auto& reply : replies) {
    if (reply.is_error()) {
      error.message += fmt::format("; it had replied: {}", reply.str);
      break;
    }
  }
  return error;
}

}  // namespace

void Connection::ReaderDeleter::operator()(void* reader) const {
  redisReaderFree(static_cast<redisReader*>(reader));
}

ConnectionSettings connection_settings(const Options& options) {
  return {.credentials = options.credentials,
          .timeouts = {.connect = options.connect_timeout, .command = options.command_timeout},
          .tls = options.tls_context ? options.tls_context->current() : nullptr};
}

Connection::Connection(std::unique_ptr<net::Transport> transport, net::Endpoint endpoint,
                       const ConnectionSettings& settings)
    : transport_(std::move(transport)),
      endpoint_(std::move(endpoint)),
      timeouts_(settings.timeouts),
      step_started_(Clock::now()),
      budget_(std::make_unique<ReplyBudget>()),
      reader_(create_bounded_reader(budget_.get())) {}

Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Result<Connection> Connection::start(const net::Endpoint& endpoint, const ConnectionSettings& settings,
                                     const std::string& server_name) {
  auto transport = settings.tls ? net::start_tls(endpoint, server_name, settings.tls) : net::start_tcp(endpoint);
  if (!transport) return std::unexpected(transport.error());
  Connection connection(std::move(*transport), endpoint, settings);
  if (!settings.credentials.password.empty()) {
    if (auto queued = connection.send({auth_command(settings.credentials)}); !queued) {
      return std::unexpected(queued.error());
    }
    connection.auth_awaited_ = true;
  }
  return connection;
}

Result<Connection> Connection::open(const net::Endpoint& endpoint, const ConnectionSettings& settings,
                                    const std::string& server_name, std::optional<Deadline> cap) {
  auto connection = start(endpoint, settings, server_name);
  if (!connection) return connection;
  if (auto opened = connection->drive_alone(cap); !opened) return std::unexpected(opened.error());
  return connection;
}

bool Connection::is_open() const {
  return transport_ && transport_->is_open();
}

int Connection::fd() const {
  return transport_ ? transport_->fd() : -1;
}

Result<void> Connection::send(const std::vector<std::vector<std::string>>& commands) {
  if (!is_open()) return fail(ErrorKind::closed, fmt::format("{}: connection is closed", endpoint_.to_string()));
  if (awaited_.empty()) {
    // A new batch: its replies get a fresh budget, and their timeout starts now (or at the
    // connect, until connected).
    *budget_ = {};
    if (connected_) step_started_ = Clock::now();
  }
  for (const auto& argv : commands) {
    log::debug("{}: {}", endpoint_.to_string(), describe_command(argv));
    auto formatted = format_command(argv);
    if (!formatted) return std::unexpected(formatted.error());
    outbox_ += *formatted;
    awaited_.push_back(describe_command(argv));
  }
  return {};
}

Result<void> Connection::advance() {
  if (!is_open()) return fail(ErrorKind::closed, fmt::format("{}: connection is closed", endpoint_.to_string()));
  if (!connected_) {
    auto ready = transport_->advance_handshake();
    if (!ready) return broken(ready.error());
    if (!*ready) return {};
    connected_ = true;
    step_started_ = Clock::now();
  }
  if (auto flushed = flush(); !flushed) return flushed;
  if (awaited_.empty()) return {};
  return receive();
}

Result<void> Connection::flush() {
  while (!outbox_.empty()) {
    auto written = transport_->write_some(outbox_);
    if (!written) return broken(written.error());
    if (*written == 0) return {};
    outbox_.erase(0, *written);
  }
  return {};
}

Result<void> Connection::receive() {
  std::string buffer;
  auto received = transport_->read_available(buffer);
  if (!received) return broken(received.error());
  if (!buffer.empty()) {
    if (auto fed = feed(buffer); !fed) return fed;
  }
  while (!awaited_.empty()) {
    auto reply = next_reply();
    if (!reply) return std::unexpected(reply.error());
    if (!*reply) return {};
    awaited_.pop_front();
    if (std::exchange(auth_awaited_, false)) {
      if (auto accepted = accept_auth_reply(**reply); !accepted) return accepted;
      continue;
    }
    replies_.push_back(std::move(**reply));
  }
  return {};
}

Result<void> Connection::accept_auth_reply(const Reply& reply) {
  if (!reply.is_error()) return {};
  // Whatever the server's words (WRONGPASS, or ERR when it has no password), a refused AUTH
  // is an authentication failure; the commands after it would only say NOAUTH.
  Error refused{ErrorKind::auth, fmt::format("{}: AUTH (redacted): {}", endpoint_.to_string(), reply.str),
                reply.code()};
  transport_->close();
  awaited_.clear();
  return std::unexpected(std::move(refused));
}

std::unexpected<Error> Connection::broken(Error error) {
  transport_->close();
  // Which command it broke after; a connection that never opened sent none.
  if (connected_ && !awaited_.empty()) error.message += fmt::format(" (after {})", awaited_.front());
  awaited_.clear();
  return std::unexpected(with_earlier_error_reply(std::move(error), replies_));
}

Result<void> Connection::feed(const std::string& data) {
  budget_->bytes += data.size();
  if (budget_->bytes > max_reply_bytes) {
    return broken(Error{ErrorKind::protocol, fmt::format("{}: bad reply: more than {} bytes, far more than any reply "
                                                         "asked for",
                                                         endpoint_.to_string(), max_reply_bytes)});
  }
  redisReaderFeed(static_cast<redisReader*>(reader_.get()), data.data(), data.size());
  return {};
}

Result<std::optional<Reply>> Connection::next_reply() {
  auto* reader = static_cast<redisReader*>(reader_.get());
  void* raw = nullptr;
  if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
    return broken(
        Error{ErrorKind::protocol, fmt::format("{}: bad reply: {}", endpoint_.to_string(), reader_error(reader))});
  }
  if (raw == nullptr) return std::optional<Reply>{};
  ReplyPtr owned(static_cast<redisReply*>(raw));
  return convert_reply(owned.get());
}

bool Connection::settled() const {
  return is_open() && connected_ && outbox_.empty() && awaited_.empty();
}

std::vector<Reply> Connection::take_replies() {
  return std::exchange(replies_, {});
}

short Connection::poll_events() const {
  if (!connected_) return transport_->handshake_interest().poll_events();
  const net::Interest more = transport_->io_interest();
  return net::Interest{.read = !awaited_.empty() || more.read, .write = !outbox_.empty() || more.write}.poll_events();
}

bool Connection::ready_without_poll() const {
  return connected_ && !awaited_.empty() && transport_->holds_input();
}

Clock::time_point Connection::step_deadline() const {
  return step_started_ + (connected_ ? timeouts_.command : timeouts_.connect);
}

Error Connection::expire() {
  const char* step = connected_ ? "waiting for a reply" : transport_->opening_step();
  return broken(Error{ErrorKind::timeout, fmt::format("{}: timed out {}", endpoint_.to_string(), step)}).error();
}

Result<void> Connection::drive_alone(std::optional<Deadline> cap) {
  Connection* self[] = {this};
  return std::move(drive(self, cap.value_or(Deadline(Clock::time_point::max()))).front());
}

std::vector<Result<void>> drive(std::span<Connection* const> connections, Deadline cap) {
  std::vector<Result<void>> results(connections.size());
  std::vector<bool> done(connections.size(), false);
  auto finish = [&](size_t i, Result<void> result) {
    results[i] = std::move(result);
    done[i] = true;
  };
  // Whatever can be done before waiting (a kept connection writes its commands at once).
  for (size_t i = 0; i < connections.size(); ++i) {
    if (auto moved = connections[i]->advance(); !moved) finish(i, std::unexpected(moved.error()));
  }
  std::vector<pollfd> fds;
  std::vector<size_t> owners;
  while (true) {
    fds.clear();
    owners.clear();
    auto next_deadline = Clock::time_point::max();
    bool without_poll = false;
    const auto now = Clock::now();
    for (size_t i = 0; i < connections.size(); ++i) {
      if (done[i]) continue;
      Connection& connection = *connections[i];
      if (connection.settled()) {
        finish(i, {});
        continue;
      }
      const auto deadline = std::min(connection.step_deadline(), cap.at());
      if (now >= deadline) {
        finish(i, std::unexpected(connection.expire()));
        continue;
      }
      next_deadline = std::min(next_deadline, deadline);
      without_poll = without_poll || connection.ready_without_poll();
      fds.push_back(pollfd{connection.fd(), connection.poll_events(), 0});
      owners.push_back(i);
    }
    if (fds.empty()) break;
    const auto wait = std::chrono::duration_cast<Millis>(next_deadline - now).count();
    const int timeout = without_poll ? 0 : static_cast<int>(std::clamp<long long>(wait, 1, 60'000));
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      const Error error{ErrorKind::io, fmt::format("poll: {}", std::strerror(errno))};
      for (size_t i : owners) finish(i, std::unexpected(error));
      break;
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      const size_t i = owners[k];
      if (fds[k].revents == 0 && !connections[i]->ready_without_poll()) continue;
      if (auto moved = connections[i]->advance(); !moved) finish(i, std::unexpected(moved.error()));
    }
  }
  return results;
}

Result<std::vector<Reply>> Connection::pipeline(const std::vector<std::vector<std::string>>& commands,
                                                std::optional<Deadline> cap) {
  if (auto sent = send(commands); !sent) return std::unexpected(sent.error());
  if (auto driven = drive_alone(cap); !driven) return std::unexpected(driven.error());
  return take_replies();
}

Result<Reply> Connection::command(const std::vector<std::string>& argv, std::optional<Deadline> cap) {
  auto replies = commands({argv}, cap);
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->front());
}

Result<std::vector<Reply>> Connection::commands(const std::vector<std::vector<std::string>>& argvs,
                                                std::optional<Deadline> cap) {
  auto replies = pipeline(argvs, cap);
  if (!replies) return replies;
  for (size_t i = 0; i < replies->size(); ++i) {
    const Reply& reply = (*replies)[i];
    if (reply.is_error()) {
      return fail_reply(reply.str,
                        fmt::format("{}: {}: {}", endpoint_.to_string(), describe_command(argvs[i]), reply.str));
    }
  }
  return replies;
}

std::vector<std::string> auth_command(const Credentials& credentials) {
  std::vector<std::string> auth = {"AUTH"};
  if (!credentials.user.empty()) auth.push_back(credentials.user);
  auth.push_back(credentials.password);
  return auth;
}

std::string describe_command(const std::vector<std::string>& argv) {
  if (argv.empty()) return "(empty command)";
  std::string out = argv.front();
  const bool secret = text::equal_ignoring_case(argv.front(), "AUTH");
  // MIGRATE carries the target's credentials before its KEYS: AUTH <password> or
  // AUTH2 <user> <password>.
  bool in_migrate_options = text::equal_ignoring_case(argv.front(), "MIGRATE");
  size_t credentials_left = 0;
  for (size_t i = 1; i < argv.size(); ++i) {
    const bool credential = secret || credentials_left > 0;
    if (credentials_left > 0) {
      --credentials_left;
    } else if (in_migrate_options) {
      if (text::equal_ignoring_case(argv[i], "AUTH")) credentials_left = 1;
      if (text::equal_ignoring_case(argv[i], "AUTH2")) credentials_left = 2;
      if (text::equal_ignoring_case(argv[i], "KEYS")) in_migrate_options = false;
    }
    out += ' ';
    out += credential ? "(redacted)" : argv[i];
    if (out.size() > 200) {
      out += " ...";
      break;
    }
  }
  return out;
}

}  // namespace rci::redis
