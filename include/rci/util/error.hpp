#pragma once
// Expected failures travel as values; exceptions are kept for "give up now".

#include <expected>
#include <string>
#include <string_view>

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
  tls,       // the TLS handshake failed (the certificate, or a server without TLS)
  internal,  // a bug of ours or an impossible state
};

// The code word a server's error reply starts with ("-MOVED 3999 10.0.0.1:6379" is `moved`),
// so callers decide on what the server meant, never on its wording (which differs between
// server versions). `none` for every error that is not a server's reply.
enum class ReplyCode {
  none,
  err,          // ERR: the generic refusal (unknown subcommand, wrong arguments, busy slot, ...)
  moved,        // MOVED: the slot is served elsewhere
  ask,          // ASK: the slot is being migrated; ask the target with ASKING
  tryagain,     // TRYAGAIN: a multi-key command during a migration
  busykey,      // BUSYKEY: MIGRATE found the key on the target
  noauth,       // NOAUTH: authentication required
  wrongpass,    // WRONGPASS: bad user or password
  noperm,       // NOPERM: the ACL user may not run the command
  clusterdown,  // CLUSTERDOWN: the cluster is not serving
  loading,      // LOADING: the server is loading its dataset
  busy,         // BUSY: a script is running
  masterdown,   // MASTERDOWN: a replica's link to its master is down
  readonly,     // READONLY: a write sent to a replica
  crossslot,    // CROSSSLOT: keys in different slots
  other,        // any other code word
};

// The code of an error reply's text: its first word, as Redis spells it (upper case).
ReplyCode reply_code_of(std::string_view error_text);

// MIGRATE relays a refusal of the destination inside its own generic error ("ERR Target
// instance replied with error: BUSYKEY Target key name already exists."): the code of the
// destination's reply, which is what says what went wrong; `none` for a reply that relays
// nothing. fail_reply gives a relayed error this code.
ReplyCode relayed_reply_code(std::string_view error_text);

// A failure with its kind and a message that names its subject first. `code` is set when the
// failure is a server's error reply (kind `reply` or `auth`).
struct Error {
  ErrorKind kind;
  std::string message;
  ReplyCode code = ReplyCode::none;
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for returning an error from a function returning Result<T>.
inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected(Error{kind, std::move(message)});
}

// Shorthand for a server's refusal: kind `reply` (or `auth` for NOAUTH and WRONGPASS) with its code.
std::unexpected<Error> fail_reply(std::string_view error_text, std::string message);

// A short lowercase name of the kind, for logs and JSON.
const char* to_string(ErrorKind kind);
// The code word as Redis spells it ("ERR", "MOVED"); "" for none.
const char* to_string(ReplyCode code);

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
