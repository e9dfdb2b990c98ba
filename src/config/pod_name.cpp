#include "rci/config/pod_name.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace rci {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Parses a non-negative decimal without leading zeros (so "01" is not ordinal 1) and small
// enough for an int; StatefulSet ordinals and our shard numbers never have leading zeros.
std::optional<int> parse_index(std::string_view s) {
  if (!all_digits(s) || s.size() > 6 || (s.size() > 1 && s.front() == '0')) return std::nullopt;
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

std::expected<PodName, std::string> parse_pod_name(std::string_view name) {
  const std::string expected_form = "expected <prefix>-shard<S>-<ordinal>, e.g. redis-shard1-0";
  auto bad = [&](std::string_view what) {
    return std::unexpected(fmt::format("pod name '{}': {}; {}", name, what, expected_form));
  };
  if (name.empty()) return bad("empty");

  size_t last_dash = name.rfind('-');
  if (last_dash == std::string_view::npos) return bad("no '-<ordinal>' suffix");
  auto ordinal = parse_index(name.substr(last_dash + 1));
  if (!ordinal) return bad("the ordinal after the last '-' is not a number");

  std::string_view rest = name.substr(0, last_dash);
  size_t shard_dash = rest.rfind('-');
  if (shard_dash == std::string_view::npos) return bad("no '-shard<S>' part");
  std::string_view shard_field = rest.substr(shard_dash + 1);
  constexpr std::string_view shard_word = "shard";
  if (!shard_field.starts_with(shard_word)) return bad("the part before the ordinal is not 'shard<S>'");
  auto shard = parse_index(shard_field.substr(shard_word.size()));
  if (!shard) return bad("the shard number after 'shard' is not a number");

  std::string_view prefix = rest.substr(0, shard_dash);
  if (prefix.empty()) return bad("empty prefix before '-shard'");
  return PodName{std::string(prefix), *shard, *ordinal};
}

std::string format_pod_name(std::string_view prefix, int shard, int ordinal) {
  return fmt::format("{}-shard{}-{}", prefix, shard, ordinal);
}

}  // namespace rci
