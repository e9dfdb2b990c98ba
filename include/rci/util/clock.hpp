#pragma once
// Deadlines and the pacing of waits.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace rci {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// A point in time after which an operation gives up.
class Deadline {
 public:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline after(Millis budget) { return Deadline(Clock::now() + budget); }

  bool expired() const { return Clock::now() >= at_; }
  // Time left, never negative.
  Millis remaining() const { return std::max(Millis(0), std::chrono::duration_cast<Millis>(at_ - Clock::now())); }
  // The tighter of this deadline and `budget` from now.
  Deadline capped(Millis budget) const { return Deadline(std::min(at_, Clock::now() + budget)); }
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

// Exponential backoff for polling: starts fast so an event is seen within tens of
// milliseconds, and slows down so a long wait does not load the servers.
class Backoff {
 public:
  Backoff(Millis first, Millis max) : first_(first), max_(max), next_(first) {}
  Millis next() {
    Millis current = next_;
    next_ = std::min(max_, Millis(next_.count() * 3 / 2 + 1));
    return current;
  }
  void reset() { next_ = first_; }

 private:
  Millis first_;
  Millis max_;
  Millis next_;
};

// Sleeps for `time`, or less when `stop` is requested first; false when it was.
inline bool sleep_unless_stopped(Millis time, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any woken;
  std::unique_lock lock(mutex);
  woken.wait_for(lock, stop, time, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace rci
