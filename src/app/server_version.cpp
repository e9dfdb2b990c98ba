#include "rci/app/server_version.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "rci/util/text.hpp"

namespace rci {

std::optional<ServerVersion> parse_server_version(std::string_view text) {
  const size_t at = text.find(" v=");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 3);
  rest = rest.substr(0, rest.find_first_of(" \n"));
  const auto parts = text::split(rest, '.');
  if (parts.size() < 2) return std::nullopt;
  auto major = text::to_int(parts[0]);
  auto minor = text::to_int(parts[1]);
  if (!major || !minor || *major < 0 || *minor < 0 || *major > 999 || *minor > 999) return std::nullopt;
  return ServerVersion{static_cast<int>(*major), static_cast<int>(*minor)};
}

std::optional<ServerVersion> ask_server_version(const std::string& program, Millis budget) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    // The child: signals back to their defaults (the supervisor blocks its own), output to the pipe.
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDERR_FILENO);
    const char* argv[] = {program.c_str(), "--version", nullptr};
    ::execvp(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string output;
  const Deadline deadline = Deadline::after(budget);
  while (output.size() < 4096) {
    pollfd fd{pipe_fds[0], POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(deadline.remaining().count())) <= 0) break;
    char buffer[512];
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got <= 0) break;
    output.append(buffer, static_cast<size_t>(got));
  }
  ::close(pipe_fds[0]);
  ::kill(pid, SIGKILL);  // a no-op when it has exited, which it has unless it hung
  ::waitpid(pid, nullptr, 0);
  return parse_server_version(output);
}

}  // namespace rci
