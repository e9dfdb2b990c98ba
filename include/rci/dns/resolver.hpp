#pragma once
// Resolves many names at once through c-ares (glibc's resolver does not work in a static
// binary on a scratch image). Every name is in flight concurrently, so resolving a
// hundred peers costs about one round trip.

#include <optional>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/util/clock.hpp"
#include "rci/util/error.hpp"

namespace rci::dns {

// The outcome for one name: its first IPv4 address (else IPv6), or why there is none.
struct Resolution {
  std::string name;
  Result<std::string> address;
};

class Resolver {
 public:
  // `server` replaces /etc/resolv.conf when set.
  explicit Resolver(std::optional<DnsServer> server);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Resolves every name concurrently; results are in the order of `names`.
  std::vector<Resolution> resolve_all(const std::vector<std::string>& names, Deadline deadline);

 private:
  void run_queries(const std::vector<std::string>& names, std::vector<Resolution>& results, int family,
                   Deadline deadline);
  struct Impl;
  Impl* impl_;
};

}  // namespace rci::dns
