#include "rci/config/redis_conf.hpp"

#include <fmt/format.h>
#include <glob.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rci/util/text.hpp"

namespace rci::redis_conf {
namespace {

// As sdssplitargs: any isspace() character separates words and may follow a closing quote, but
// only these end a bare word (a \v or \f inside one is part of it).
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool ends_bare_word(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char unescape(char c) {
  switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

namespace fs = std::filesystem;

// The configuration as redis-server folds it: later lines win, `dir` moves the working
// directory at once (so later relative paths, includes too, start from there).
struct Folded {
  fs::path cwd;
  std::string cluster_config_file = "nodes.conf";
};

constexpr int max_include_depth = 16;

// `text` with glob's special characters escaped, so it matches only itself.
std::string glob_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Result<std::string> read_file(const fs::path& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(ErrorKind::config,
                fmt::format("{}: cannot read: {}", path.string(), errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<void> fold(const std::vector<Directive>& directives, Folded& folded, int depth) {
  for (const auto& directive : directives) {
    if (directive.args.empty()) continue;
    const std::string& value = directive.args.front();
    if (directive.name == "dir") {
      // As chdir resolves it: through symbolic links, so "link/.." is the link target's parent.
      std::error_code error;
      fs::path moved = fs::weakly_canonical(folded.cwd / value, error);
      folded.cwd = error ? (folded.cwd / value).lexically_normal() : moved;
    } else if (directive.name == "cluster-config-file") {
      folded.cluster_config_file = value;
    } else if (directive.name == "include") {
      if (depth >= max_include_depth) {
        return fail(ErrorKind::config,
                    fmt::format("{}: includes nest deeper than {}", directive.origin, max_include_depth));
      }
      // As Redis 7: a value with a wildcard is a glob pattern (matching nothing is fine),
      // anything else a file that must be readable.
      std::vector<std::string> files;
      if (value.find_first_of("*?[") == std::string::npos) {
        files.push_back((folded.cwd / value).string());
      } else {
        const std::string pattern =
            fs::path(value).is_absolute() ? value : glob_escape(folded.cwd.string()) + "/" + value;
        glob_t matches{};
        if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
          files.assign(matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
        }
        ::globfree(&matches);
      }
      // Redis reads every file a pattern matches into one text before it parses any of it: a
      // file without a final newline runs into the next one's first line.
      std::string text;
      for (const auto& file : files) {
        auto content = read_file(file);
        if (!content) {
          return fail(ErrorKind::config, fmt::format("{}: include: {}", directive.origin, content.error().message));
        }
        text += *content;
      }
      if (files.empty()) continue;
      const std::string source =
          files.size() == 1 ? files.front() : fmt::format("{} (and the files after it)", files.front());
      auto included = parse(text, source);
      if (!included) return std::unexpected(included.error());
      if (auto folded_in = fold(*included, folded, depth + 1); !folded_in) return folded_in;
    }
  }
  return {};
}

Result<void> fold_file(const fs::path& path, Folded& folded, int depth) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto directives = parse(*text, path.string());
  if (!directives) return std::unexpected(directives.error());
  return fold(*directives, folded, depth);
}

}  // namespace

Result<std::vector<std::string>> split_arguments(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && is_blank(line[i])) ++i;
    if (i >= n) return words;
    std::string word;
    enum class Quote { none, double_quote, single_quote } quote = Quote::none;
    while (true) {
      if (quote == Quote::double_quote) {
        if (i >= n) return fail(ErrorKind::config, "unbalanced double quote");
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
            hex_value(line[i + 3]) >= 0) {
          word += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
          i += 4;
        } else if (line[i] == '\\' && i + 1 < n) {
          word += unescape(line[i + 1]);
          i += 2;
        } else if (line[i] == '"') {
          if (i + 1 < n && !is_blank(line[i + 1])) return fail(ErrorKind::config, "a closing quote must end the word");
          ++i;
          break;
        } else {
          word += line[i++];
        }
      } else if (quote == Quote::single_quote) {
        if (i >= n) return fail(ErrorKind::config, "unbalanced single quote");
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          word += '\'';
          i += 2;
        } else if (line[i] == '\'') {
          if (i + 1 < n && !is_blank(line[i + 1])) return fail(ErrorKind::config, "a closing quote must end the word");
          ++i;
          break;
        } else {
          word += line[i++];
        }
      } else {
        if (i >= n || ends_bare_word(line[i])) break;
        if (line[i] == '"') {
          quote = Quote::double_quote;
        } else if (line[i] == '\'') {
          quote = Quote::single_quote;
        } else {
          word += line[i];
        }
        ++i;
      }
    }
    words.push_back(std::move(word));
  }
}

Result<std::vector<Directive>> parse(std::string_view text, const std::string& source) {
  std::vector<Directive> directives;
  int number = 0;
  for (std::string_view raw : text::split(text, '\n')) {
    ++number;
    std::string_view line = text::trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto words = split_arguments(line);
    if (!words) return fail(ErrorKind::config, fmt::format("{}:{}: {}", source, number, words.error().message));
    if (words->empty()) continue;
    Directive directive;
    directive.name = lower(words->front());
    directive.args.assign(words->begin() + 1, words->end());
    directive.origin = fmt::format("{}:{}", source, number);
    directives.push_back(std::move(directive));
  }
  return directives;
}

Result<std::vector<Directive>> from_arguments(const std::vector<std::string>& args) {
  std::vector<Directive> directives;
  // Whether the last option has a value; until it has, a `--word` is that value.
  bool last_option_complete = true;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (last_option_complete && arg.starts_with("--")) {
      // Redis pastes the option word into its config text as it is: a newline in it starts
      // another line, a directive of its own.
      const auto lines = text::split(std::string_view(arg).substr(2), '\n');
      for (size_t l = 0; l + 1 < lines.size(); ++l) {
        auto words = split_arguments(lines[l]);
        if (!words) return fail(ErrorKind::config, fmt::format("command line: {}: {}", arg, words.error().message));
        if (!words->empty())
          directives.push_back({lower(words->front()), {words->begin() + 1, words->end()}, "command line"});
      }
      // The rest is split as a line, so "--dir /data" as one argument is dir /data.
      auto words = split_arguments(lines.back());
      if (!words) return fail(ErrorKind::config, fmt::format("command line: {}: {}", arg, words.error().message));
      if (words->empty()) continue;
      Directive directive{lower(words->front()), {words->begin() + 1, words->end()}, "command line"};
      // Whether a value follows is judged, as Redis does, on the whole argument (a newline is
      // just a blank there): "--a b\nc" has its value.
      auto whole = split_arguments(std::string_view(arg).substr(2));
      last_option_complete = whole && whole->size() > 1;
      // `--save` alone, last or followed by another option, means save "".
      if (!last_option_complete && directive.name == "save" &&
          (i + 1 == args.size() || args[i + 1].starts_with("--"))) {
        directive.args.emplace_back();
        last_option_complete = true;
      }
      directives.push_back(std::move(directive));
    } else if (!directives.empty()) {
      directives.back().args.push_back(arg);
      last_option_complete = true;
    }
  }
  return directives;
}

namespace {

// Servers whose configuration this reads like Redis's: Valkey keeps Redis's file format, options
// and defaults.
bool is_server_program(const std::string& word) {
  const auto name = fs::path(word).filename();
  return name == "redis-server" || name == "valkey-server";
}

}  // namespace

Result<std::string> locate_nodes_conf(const std::vector<std::string>& full_command, const std::string& cwd) {
  // The server may come after a wrapper that passes its arguments on (tini --, an entrypoint
  // script taking the server command): its own arguments are the words after its name.
  const auto program = std::find_if(full_command.begin(), full_command.end(), is_server_program);
  if (program == full_command.end()) {
    return fail(ErrorKind::config, fmt::format("the server command {} names neither redis-server nor valkey-server",
                                               full_command.empty() ? "(none)" : text::join(full_command, " ")));
  }
  const std::vector<std::string> server_command(program, full_command.end());
  Folded folded;
  folded.cwd = cwd;
  size_t options_start = 1;
  if (server_command.size() > 1 && !server_command[1].starts_with("-")) {
    if (auto loaded = fold_file(fs::path(cwd) / server_command[1], folded, 0); !loaded) {
      return std::unexpected(loaded.error());
    }
    options_start = 2;
  }
  if (server_command.size() > 1 && (server_command[1] == "-" || server_command.back() == "-")) {
    return fail(ErrorKind::config, fmt::format("{} reads its configuration from stdin", server_command.front()));
  }
  std::vector<std::string> options(server_command.begin() + static_cast<std::ptrdiff_t>(options_start),
                                   server_command.end());
  auto directives = from_arguments(options);
  if (!directives) return std::unexpected(directives.error());
  if (auto applied = fold(*directives, folded, 0); !applied) return std::unexpected(applied.error());
  return (folded.cwd / folded.cluster_config_file).lexically_normal().string();
}

}  // namespace rci::redis_conf
