// observe/prober: connections kept between rounds, and closed once their address is no pod's.
// Real sockets on loopback: a listener stands in for the redis-servers, since a connection
// without a password sends nothing until a probe.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "rci/observe/prober.hpp"

using namespace rci;

namespace {

// A TCP listener on 0.0.0.0 and a free port: every 127.0.0.x address reaches it.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

size_t open_fds() {
  return static_cast<size_t>(
      std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator{}));
}

}  // namespace

TEST_CASE("the prober closes kept connections to addresses no pod has any more", "[prober]") {
  Listener listener;
  Options options;
  Prober prober(options);
  const size_t before = open_fds();
  auto at = [&](const char* ip) { return net::Endpoint{ip, listener.port()}; };

  for (const char* address : {"127.0.0.1", "127.0.0.2", "127.0.0.3"})
    REQUIRE(prober.connection(at(address), Deadline::after(Millis(2000))).has_value());
  CHECK(open_fds() == before + 3);

  // Kept: asking again reuses the connection.
  auto again = prober.connection(at("127.0.0.2"), Deadline::after(Millis(2000)));
  REQUIRE(again.has_value());
  CHECK(open_fds() == before + 3);
  again->reset();

  prober.keep_only({at("127.0.0.2")});
  CHECK(open_fds() == before + 1);
  prober.keep_only({});
  CHECK(open_fds() == before);
}
