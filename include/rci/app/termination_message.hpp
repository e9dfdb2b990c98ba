#pragma once
// Why this process gives up, where `kubectl describe pod` shows it: Kubernetes reads the file
// at the container's terminationMessagePath (/dev/termination-log unless the pod spec says
// otherwise) when the container ends, and shows it as the reason it ended.

#include <string>
#include <vector>

#include "rci/config/options.hpp"

namespace rci {

// Kubernetes keeps at most this many bytes of a container's termination message.
inline constexpr size_t termination_message_limit = 4096;

// `lines` joined by newlines, cut at a line boundary to fit `limit` bytes, with a last line
// saying how many lines were left out. A first line longer than the limit is cut short.
std::string termination_message(const std::vector<std::string>& lines, size_t limit = termination_message_limit);

// Logs each of `lines` as an error, then writes them to --termination-log. The default path is
// skipped quietly where it cannot be written (outside Kubernetes it does not exist); a path the
// user gave is warned about. The lines must hold no secret: they go to the log as well.
void give_up_with(const Options& options, const std::vector<std::string>& lines);

}  // namespace rci
