#include "rci/app/install.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace rci {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Closes a file descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::string> install_self(const std::string& dir) {
  const std::string target = (std::filesystem::path(dir) / "redis-cluster-init").lexically_normal().string();
  int source = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (source < 0) return fail(ErrorKind::io, fmt::format("/proc/self/exe: cannot open this binary: {}", errno_text()));
  FdCloser source_closer{source};

  // A new file of a name nobody can guess: never one planted there (a symbolic link, say).
  std::string temp = (std::filesystem::path(dir) / ".redis-cluster-init.XXXXXX").string();
  int out = ::mkostemp(temp.data(), O_CLOEXEC);
  if (out < 0) return fail(ErrorKind::io, fmt::format("{}: cannot write a file there: {}", dir, errno_text()));
  FdCloser out_closer{out};
  auto give_up = [&](std::string what) {
    ::unlink(temp.c_str());
    return fail(ErrorKind::io, std::move(what));
  };

  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(source, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return give_up(fmt::format("/proc/self/exe: read: {}", errno_text()));
    }
    for (ssize_t written = 0; written < n;) {
      ssize_t w = ::write(out, buffer + written, static_cast<size_t>(n - written));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return give_up(fmt::format("{}: write: {}", temp, errno_text()));
      written += w;
    }
  }
  // mkostemp creates the file 0600; the kubelet (and any user the container runs as) needs 0755.
  if (::fchmod(out, 0755) != 0) return give_up(fmt::format("{}: chmod: {}", temp, errno_text()));
  if (::fsync(out) != 0) return give_up(fmt::format("{}: fsync: {}", temp, errno_text()));
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    return give_up(fmt::format("{}: cannot rename into place: {}", target, errno_text()));
  }
  // The rename is durable once the directory is on disk too.
  int directory = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory < 0) return fail(ErrorKind::io, fmt::format("{}: cannot open to sync it: {}", dir, errno_text()));
  FdCloser directory_closer{directory};
  if (::fsync(directory) != 0) return fail(ErrorKind::io, fmt::format("{}: fsync: {}", dir, errno_text()));
  return target;
}

}  // namespace rci
