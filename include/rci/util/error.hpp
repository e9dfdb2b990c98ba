#pragma once
// Expected failures travel as values; exceptions are kept for "give up now".

#include <expected>
#include <string>

namespace rci {

// What went wrong, so a caller can decide to retry, re-observe or stop.
enum class ErrorKind {
  config,    // bad flag, env value or input file
  dns,       // name resolution failed (NXDOMAIN, timeout, server failure)
  io,        // connect or socket error (refused, unreachable, reset)
  timeout,   // connect or command exceeded its time budget
  closed,    // the peer closed the connection
  protocol,  // the peer sent something that is not RESP
  reply,     // the server answered with an error reply
  auth,      // authentication was refused
  internal,  // a bug of ours or an impossible state
};

// A failure with its kind and a message that names its subject first.
struct Error {
  ErrorKind kind;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error from a function returning Result<T>.
inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected(Error{kind, std::move(message)});
}

// A short lowercase name of the kind, for logs and JSON.
const char* to_string(ErrorKind kind);

// Thrown only for configuration errors found while parsing; main turns it into exit code 2.
struct ConfigError {
  std::string message;
};

// Process exit codes, documented in the README.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failed = 1;            // deadline passed or unrecoverable state
inline constexpr int bad_config = 2;        // invalid flag, env or input; nothing was sent
inline constexpr int cannot_execute = 127;  // run: the server command cannot be executed (as a shell says)
}  // namespace exit_code

}  // namespace rci
