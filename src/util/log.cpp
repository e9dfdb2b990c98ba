// The only translation unit that includes spdlog: the rest of the code logs through
// rci/util/log.hpp. Text lines read `<time> <level> <message>`; JSON lines are one object
// per line with ts, level and msg, for log collectors.
#include "rci/util/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

namespace rci::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Formats each record as one JSON object; spdlog's pattern language cannot escape strings.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto since_epoch = msg.time.time_since_epoch();
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
    auto level = spdlog::level::to_string_view(msg.level);
    std::string line = fmt::format(R"({{"ts":{}.{:03d},"level":"{}","msg":"{}"}})", millis / 1000,
                                   static_cast<int>(millis % 1000), std::string_view(level.data(), level.size()),
                                   json_escape(std::string_view(msg.payload.data(), msg.payload.size())));
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void init(Format format, Level level) {
  auto logger = spdlog::stderr_logger_mt("redis-cluster-init");
  if (format == Format::json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  g_level = static_cast<int>(level);
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load();
}

void write(Level level, std::string_view message) {
  spdlog::default_logger_raw()->log(to_spdlog(level), "{}", message);
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace rci::log
