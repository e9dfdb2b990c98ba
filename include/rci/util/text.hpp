#pragma once
// Small string helpers that know nothing of the application.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rci::text {

// Splits on every occurrence of `sep`; empty fields are kept.
std::vector<std::string_view> split(std::string_view s, char sep);
// Splits on runs of spaces and tabs; no empty fields.
std::vector<std::string_view> split_words(std::string_view s);
// Removes leading and trailing whitespace (including \r).
std::string_view trim(std::string_view s);
// Parses a whole decimal integer; nullopt on anything else (sign allowed), or when it does not
// fit a long long.
std::optional<long long> to_int(std::string_view s);
// Whether `s` is one or more ASCII digits and nothing else.
bool all_digits(std::string_view s);
// Whether `c` may stand in a DNS label (RFC 1123, as Kubernetes names are): a lowercase letter,
// a digit or '-'.
bool is_dns_label_char(char c);
// Whether `s` is written as a decimal integer (an optional sign, then digits), whatever its size.
bool is_integer_syntax(std::string_view s);
// ASCII lower case, as DNS compares names.
std::string lower(std::string_view s);
// Whether two strings are equal but for ASCII case.
bool equal_ignoring_case(std::string_view a, std::string_view b);
// Joins with a separator.
std::string join(const std::vector<std::string>& parts, std::string_view sep);

}  // namespace rci::text
