#include "rci/net/transport.hpp"

#include <arpa/inet.h>
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

short Interest::poll_events() const {
  return static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
}

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// The socket address of a numeric endpoint.
Result<std::pair<sockaddr_storage, socklen_t>> socket_address(const Endpoint& endpoint) {
  sockaddr_storage storage{};
  if (endpoint.family() == Family::ipv6) {
    auto* addr6 = reinterpret_cast<sockaddr_in6*>(&storage);
    addr6->sin6_family = AF_INET6;
    addr6->sin6_port = htons(static_cast<uint16_t>(endpoint.port));
    if (inet_pton(AF_INET6, endpoint.ip.c_str(), &addr6->sin6_addr) != 1) {
      return fail(ErrorKind::io, fmt::format("{}: not a numeric IPv6 address", endpoint.to_string()));
    }
    return std::pair{storage, socklen_t{sizeof(sockaddr_in6)}};
  }
  auto* addr4 = reinterpret_cast<sockaddr_in*>(&storage);
  addr4->sin_family = AF_INET;
  addr4->sin_port = htons(static_cast<uint16_t>(endpoint.port));
  if (inet_pton(AF_INET, endpoint.ip.c_str(), &addr4->sin_addr) != 1) {
    return fail(ErrorKind::io, fmt::format("{}: not a numeric IPv4 address", endpoint.to_string()));
  }
  return std::pair{storage, socklen_t{sizeof(sockaddr_in)}};
}

class TcpTransport final : public Transport {
 public:
  TcpTransport(int fd, Endpoint endpoint) : fd_(fd), endpoint_(std::move(endpoint)) {}
  ~TcpTransport() override { close(); }
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  Result<bool> advance_handshake() override {
    if (connected_) return true;
    // The connect is done once the socket is writable; SO_ERROR then says how it ended.
    pollfd pfd{fd_, POLLOUT, 0};
    if (::poll(&pfd, 1, 0) <= 0) return false;
    int err = 0;
    socklen_t err_len = sizeof(err);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) return fail_with(ErrorKind::io, "connect", err);
    connected_ = true;
    return true;
  }

  Interest handshake_interest() const override { return {.read = false, .write = !connected_}; }

  Result<size_t> write_some(std::string_view data) override {
    while (true) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
      return fail_with(ErrorKind::io, "send", errno);
    }
  }

  Result<bool> read_available(std::string& buffer) override {
    char chunk[16384];
    bool got = false;
    size_t taken = 0;
    while (taken < max_read_per_call) {
      // An error the previous call met after data (recv reports it only once) comes now.
      const int held = std::exchange(held_errno_, 0);
      ssize_t n = held != 0 ? (errno = held, -1) : ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
      if (n > 0) {
        buffer.append(chunk, static_cast<size_t>(n));
        taken += static_cast<size_t>(n);
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
      return fail_with(ErrorKind::io, "recv", errno);
    }
    return got;
  }

  bool holds_input() const override { return false; }
  int fd() const override { return fd_; }
  const Endpoint& endpoint() const override { return endpoint_; }
  bool is_open() const override { return fd_ >= 0; }
  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  // Closes the stream and says which call failed and why.
  std::unexpected<Error> fail_with(ErrorKind kind, std::string_view call, int err) {
    close();
    return fail(kind, fmt::format("{}: {}: {}", endpoint_.to_string(), call, errno_text(err)));
  }

  int fd_ = -1;
  Endpoint endpoint_;
  bool connected_ = false;
  int held_errno_ = 0;  // an error met after data, reported on the next call
};

}  // namespace

Result<std::unique_ptr<Transport>> start_tcp(const Endpoint& endpoint) {
  auto address = socket_address(endpoint);
  if (!address) return std::unexpected(address.error());
  auto& [storage, length] = *address;
  int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorKind::io, fmt::format("{}: socket: {}", endpoint.to_string(), errno_text(errno)));
  auto transport = std::make_unique<TcpTransport>(fd, endpoint);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 && errno != EINPROGRESS) {
    const int err = errno;
    return fail(ErrorKind::io, fmt::format("{}: connect: {}", endpoint.to_string(), errno_text(err)));
  }
  return transport;
}

}  // namespace rci::net
