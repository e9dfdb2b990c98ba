#pragma once
// One lambda per alternative of a std::variant, for std::visit: a missing alternative does not
// compile, so a new kind of value cannot be forgotten where values are dispatched on.
//   std::visit(Overloaded{[](const A& a) { ... }, [](const B& b) { ... }}, value);

namespace rci {

template <class... Lambdas>
struct Overloaded : Lambdas... {
  using Lambdas::operator()...;
};
// C++20 deduces this for aggregates; clang before 17 (the sanitizer build's) needs it spelled.
template <class... Lambdas>
Overloaded(Lambdas...) -> Overloaded<Lambdas...>;

}  // namespace rci
