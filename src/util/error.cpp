#include "rci/util/error.hpp"

#include <array>
#include <utility>

namespace rci {
namespace {

// Every code word we tell apart, as servers spell it.
constexpr std::array<std::pair<std::string_view, ReplyCode>, 14> known_codes = {{
    {"ERR", ReplyCode::err},
    {"MOVED", ReplyCode::moved},
    {"ASK", ReplyCode::ask},
    {"TRYAGAIN", ReplyCode::tryagain},
    {"BUSYKEY", ReplyCode::busykey},
    {"NOAUTH", ReplyCode::noauth},
    {"WRONGPASS", ReplyCode::wrongpass},
    {"NOPERM", ReplyCode::noperm},
    {"CLUSTERDOWN", ReplyCode::clusterdown},
    {"LOADING", ReplyCode::loading},
    {"BUSY", ReplyCode::busy},
    {"MASTERDOWN", ReplyCode::masterdown},
    {"READONLY", ReplyCode::readonly},
    {"CROSSSLOT", ReplyCode::crossslot},
}};

}  // namespace

ReplyCode reply_code_of(std::string_view error_text) {
  const std::string_view word = error_text.substr(0, error_text.find(' '));
  for (const auto& [spelling, code] : known_codes) {
    if (word == spelling) return code;
  }
  return ReplyCode::other;
}

ReplyCode relayed_reply_code(std::string_view error_text) {
  // cluster.c's migrateCommand, in every server of the matrix (Redis 6.2, 7.2, Valkey 8.0:
  // checked in their sources), writes the target's error reply after this prefix, its '-'
  // dropped. The one place a reply's text is read past its code: check it again for a new
  // server in the matrix (test_scale_shards 3to4-busykey fails if it changed).
  constexpr std::string_view relay = "ERR Target instance replied with error: ";
  if (!error_text.starts_with(relay)) return ReplyCode::none;
  return reply_code_of(error_text.substr(relay.size()));
}

std::unexpected<Error> fail_reply(std::string_view error_text, std::string message) {
  const ReplyCode relayed = relayed_reply_code(error_text);
  const ReplyCode code = relayed != ReplyCode::none ? relayed : reply_code_of(error_text);
  const bool refused_credentials = code == ReplyCode::noauth || code == ReplyCode::wrongpass;
  return std::unexpected(Error{refused_credentials ? ErrorKind::auth : ErrorKind::reply, std::move(message), code});
}

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::config: return "config";
    case ErrorKind::dns: return "dns";
    case ErrorKind::io: return "io";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::closed: return "closed";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::reply: return "reply";
    case ErrorKind::auth: return "auth";
    case ErrorKind::tls: return "tls";
    case ErrorKind::internal: return "internal";
  }
  return "unknown";
}

const char* to_string(ReplyCode code) {
  if (code == ReplyCode::none) return "";
  if (code == ReplyCode::other) return "other";
  for (const auto& [spelling, known] : known_codes) {
    if (known == code) return spelling.data();
  }
  return "other";
}

}  // namespace rci
