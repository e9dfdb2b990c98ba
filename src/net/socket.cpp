#include "rci/net/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace rci::net {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Waits until `fd` is ready for `events` or the deadline passes.
Result<void> wait_for(int fd, short events, Deadline deadline, const Endpoint& endpoint, std::string_view doing) {
  while (true) {
    pollfd pfd{fd, events, 0};
    int timeout_ms = static_cast<int>(deadline.remaining().count());
    int rc = ::poll(&pfd, 1, timeout_ms);
    if (rc > 0) return {};
    if (rc == 0) {
      return fail(ErrorKind::timeout, fmt::format("{}: timed out {}", endpoint.to_string(), doing));
    }
    if (errno != EINTR) {
      return fail(ErrorKind::io, fmt::format("{}: poll: {}", endpoint.to_string(), errno_text(errno)));
    }
  }
}

}  // namespace

std::string Endpoint::to_string() const {
  if (ip.find(':') != std::string::npos) return fmt::format("[{}]:{}", ip, port);
  return fmt::format("{}:{}", ip, port);
}

Socket::~Socket() {
  close();
}

Socket::Socket(Socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      held_errno_(std::exchange(other.held_errno_, 0)),
      endpoint_(std::move(other.endpoint_)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    held_errno_ = std::exchange(other.held_errno_, 0);
    endpoint_ = std::move(other.endpoint_);
  }
  return *this;
}

void Socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<Socket> Socket::start_connect(const Endpoint& endpoint) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (endpoint.ip.find(':') != std::string::npos) {
    auto* addr6 = reinterpret_cast<sockaddr_in6*>(&storage);
    family = addr6->sin6_family = AF_INET6;
    addr6->sin6_port = htons(static_cast<uint16_t>(endpoint.port));
    if (inet_pton(AF_INET6, endpoint.ip.c_str(), &addr6->sin6_addr) != 1) {
      return fail(ErrorKind::io, fmt::format("{}: not a numeric IPv6 address", endpoint.to_string()));
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* addr4 = reinterpret_cast<sockaddr_in*>(&storage);
    addr4->sin_family = AF_INET;
    addr4->sin_port = htons(static_cast<uint16_t>(endpoint.port));
    if (inet_pton(AF_INET, endpoint.ip.c_str(), &addr4->sin_addr) != 1) {
      return fail(ErrorKind::io, fmt::format("{}: not a numeric IPv4 address", endpoint.to_string()));
    }
    length = sizeof(sockaddr_in);
  }

  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorKind::io, fmt::format("{}: socket: {}", endpoint.to_string(), errno_text(errno)));
  Socket socket(fd, endpoint);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 && errno != EINPROGRESS) {
    return fail(ErrorKind::io, fmt::format("{}: connect: {}", endpoint.to_string(), errno_text(errno)));
  }
  return socket;
}

Result<void> Socket::finish_connect() {
  int err = 0;
  socklen_t err_len = sizeof(err);
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_len);
  if (err != 0) {
    close();
    return fail(ErrorKind::io, fmt::format("{}: connect: {}", endpoint_.to_string(), errno_text(err)));
  }
  return {};
}

Result<Socket> Socket::connect(const Endpoint& endpoint, Deadline deadline) {
  auto socket = start_connect(endpoint);
  if (!socket) return socket;
  if (auto ready = wait_for(socket->fd_, POLLOUT, deadline, endpoint, "connecting"); !ready) {
    return std::unexpected(ready.error());
  }
  if (auto connected = socket->finish_connect(); !connected) return std::unexpected(connected.error());
  return socket;
}

Result<void> Socket::send_all(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (auto ready = wait_for(fd_, POLLOUT, deadline, endpoint_, "sending"); !ready) return ready;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    int err = errno;
    close();
    return fail(ErrorKind::io, fmt::format("{}: send: {}", endpoint_.to_string(), errno_text(err)));
  }
  return {};
}

Result<bool> Socket::receive_available(std::string& buffer) {
  // At most this much per call, so that a peer that never stops sending cannot keep the
  // caller (one poll loop for every peer) from its deadlines.
  constexpr size_t max_per_call = 256 * 1024;
  char chunk[16384];
  bool got = false;
  while (buffer.size() < max_per_call) {
    // An error the previous call met after data (recv reports it only once) comes now.
    const int held = std::exchange(held_errno_, 0);
    ssize_t n = held != 0 ? (errno = held, -1) : ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      got = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return got;
    // What came before a close or a reset first (a server that refuses a client says why,
    // then closes); the next call reports the end.
    if (got) {
      if (n < 0) held_errno_ = errno;
      return true;
    }
    if (n == 0) {
      close();
      return fail(ErrorKind::closed, fmt::format("{}: connection closed by the server", endpoint_.to_string()));
    }
    int err = errno;
    close();
    return fail(ErrorKind::io, fmt::format("{}: recv: {}", endpoint_.to_string(), errno_text(err)));
  }
  return got;
}

Result<void> Socket::receive_some(std::string& buffer, Deadline deadline) {
  char chunk[16384];
  while (true) {
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      return {};
    }
    if (n == 0) {
      close();
      return fail(ErrorKind::closed, fmt::format("{}: connection closed by the server", endpoint_.to_string()));
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto ready = wait_for(fd_, POLLIN, deadline, endpoint_, "waiting for a reply"); !ready) return ready;
      continue;
    }
    if (errno == EINTR) continue;
    int err = errno;
    close();
    return fail(ErrorKind::io, fmt::format("{}: recv: {}", endpoint_.to_string(), errno_text(err)));
  }
}

}  // namespace rci::net
