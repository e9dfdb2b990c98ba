#include "rci/config/pod_name.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <expected>
#include <string>

#include "rci/util/text.hpp"

namespace rci {
namespace {

// A non-negative decimal without leading zeros (so "01" is not ordinal 1) and small enough for
// an int; StatefulSet ordinals and our shard numbers never have leading zeros. On failure, what
// is wrong with it.
std::expected<int, std::string> parse_index(std::string_view s) {
  if (!text::all_digits(s)) return std::unexpected("is not a number");
  if (s.size() > 1 && s.front() == '0') return std::unexpected("has a leading zero");
  if (s.size() > 6) return std::unexpected("is too large");
  int value = 0;
  for (char c : s) value = value * 10 + (c - '0');
  return value;
}

// Pod names are DNS labels (RFC 1123), and Redis takes the name as cluster-announce-hostname.
bool is_label_text(std::string_view s) {
  return std::all_of(s.begin(), s.end(), text::is_dns_label_char);
}

constexpr size_t max_label_length = 63;

}  // namespace

std::expected<PodName, std::string> parse_pod_name(std::string_view name) {
  const std::string expected_form = "expected <prefix>-shard<S>-<ordinal>, e.g. redis-shard1-0";
  auto bad = [&](std::string_view what) {
    return std::unexpected(fmt::format("pod name '{}': {}; {}", name, what, expected_form));
  };
  if (name.empty()) return bad("empty");
  if (!is_label_text(name)) return bad("may hold only lowercase letters, digits and '-' (it is a DNS label)");
  if (name.size() > max_label_length)
    return bad(fmt::format("longer than {} characters (a DNS label)", max_label_length));

  size_t last_dash = name.rfind('-');
  if (last_dash == std::string_view::npos) return bad("no '-<ordinal>' suffix");
  auto ordinal = parse_index(name.substr(last_dash + 1));
  if (!ordinal) return bad("the ordinal after the last '-' " + ordinal.error());

  std::string_view rest = name.substr(0, last_dash);
  size_t shard_dash = rest.rfind('-');
  if (shard_dash == std::string_view::npos) return bad("no '-shard<S>' part");
  std::string_view shard_field = rest.substr(shard_dash + 1);
  constexpr std::string_view shard_word = "shard";
  if (!shard_field.starts_with(shard_word)) return bad("the part before the ordinal is not 'shard<S>'");
  auto shard = parse_index(shard_field.substr(shard_word.size()));
  if (!shard) return bad("the shard number after 'shard' " + shard.error());

  std::string_view prefix = rest.substr(0, shard_dash);
  if (prefix.empty()) return bad("empty prefix before '-shard'");
  if (prefix.front() == '-') return bad("the prefix starts with '-'");
  return PodName{std::string(prefix), *shard, *ordinal};
}

std::string format_pod_name(std::string_view prefix, int shard, int ordinal) {
  return fmt::format("{}-shard{}-{}", prefix, shard, ordinal);
}

}  // namespace rci
