#include "rci/app/termination_message.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rci/util/log.hpp"

namespace rci {

std::string termination_message(const std::vector<std::string>& lines, size_t limit) {
  std::string message;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string more = fmt::format("... and {} more lines in the container's log", lines.size() - i);
    const bool last = i + 1 == lines.size();
    // Room for this line and, unless it is the last, for the note that may have to follow it.
    const size_t needed = message.size() + lines[i].size() + 1 + (last ? 0 : more.size() + 1);
    if (needed > limit) {
      if (i == 0) return lines[0].substr(0, limit);
      return message + more + "\n";
    }
    message += lines[i] + "\n";
  }
  return message;
}

namespace {

void write_message(const Options& options, const std::string& message) {
  const std::string& path = options.termination_log;
  if (path.empty()) return;
  // The kubelet creates the default file for every container; where it does not exist, this
  // is no Kubernetes container, and creating it (in /dev, as root) would only leave litter.
  const int create = options.termination_log_given ? O_CREAT : 0;
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | create, 0644);
  if (fd < 0) {
    const std::string why = std::strerror(errno);
    if (options.termination_log_given) {
      log::warn("--termination-log {}: cannot write the termination message: {}", path, why);
    } else {
      log::debug("{} cannot be opened ({}): no termination message (not in Kubernetes?)", path, why);
    }
    return;
  }
  size_t written = 0;
  while (written < message.size()) {
    const ssize_t n = ::write(fd, message.data() + written, message.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      log::warn("{}: cannot write the termination message: {}", path, std::strerror(errno));
      break;
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace

void give_up_with(const Options& options, const std::vector<std::string>& lines) {
  for (const auto& line : lines) log::error("{}", line);
  write_message(options, termination_message(lines));
}

}  // namespace rci
