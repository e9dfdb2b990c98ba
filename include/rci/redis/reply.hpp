#pragma once
// A Redis reply as a plain value, so nothing outside the codec sees hiredis' types.

#include <cstdint>
#include <string>
#include <vector>

namespace rci::redis {

struct Reply {
  enum class Type { string, status, error, integer, nil, array };
  Type type = Type::nil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<Reply> elements;  // array

  bool is_error() const { return type == Type::error; }
  // True for a status reply equal to `s` (e.g. "OK").
  bool is_status(std::string_view s) const { return type == Type::status && str == s; }
};

}  // namespace rci::redis
