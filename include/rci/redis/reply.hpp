#pragma once
// A Redis reply as a plain value, so nothing outside the codec sees hiredis' types.

#include <cstdint>
#include <string>
#include <vector>

#include "rci/util/error.hpp"

namespace rci::redis {

struct Reply {
  enum class Type { string, status, error, integer, nil, array };
  Type type = Type::nil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<Reply> elements;  // array

  bool is_error() const { return type == Type::error; }
  // An error reply's code word (ERR, MOVED, NOAUTH, ...); `none` for any other reply.
  ReplyCode code() const { return is_error() ? reply_code_of(str) : ReplyCode::none; }
  // True for a status reply equal to `s` (e.g. "OK").
  bool is_status(std::string_view s) const { return type == Type::status && str == s; }
};

}  // namespace rci::redis
