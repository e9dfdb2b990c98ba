#include "rci/redis/connection.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <cstdlib>

#include "rci/util/log.hpp"

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

Connection::Connection(net::Socket socket, net::Endpoint endpoint, Timeouts timeouts)
    : socket_(std::move(socket)),
      endpoint_(std::move(endpoint)),
      timeouts_(timeouts),
      budget_(std::make_unique<ReplyBudget>()),
      reader_(create_bounded_reader(budget_.get())) {}

Connection Connection::adopt(net::Socket socket, Timeouts timeouts) {
  net::Endpoint endpoint = socket.endpoint();
  return Connection(std::move(socket), std::move(endpoint), timeouts);
}

Result<void> Connection::send_commands(const std::vector<std::vector<std::string>>& commands) {
  if (!socket_.is_open()) {
    return fail(ErrorKind::closed, fmt::format("{}: connection is closed", endpoint_.to_string()));
  }
  std::string wire;
  for (const auto& argv : commands) {
    log::debug("{}: {}", endpoint_.to_string(), describe_command(argv));
    auto formatted = format_command(argv);
    if (!formatted) return std::unexpected(formatted.error());
    wire += *formatted;
  }
  collected_.clear();
  *budget_ = {};
  auto sent = socket_.send_all(wire, Deadline::after(timeouts_.command));
  if (!sent) socket_.close();
  return sent;
}

Result<void> Connection::feed(const std::string& data) {
  budget_->bytes += data.size();
  if (budget_->bytes > max_reply_bytes) {
    socket_.close();
    return fail(ErrorKind::protocol, fmt::format("{}: bad reply: more than {} bytes, far more than any reply asked for",
                                                 endpoint_.to_string(), max_reply_bytes));
  }
  redisReaderFeed(static_cast<redisReader*>(reader_.get()), data.data(), data.size());
  return {};
}

Result<std::optional<Reply>> Connection::next_reply() {
  auto* reader = static_cast<redisReader*>(reader_.get());
  void* raw = nullptr;
  if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
    std::string reason = reader_error(reader);
    socket_.close();
    return fail(ErrorKind::protocol, fmt::format("{}: bad reply: {}", endpoint_.to_string(), reason));
  }
  if (raw == nullptr) return std::optional<Reply>{};
  ReplyPtr owned(static_cast<redisReply*>(raw));
  return convert_reply(owned.get());
}

Result<std::optional<std::vector<Reply>>> Connection::collect(size_t count) {
  std::string buffer;
  auto received = socket_.receive_available(buffer);
  if (!received) return std::unexpected(with_earlier_error_reply(received.error(), collected_));
  if (!buffer.empty()) {
    if (auto fed = feed(buffer); !fed) return std::unexpected(fed.error());
  }
  while (collected_.size() < count) {
    auto reply = next_reply();
    if (!reply) return std::unexpected(reply.error());
    if (!*reply) return std::optional<std::vector<Reply>>{};
    collected_.push_back(std::move(**reply));
  }
  return std::optional<std::vector<Reply>>(std::move(collected_));
}

Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Result<Connection> Connection::open(const net::Endpoint& endpoint, const Credentials& credentials, Timeouts timeouts,
                                    std::optional<Deadline> cap) {
  auto socket = net::Socket::connect(endpoint, cap ? cap->capped(timeouts.connect) : Deadline::after(timeouts.connect));
  if (!socket) return std::unexpected(socket.error());
  Connection connection(std::move(*socket), endpoint, timeouts);
  if (!credentials.password.empty()) {
    auto reply = connection.command(auth_command(credentials), cap);
    if (!reply) {
      Error error = reply.error();
      if (error.kind == ErrorKind::reply) error.kind = ErrorKind::auth;
      return std::unexpected(error);
    }
  }
  return connection;
}

Result<Reply> Connection::read_reply(Deadline deadline) {
  std::string buffer;
  while (true) {
    auto reply = next_reply();
    if (!reply) return std::unexpected(reply.error());
    if (*reply) return std::move(**reply);
    // A peer that keeps sending never makes the socket wait, where the deadline is checked.
    if (deadline.expired()) {
      socket_.close();
      return fail(ErrorKind::timeout, fmt::format("{}: timed out reading a reply", endpoint_.to_string()));
    }
    buffer.clear();
    if (auto received = socket_.receive_some(buffer, deadline); !received) {
      socket_.close();
      return std::unexpected(received.error());
    }
    if (auto fed = feed(buffer); !fed) return std::unexpected(fed.error());
  }
}

Result<std::vector<Reply>> Connection::pipeline(const std::vector<std::vector<std::string>>& commands,
                                                std::optional<Deadline> cap) {
  const Deadline deadline = cap ? cap->capped(timeouts_.command) : Deadline::after(timeouts_.command);
  if (auto sent = send_commands(commands); !sent) return std::unexpected(sent.error());
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    auto reply = read_reply(deadline);
    if (!reply) {
      Error error = reply.error();
      error.message += fmt::format(" (after {})", describe_command(commands[i]));
      return std::unexpected(with_earlier_error_reply(std::move(error), replies));
    }
    replies.push_back(std::move(*reply));
  }
  return replies;
}

Result<Reply> Connection::command(const std::vector<std::string>& argv, std::optional<Deadline> cap) {
  auto replies = pipeline({argv}, cap);
  if (!replies) return std::unexpected(replies.error());
  Reply reply = std::move(replies->front());
  if (reply.is_error()) {
    return fail_reply(reply.str, fmt::format("{}: {}: {}", endpoint_.to_string(), describe_command(argv), reply.str));
  }
  return reply;
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
  const bool secret = argv.front() == "AUTH" || argv.front() == "auth";
  for (size_t i = 1; i < argv.size(); ++i) {
    out += ' ';
    out += secret ? "(redacted)" : argv[i];
    if (out.size() > 200) {
      out += " ...";
      break;
    }
  }
  return out;
}

}  // namespace rci::redis
