#pragma once
// Real servers for the unit tests of the I/O seams (resolver, actor): dnsmasq and redis-server
// started in a scratch directory on 127.0.0.1 and a free port, stopped when the test ends. A
// test whose server is not installed says so and passes nothing off as tested (see available).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace rci::test {

// A port free on 127.0.0.1 for TCP and UDP right now.
inline int free_port() {
  for (;;) {
    int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(tcp, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(tcp, reinterpret_cast<sockaddr*>(&address), &length);
    int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    const bool udp_free = ::bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(udp);
    ::close(tcp);
    if (udp_free) return ntohs(address.sin_port);
  }
}

// A port free on 127.0.0.1 whose cluster bus port (port + 10000) is free too, as a
// cluster-enabled redis-server needs (an ephemeral port above 55535 has no bus port).
inline int free_redis_port() {
  auto bindable = [](int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
  };
  for (int port = 20000 + static_cast<int>(::getpid() % 20000);; port = 20000 + (port - 20000 + 7919) % 30000) {
    if (bindable(port) && bindable(port + 10000)) return port;
  }
}

// A socket of `type` (SOCK_STREAM: listening) bound to 127.0.0.1 and a free port.
struct LoopbackSocket {
  int fd = -1;
  int port = 0;
};
inline LoopbackSocket loopback_socket(int type) {
  LoopbackSocket socket{::socket(AF_INET, type | SOCK_CLOEXEC, 0), 0};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(socket.fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  if (type == SOCK_STREAM) ::listen(socket.fd, 16);
  socklen_t length = sizeof address;
  ::getsockname(socket.fd, reinterpret_cast<sockaddr*>(&address), &length);
  socket.port = ntohs(address.sin_port);
  return socket;
}

// Whether `program` is on PATH.
inline bool available(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// A child process in a scratch directory; SIGKILLed and reaped, the directory removed, at the end.
class ScratchProcess {
 public:
  explicit ScratchProcess(const std::string& label) {
    std::string pattern = (std::filesystem::temp_directory_path() / ("rci-unit-" + label + "-XXXXXX")).string();
    dir_ = ::mkdtemp(pattern.data());
  }
  ~ScratchProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ScratchProcess(const ScratchProcess&) = delete;
  ScratchProcess& operator=(const ScratchProcess&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }

  void start(std::vector<std::string> argv) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> c_argv;
      for (auto& arg : argv) c_argv.push_back(arg.data());
      c_argv.push_back(nullptr);
      std::freopen("/dev/null", "w", stdout);
      std::freopen((dir_ / "stderr").c_str(), "w", stderr);
      ::execvp(c_argv[0], c_argv.data());
      ::_exit(127);
    }
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

// Waits until `ready` holds, polling every 10 ms, for at most 5 s.
template <typename Predicate>
bool eventually(Predicate ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace rci::test
