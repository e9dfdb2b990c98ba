#pragma once
// Resolves many names at once through c-ares (glibc's resolver does not work in a static
// binary on a scratch image). Every name is in flight concurrently, so resolving a
// hundred peers costs about one round trip.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rci/config/options.hpp"
#include "rci/dns/message.hpp"
#include "rci/util/clock.hpp"
#include "rci/util/error.hpp"

namespace rci::dns {

// How a lookup ended, so callers decide on what the server said, not on message text.
enum class Status {
  found,
  no_such_name,    // NXDOMAIN
  no_record,       // the name exists but has no record of the type asked (NODATA)
  timeout,         // no answer in time: says nothing about the name
  server_failure,  // SERVFAIL, REFUSED, or the server cannot be reached
  bad_answer,      // an answer we cannot use (malformed, or an address no node can have)
  not_asked,       // the resolver could not be set up, or the deadline came first
};

// The outcome for one name: its first IPv4 address (else IPv6), or why there is none.
struct Resolution {
  std::string name;
  Result<std::string> address;
  Status status = Status::not_asked;
};

// The outcome of one SRV query.
struct SrvResolution {
  std::string name;
  Result<SrvAnswer> answer;
  Status status = Status::not_asked;
};

class Resolver {
 public:
  // How long c-ares waits for an answer before it asks again (doubling each time), how many
  // times it asks, and whether over TCP from the start.
  struct Patience {
    Millis first_try{200};
    int tries = 4;
    bool over_tcp = false;
  };
  // The cluster's DNS server answers names in well under 10 ms: a lost query is asked again
  // soon (200, 400, 800, 1600 ms).
  static constexpr Patience for_names{Millis(200), 4, false};
  // An SRV answer of more than a dozen pods does not fit a UDP datagram (1232 bytes): a UDP
  // try would cost a round trip and the server a whole answer (dnsmasq builds it before it
  // truncates it), to be asked again over TCP anyway; every DNS server answers TCP (RFC 7766).
  // A busy server may take seconds to answer hundreds of pods at once, and c-ares never sends
  // a query twice on one TCP connection: its one try gets the whole patience.
  static constexpr Patience for_large_answers{Millis(15000), 1, true};

  // `server` replaces /etc/resolv.conf when set.
  explicit Resolver(std::optional<DnsServer> server, Patience patience = for_names);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Resolves every name concurrently; results are in the order of `names`.
  std::vector<Resolution> resolve_all(const std::vector<std::string>& names, Deadline deadline);

  // Asks for the SRV records of `name` (and the targets' addresses, which servers put in the
  // additional section); a UDP answer that is truncated is asked again over TCP (c-ares does).
  SrvResolution query_srv(const std::string& name, Deadline deadline);

  // The same, as a query that outlives the call: start_srv() sends it (unless one is in
  // flight), poll_srv() drives it until `until` and returns its outcome once there is one. It
  // is never cut short by a caller's deadline, only by the resolver's own patience, so a slow
  // answer over TCP is not asked for again and again. Queries of resolve_all() and query_srv()
  // (which is start_srv() and poll_srv() with a cancel at its deadline) on the same resolver
  // cancel it at their deadline: use a resolver of its own.
  void start_srv(const std::string& name);
  std::optional<SrvResolution> poll_srv(Deadline until);
  bool srv_in_flight() const;

 private:
  enum class AtDeadline { cancel, keep_waiting };
  void run_queries(const std::vector<std::string>& names, std::vector<Resolution>& results, int family,
                   Deadline deadline);
  // Drives c-ares until `in_flight` is zero: every callback has run (so nothing points into
  // the caller's buffers any more), cancelling what is left at the deadline. `submit_more`
  // is called whenever a query may have completed.
  void drive(const int& in_flight, Deadline deadline, const std::function<void()>& submit_more, AtDeadline at_deadline);
  struct Impl;
  Impl* impl_;
};

}  // namespace rci::dns
