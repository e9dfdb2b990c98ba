#include "rci/dns/resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "rci/net/address.hpp"

namespace rci::dns {
namespace {

// c-ares' global state is initialised once per process.
void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

std::string describe_status(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return "NXDOMAIN: the name does not exist";
    case ARES_ENODATA: return "the name exists but has no address record";
    case ARES_ETIMEOUT: return "no answer from the DNS server (timeout)";
    // c-ares 1.18 also reports an answer of SERVFAIL or REFUSED (and a broken TCP retry) so.
    case ARES_ECONNREFUSED:
      return "the DNS server failed or refused the query (SERVFAIL, REFUSED or connection refused)";
    case ARES_ESERVFAIL: return "the DNS server failed (SERVFAIL)";
    case ARES_EREFUSED: return "the DNS server refused the query (REFUSED)";
    case ARES_ECANCELLED: return "no answer before the deadline";
    default: return ares_strerror(status);
  }
}

Status status_of(int ares_status) {
  switch (ares_status) {
    case ARES_SUCCESS: return Status::found;
    case ARES_ENOTFOUND: return Status::no_such_name;
    case ARES_ENODATA: return Status::no_record;
    case ARES_ETIMEOUT: return Status::timeout;
    case ARES_ECANCELLED: return Status::not_asked;
    case ARES_ECONNREFUSED:
    case ARES_ESERVFAIL:
    case ARES_EREFUSED: return Status::server_failure;
    default: return Status::bad_answer;
  }
}

// No answer in time says nothing about the name; the caller may need to tell it apart.
ErrorKind kind_of(Status status) {
  return status == Status::timeout || status == Status::not_asked ? ErrorKind::timeout : ErrorKind::dns;
}

struct Query {
  Resolution* out;
  int* in_flight;
};

struct SrvQuery {
  SrvResolution* out;
  int* in_flight;
};

void on_srv_result(void* arg, int status, int /*timeouts*/, unsigned char* answer, int length) {
  auto* query = static_cast<SrvQuery*>(arg);
  --*query->in_flight;
  SrvResolution& resolution = *query->out;
  resolution.status = status_of(status);
  if (status != ARES_SUCCESS || answer == nullptr || length <= 0) {
    resolution.answer =
        fail(kind_of(resolution.status),
             fmt::format("SRV {}: {}", resolution.name,
                         status == ARES_ENODATA ? "the name has no SRV record" : describe_status(status)));
    return;
  }
  auto parsed = parse_srv_response(std::span<const std::uint8_t>(answer, static_cast<size_t>(length)));
  if (!parsed) {
    resolution.status = Status::bad_answer;
    resolution.answer = fail(ErrorKind::dns, fmt::format("SRV {}: {}", resolution.name, parsed.error().message));
    return;
  }
  resolution.answer = std::move(*parsed);
}

void on_result(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* query = static_cast<Query*>(arg);
  --*query->in_flight;
  Resolution& resolution = *query->out;
  resolution.status = status_of(status);
  if (status != ARES_SUCCESS || result == nullptr) {
    resolution.address =
        fail(kind_of(resolution.status), fmt::format("{}: {}", resolution.name, describe_status(status)));
    if (result) ares_freeaddrinfo(result);
    return;
  }
  std::string ipv4, ipv6;
  for (ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (node->ai_family == AF_INET && ipv4.empty()) {
      auto* addr = reinterpret_cast<sockaddr_in*>(node->ai_addr);
      inet_ntop(AF_INET, &addr->sin_addr, text, sizeof(text));
      ipv4 = text;
    } else if (node->ai_family == AF_INET6 && ipv6.empty()) {
      auto* addr = reinterpret_cast<sockaddr_in6*>(node->ai_addr);
      inet_ntop(AF_INET6, &addr->sin6_addr, text, sizeof(text));
      ipv6 = text;
    }
  }
  ares_freeaddrinfo(result);
  std::string chosen = !ipv4.empty() ? ipv4 : ipv6;
  if (chosen.empty()) {
    resolution.status = Status::no_record;
    resolution.address = fail(ErrorKind::dns, fmt::format("{}: the answer holds no address", resolution.name));
  } else if (auto why = net::unusable_reason(chosen)) {
    resolution.status = Status::bad_answer;
    // A record of an address no node can have (a broken record): never connected to.
    resolution.address = fail(
        ErrorKind::dns, fmt::format("{}: the answer {} is not a usable address: it {}", resolution.name, chosen, *why));
  } else {
    resolution.address = chosen;
  }
}

}  // namespace

struct Resolver::Impl {
  ares_channel channel = nullptr;
  // The shortest wait between passes when c-ares says "now" (see drive): a tenth of a try,
  // at most 100 ms, so a timeout or retry is handled at most that much late.
  Millis least_wait{10};
  std::string setup_error;
  // The SRV query started by start_srv(), owned here so that its callback, which c-ares may
  // run during any later call (or in ares_destroy), always has somewhere to write.
  struct PendingSrv {
    SrvResolution result;
    int in_flight = 0;
    SrvQuery query{&result, &in_flight};
  };
  std::unique_ptr<PendingSrv> pending;
};

Resolver::Resolver(std::optional<DnsServer> server, Patience patience) : impl_(new Impl) {
  init_library();
  ares_options options{};
  // c-ares doubles the wait on every try (see Patience).
  options.timeout = static_cast<int>(patience.first_try.count());
  impl_->least_wait = std::clamp(patience.first_try / 10, Millis(1), Millis(100));
  options.tries = patience.tries;
  // Names are fully qualified: no search list, so a query never wanders off the cluster.
  // EDNS lets an SRV answer of a dozen pods, with their addresses, fit one UDP datagram (dnsmasq
  // truncates a plain 512-byte answer at 7 targets); 1232 bytes is the size that is never
  // fragmented. Larger answers are truncated and asked again over TCP.
  options.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | (patience.over_tcp ? ARES_FLAG_USEVC : 0);
  options.ednspsz = 1232;
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
  if (int rc = ares_init_options(&impl_->channel, &options, mask); rc != ARES_SUCCESS) {
    impl_->setup_error = fmt::format("DNS resolver: {}", ares_strerror(rc));
    impl_->channel = nullptr;
    return;
  }
  if (server) {
    std::string host = server->host.find(':') != std::string::npos ? "[" + server->host + "]" : server->host;
    std::string csv = fmt::format("{}:{}", host, server->port);
    if (int rc = ares_set_servers_ports_csv(impl_->channel, csv.c_str()); rc != ARES_SUCCESS) {
      impl_->setup_error = fmt::format("DNS server {}: {}", csv, ares_strerror(rc));
    }
  }
}

Resolver::~Resolver() {
  if (impl_->channel) ares_destroy(impl_->channel);  // completes what is in flight first
  delete impl_;
}

std::vector<Resolution> Resolver::resolve_all(const std::vector<std::string>& names, Deadline deadline) {
  std::vector<Resolution> results;
  results.reserve(names.size());
  for (const auto& name : names)
    results.push_back(Resolution{name, fail(ErrorKind::timeout, name + ": not asked before the deadline")});
  if (!impl_->setup_error.empty() || impl_->channel == nullptr) {
    for (auto& r : results) {
      r.address = fail(ErrorKind::dns, fmt::format("{}: {}", r.name, impl_->setup_error));
      r.status = Status::not_asked;
    }
    return results;
  }

  // IPv4 first for every name; only names without an A record are asked for AAAA. Asking
  // for both at once would double the load on the cluster's DNS server for nothing.
  run_queries(names, results, AF_INET, deadline);
  std::vector<std::string> v6_names;
  std::vector<size_t> v6_index;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].status == Status::no_record) {
      v6_names.push_back(names[i]);
      v6_index.push_back(i);
    }
  }
  if (!v6_names.empty()) {
    std::vector<Resolution> v6_results;
    for (const auto& name : v6_names)
      v6_results.push_back(Resolution{name, fail(ErrorKind::dns, name + ": not resolved")});
    run_queries(v6_names, v6_results, AF_INET6, deadline);
    for (size_t k = 0; k < v6_index.size(); ++k) {
      if (v6_results[k].address) results[v6_index[k]] = std::move(v6_results[k]);
    }
  }
  return results;
}

void Resolver::run_queries(const std::vector<std::string>& names, std::vector<Resolution>& results, int family,
                           Deadline deadline) {
  // At most this many queries are in flight at once: a hundred pods starting together would
  // otherwise overflow the DNS server's receive buffer (seen with dnsmasq: dropped queries,
  // then c-ares' retries add seconds).
  constexpr int max_in_flight = 8;
  int in_flight = 0;
  size_t next = 0;
  std::vector<Query> queries(names.size());
  ares_addrinfo_hints hints{};
  hints.ai_family = family;
  auto submit_more = [&] {
    while (next < names.size() && in_flight < max_in_flight) {
      size_t i = next++;
      queries[i] = Query{&results[i], &in_flight};
      ++in_flight;
      // A trailing dot makes the name absolute.
      std::string absolute = names[i].ends_with('.') ? names[i] : names[i] + ".";
      ares_getaddrinfo(impl_->channel, absolute.c_str(), nullptr, &hints, on_result, &queries[i]);
    }
  };
  submit_more();
  drive(in_flight, deadline, submit_more, AtDeadline::cancel);
}

SrvResolution Resolver::query_srv(const std::string& name, Deadline deadline) {
  start_srv(name);
  if (auto done = poll_srv(deadline)) return std::move(*done);
  ares_cancel(impl_->channel);  // its callback runs now (ARES_ECANCELLED): the query is done
  return std::move(*poll_srv(Deadline::after(Millis(0))));
}

void Resolver::start_srv(const std::string& name) {
  if (srv_in_flight()) return;
  impl_->pending = std::make_unique<Impl::PendingSrv>();
  auto& pending = *impl_->pending;
  pending.result = SrvResolution{name, fail(ErrorKind::timeout, "SRV " + name + ": not asked before the deadline")};
  if (!impl_->setup_error.empty() || impl_->channel == nullptr) {
    pending.result.answer = fail(ErrorKind::dns, fmt::format("SRV {}: {}", name, impl_->setup_error));
    return;
  }
  pending.in_flight = 1;
  const std::string absolute = name.ends_with('.') ? name : name + ".";
  ares_query(impl_->channel, absolute.c_str(), 1 /* class IN */, 33 /* type SRV */, on_srv_result, &pending.query);
}

bool Resolver::srv_in_flight() const {
  return impl_->pending && impl_->pending->in_flight > 0;
}

std::optional<SrvResolution> Resolver::poll_srv(Deadline until) {
  if (!impl_->pending) return std::nullopt;
  drive(
      impl_->pending->in_flight, until, [] {}, AtDeadline::keep_waiting);
  if (impl_->pending->in_flight > 0) return std::nullopt;
  SrvResolution done = std::move(impl_->pending->result);
  impl_->pending.reset();
  return done;
}

void Resolver::drive(const int& in_flight, Deadline deadline, const std::function<void()>& submit_more,
                     AtDeadline at_deadline) {
  // Until every query has called back: c-ares may hold a query with no socket open (between
  // a refused UDP send and its retry, or while a TCP retry connects), so "no sockets" is not
  // "done". At the deadline, ares_cancel completes the rest (ARES_ECANCELLED) synchronously,
  // unless the caller keeps them in flight (their callbacks write into storage of the Impl).
  while (in_flight > 0) {
    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(impl_->channel, sockets, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events) fds.push_back(pollfd{sockets[i], events, 0});
    }
    // At least one pass, without waiting once the deadline has come: what has arrived is read.
    timeval max_wait{};
    auto remaining = deadline.remaining().count();
    max_wait.tv_sec = remaining / 1000;
    max_wait.tv_usec = static_cast<long>((remaining % 1000) * 1000);
    timeval wait{};
    ares_timeout(impl_->channel, &max_wait, &wait);
    int timeout_ms = static_cast<int>(wait.tv_sec * 1000 + wait.tv_usec / 1000);
    // ares_timeout says "now" pass after pass while a query over TCP waits for its answer
    // (c-ares 1.18; at 300 pods every bootstrap polled a thousand times a second, and the DNS
    // server they all waited for got no CPU). The sockets still wake the wait at once; only
    // timeouts and retries are handled up to least_wait late.
    const long long least_wait_ms = impl_->least_wait.count();
    if (timeout_ms < least_wait_ms && remaining > 0) {
      timeout_ms = static_cast<int>(std::min<long long>(least_wait_ms, remaining));
    }
    int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready <= 0) {
      ares_process_fd(impl_->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts and retries
    } else {
      for (const auto& pfd : fds) {
        ares_socket_t readable = (pfd.revents & (POLLIN | POLLERR | POLLHUP)) ? pfd.fd : ARES_SOCKET_BAD;
        ares_socket_t writable = (pfd.revents & POLLOUT) ? pfd.fd : ARES_SOCKET_BAD;
        if (readable != ARES_SOCKET_BAD || writable != ARES_SOCKET_BAD) {
          ares_process_fd(impl_->channel, readable, writable);
        }
      }
    }
    submit_more();
    if (in_flight > 0 && deadline.expired()) {
      if (at_deadline == AtDeadline::cancel) ares_cancel(impl_->channel);
      break;
    }
  }
}

}  // namespace rci::dns
