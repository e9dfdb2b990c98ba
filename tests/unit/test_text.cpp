// util/text: the string helpers every parser stands on.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "rci/util/text.hpp"

using namespace rci;

namespace {

std::vector<std::string> strings(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

}  // namespace

TEST_CASE("text::split keeps empty fields", "[text]") {
  using V = std::vector<std::string>;
  CHECK(strings(text::split("a,b,c", ',')) == V{"a", "b", "c"});
  CHECK(strings(text::split("a,,b", ',')) == V{"a", "", "b"});
  CHECK(strings(text::split(",a,", ',')) == V{"", "a", ""});
  CHECK(strings(text::split("", ',')) == V{""});
  CHECK(strings(text::split("abc", ',')) == V{"abc"});
}

TEST_CASE("text::split_words splits on runs of spaces and tabs", "[text]") {
  using V = std::vector<std::string>;
  CHECK(strings(text::split_words("a b\tc")) == V{"a", "b", "c"});
  CHECK(strings(text::split_words("  a \t\t b  ")) == V{"a", "b"});
  CHECK(strings(text::split_words("")).empty());
  CHECK(strings(text::split_words(" \t ")).empty());
}

TEST_CASE("text::trim removes spaces, tabs, \\r and \\n at both ends only", "[text]") {
  CHECK(text::trim("  abc  ") == "abc");
  CHECK(text::trim("role:slave\r") == "role:slave");
  CHECK(text::trim("\t\r\n a b \r\n") == "a b");
  CHECK(text::trim("") == "");
  CHECK(text::trim(" \r\n\t ") == "");
  CHECK(text::trim("x") == "x");
}

TEST_CASE("text::to_int accepts whole decimal integers only", "[text]") {
  struct Row {
    const char* input;
    std::optional<long long> expected;
  };
  const Row rows[] = {
      {"0", 0},
      {"42", 42},
      {"-1", -1},
      {"+7", 7},
      {"1795576831135", 1795576831135LL},
      {"9223372036854775807", 9223372036854775807LL},
      {"", std::nullopt},
      {"+", std::nullopt},
      {"-", std::nullopt},
      {"12a", std::nullopt},
      {"a12", std::nullopt},
      {" 1", std::nullopt},
      {"1 ", std::nullopt},
      {"1.5", std::nullopt},
      {"0x10", std::nullopt},
      {"9223372036854775808", std::nullopt},  // overflow
      {"+-1", std::nullopt},                  // two signs are not a number
      {"++1", std::nullopt},
  };
  for (const auto& row : rows) {
    INFO("input: '" << row.input << "'");
    CHECK(text::to_int(row.input) == row.expected);
  }
}

TEST_CASE("text::join", "[text]") {
  CHECK(text::join({}, ", ") == "");
  CHECK(text::join({"a"}, ", ") == "a");
  CHECK(text::join({"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(text::join({"", ""}, ",") == ",");
}

TEST_CASE("all_digits and is_dns_label_char", "[text]") {
  CHECK(rci::text::all_digits("0"));
  CHECK(rci::text::all_digits("16383"));
  for (const char* not_digits : {"", "+5", "-5", "5 ", "1e3", "٣"}) {
    INFO(not_digits);
    CHECK_FALSE(rci::text::all_digits(not_digits));
  }
  for (char c : std::string("az09-")) CHECK(rci::text::is_dns_label_char(c));
  for (char c : std::string("AZ_. /")) CHECK_FALSE(rci::text::is_dns_label_char(c));
}
