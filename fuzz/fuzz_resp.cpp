// RESP replies through the connection's bounded reader, over a real TCP connection on
// loopback: each input is what a server sends back to a pipeline of three commands, then it
// closes. The connection must end with replies or an error, within its budget, whatever came.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "rci/redis/connection.hpp"

namespace {

// A listener on 127.0.0.1 and a free port, made once.
struct Listener {
  int fd = -1;
  rci::net::Endpoint endpoint;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      std::abort();
    }
    endpoint = {"127.0.0.1", ntohs(address.sin_port)};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Listener listener;
  rci::redis::ConnectionSettings settings;
  settings.timeouts = {.connect = rci::Millis(1000), .command = rci::Millis(1000)};
  auto connection = rci::redis::Connection::open(listener.endpoint, settings, "");
  if (!connection) std::abort();
  const int server = ::accept(listener.fd, nullptr, nullptr);
  if (server < 0) std::abort();
  // The whole input at once (loopback buffers take far more than the fuzzer's inputs), then
  // the end of the stream; the server's side stays open for reading, so the commands the
  // connection writes are taken and no reset discards what it has not read yet.
  for (std::size_t sent = 0; sent < size;) {
    const ssize_t n = ::write(server, data + sent, size - sent);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(server, SHUT_WR);
  auto replies = connection->pipeline({{"PING"}, {"CLUSTER", "NODES"}, {"INFO", "replication"}});
  ::close(server);
  if (replies && replies->size() != 3) std::abort();
  return 0;
}
