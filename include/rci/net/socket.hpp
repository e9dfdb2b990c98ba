#pragma once
// A blocking TCP stream whose every operation is bounded by a deadline (poll underneath).
// The transport is separate from the Redis codec so TLS can be slotted in later.

#include <string>
#include <string_view>

#include "rci/util/clock.hpp"
#include "rci/util/error.hpp"

namespace rci::net {

// A numeric address and port; names are resolved beforehand (the cluster bus needs IPs).
struct Endpoint {
  std::string ip;
  int port = 0;
  // "ip:port", with brackets around IPv6 literals.
  std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

class Socket {
 public:
  Socket() = default;
  ~Socket();
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Connects to a numeric endpoint within the deadline.
  static Result<Socket> connect(const Endpoint& endpoint, Deadline deadline);
  // Starts a non-blocking connect; finish it with finish_connect() once the socket is
  // writable. Lets one thread connect to a hundred peers at once.
  static Result<Socket> start_connect(const Endpoint& endpoint);
  Result<void> finish_connect();

  // Sends all of `data` or fails.
  Result<void> send_all(std::string_view data, Deadline deadline);
  // Receives at least one byte into `buffer` (appended); fails on close or deadline.
  Result<void> receive_some(std::string& buffer, Deadline deadline);
  // Appends whatever has arrived (at most 256 KiB a call), without waiting; false when nothing
  // had. Bytes that came before the peer closed are returned first, the close on the next call.
  Result<bool> receive_available(std::string& buffer);

  int fd() const { return fd_; }
  const Endpoint& endpoint() const { return endpoint_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

 private:
  explicit Socket(int fd, Endpoint endpoint) : fd_(fd), endpoint_(std::move(endpoint)) {}
  int fd_ = -1;
  int held_errno_ = 0;  // receive_available: an error met after data, reported on the next call
  Endpoint endpoint_;
};

}  // namespace rci::net
