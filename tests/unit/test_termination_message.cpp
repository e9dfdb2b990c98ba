#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rci/app/termination_message.hpp"

using rci::termination_message;

TEST_CASE("termination_message: every line when they fit", "[termination]") {
  CHECK(termination_message({"bootstrap did not converge", "  missing: pod a"}) ==
        "bootstrap did not converge\n  missing: pod a\n");
  CHECK(termination_message({}).empty());
}

TEST_CASE("termination_message: cut at a line, within the limit, saying how many lines are left out", "[termination]") {
  std::vector<std::string> lines = {"headline"};
  for (int i = 0; i < 300; ++i) lines.push_back("  missing: pod redis-shard" + std::to_string(i) + "-0: refused");
  const std::string message = termination_message(lines);
  CHECK(message.size() <= rci::termination_message_limit);
  CHECK(message.starts_with("headline\n  missing: pod redis-shard0-0: refused\n"));
  CHECK_THAT(message, Catch::EndsWith("more lines in the container's log\n"));
  // Each line is whole: the one before the note is a missing-pod line.
  auto before_note = message.substr(0, message.rfind("..."));
  CHECK_THAT(before_note, Catch::EndsWith(": refused\n"));
}

TEST_CASE("termination_message: a first line longer than the limit is cut to it", "[termination]") {
  const std::string message = termination_message({std::string(5000, 'x'), "second"});
  CHECK(message == std::string(rci::termination_message_limit, 'x'));
}
