#include "rci/app/supervisor.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "rci/app/handover.hpp"
#include "rci/app/reconciler.hpp"
#include "rci/app/server_version.hpp"
#include "rci/app/start_guard.hpp"
#include "rci/app/termination_message.hpp"
#include "rci/redis/connection.hpp"
#include "rci/topology.hpp"
#include "rci/util/clock.hpp"
#include "rci/util/error.hpp"
#include "rci/util/log.hpp"

namespace rci {
namespace {

// redis.conf string syntax: double quotes, with backslash escapes for quotes and backslashes.
std::string quote_config_value(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// A private directory (0700) holding the credentials include file (0600), so the password
// reaches redis-server without ever being on an argv.
struct AuthInclude {
  std::string dir;
  std::string file;
  void remove() {
    if (!file.empty()) ::unlink(file.c_str());
    if (!dir.empty()) ::rmdir(dir.c_str());
    file.clear();
    dir.clear();
  }
  ~AuthInclude() { remove(); }
};

Result<void> write_auth_include(const Credentials& credentials, AuthInclude& include) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/redis-cluster-init.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return fail(ErrorKind::io, fmt::format("{}: cannot create a private directory: {}", pattern, std::strerror(errno)));
  }
  include.dir = pattern;
  include.file = include.dir + "/auth.conf";
  int fd = ::open(include.file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorKind::io, fmt::format("{}: cannot create: {}", include.file, std::strerror(errno)));
  std::string text = auth_include_text(credentials);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) return fail(ErrorKind::io, fmt::format("{}: cannot write", include.file));
  return {};
}

// The exit code of a child as a shell would give it.
int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return exit_code::failed;
}

// Bootstrap once, then keep reconciling every interval (jittered by +-20% so a hundred pods do
// not poll the cluster in step), until `stop` (run is shutting down). Runs on its own thread;
// talks to the main loop by SIGUSR1.
void reconcile_forever(Options options, std::atomic<bool>& give_up, std::stop_token stop) {
  ReconcileResult first = reconcile(options, ReconcileMode::bootstrap, stop);
  if (first.stopped || stop.stop_requested()) return;
  if (!first.converged) {
    std::vector<std::string> lines = {fmt::format("bootstrap did not converge: {}", first.last_plan.situation)};
    for (const auto& line : first.last_plan.waiting_for) lines.push_back("  missing: " + line);
    if (options.on_bootstrap_failure == OnBootstrapFailure::exit) {
      lines.push_back("--on-bootstrap-failure exit: stopping redis-server");
      give_up_with(options, lines);
      give_up = true;
      ::kill(::getpid(), SIGUSR1);
      return;
    }
    for (const auto& line : lines) log::error("{}", line);
    log::warn("--on-bootstrap-failure keep-running: serving anyway and reconciling every {} s",
              options.reconcile_interval.count());
  }
  std::mt19937 random(static_cast<unsigned>(::getpid()) ^
                      static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  Options pass = options;
  pass.timeout = std::min(options.reconcile_interval, std::chrono::seconds(60));
  bool converged = first.converged;
  while (true) {
    const auto wait = std::chrono::duration<double, std::milli>(options.reconcile_interval) * jitter(random);
    if (!sleep_unless_stopped(std::chrono::duration_cast<Millis>(wait), stop)) return;
    const ReconcileMode mode = converged ? ReconcileMode::maintenance : ReconcileMode::catch_up;
    ReconcileResult result = reconcile(pass, mode, stop);
    if (result.stopped) return;
    if (result.converged && !converged) log::info("converged in a periodic pass: {}", result.last_plan.situation);
    converged = converged || result.converged;
    if (!result.converged) {
      log::warn(
          "{} did not converge: {}",
          mode == ReconcileMode::maintenance ? "maintenance pass" : "periodic pass (not converged since the start)",
          result.last_plan.situation);
      for (const auto& line : result.last_plan.waiting_for) log::warn("  missing: {}", line);
    }
  }
}

// Makes the local redis-server read its TLS files again: a CONFIG SET of tls-cert-file, even
// to the path it has, has Redis load the certificate, the key and the CA anew.
Result<void> reload_server_tls(const Options& options) {
  const Deadline deadline = Deadline::after(options.connect_timeout + options.command_timeout);
  auto connection = redis::Connection::open({options.pod_ip, options.port}, redis::connection_settings(options),
                                            own_fqdn(options), deadline);
  if (!connection) return std::unexpected(connection.error());
  auto reply = connection->command({"CONFIG", "SET", "tls-cert-file", options.tls_files.cert_file}, deadline);
  if (!reply) return std::unexpected(reply.error());
  return {};
}

// cert-manager renews certificates in place (the Secret's files change under the mount).
// Every --tls-reload-interval the files are read; when they changed and load, new connections
// use them and redis-server reloads its own; when they do not load (a key that is not the
// certificate's, a file half written), the current ones stay, and it says why.
void reload_tls_when_renewed(const Options& options, std::stop_token stop) {
  std::string seen = net::tls_files_fingerprint(options.tls_files);
  while (sleep_unless_stopped(std::chrono::duration_cast<Millis>(options.tls_reload_interval), stop)) {
    const std::string now = net::tls_files_fingerprint(options.tls_files);
    if (now == seen) continue;
    seen = now;
    auto loaded = net::TlsContext::load(options.tls_files);
    if (!loaded) {
      log::error("the TLS files changed but do not load ({}): keeping the current certificate", loaded.error().message);
      continue;
    }
    options.tls_context->replace(*loaded);
    const auto& context = **loaded;
    if (auto reloaded = reload_server_tls(options); !reloaded) {
      log::error("loaded the renewed certificate {} (valid until {}), but redis-server did not reload it: {}",
                 context.subject(), net::utc_text(context.not_after()), reloaded.error().message);
      continue;
    }
    log::info("TLS: loaded the renewed certificate {} (valid until {}); redis-server reloaded its files",
              context.subject(), net::utc_text(context.not_after()));
  }
}

// The file that tells `probe readiness` a handover runs, for as long as this object lives.
class HandoverMarker {
 public:
  explicit HandoverMarker(std::string path) : path_(std::move(path)) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      log::warn("{}: cannot create the handover marker ({}): readiness stays as redis-server reports it", path_,
                std::strerror(errno));
      return;
    }
    const std::string text = "redis-cluster-init run: handing this node's slots over before it stops\n";
    [[maybe_unused]] auto written = ::write(fd, text.data(), text.size());
    ::close(fd);
  }
  ~HandoverMarker() { ::unlink(path_.c_str()); }
  HandoverMarker(const HandoverMarker&) = delete;
  HandoverMarker& operator=(const HandoverMarker&) = delete;

 private:
  std::string path_;
};

void log_handover(const HandoverResult& result) {
  switch (result.outcome) {
    case HandoverOutcome::handed_over: log::info("handover done: {}", result.detail); break;
    case HandoverOutcome::not_needed: log::info("no handover: {}", result.detail); break;
    case HandoverOutcome::cut_short: log::info("handover cut short: {}", result.detail); break;
    case HandoverOutcome::not_possible:
    case HandoverOutcome::timed_out:
      log::warn(
          "no handover ({}): {}; redis-server stops as a master, and Redis fails its slots over once it "
          "notices (cluster-node-timeout)",
          to_string(result.outcome), result.detail);
      break;
  }
}

// The handover thread's body: hands over, then tells the main loop (SIGUSR1) that it may
// forward the stop signal, whatever happened (an exception included).
void hand_over_then_signal(const Options& options, std::stop_token stop, std::atomic<bool>& ended) {
  struct SignalsItsEnd {
    std::atomic<bool>& ended;
    ~SignalsItsEnd() {
      ended = true;
      ::kill(::getpid(), SIGUSR1);
    }
  } signals_its_end{ended};
  HandoverMarker marker(handover_marker_path(options.port));
  log_handover(hand_over(options, stop));
}

// Runs `body` on a detached thread that never ends the process: `run` is PID 1, and an
// exception escaping a thread would terminate it, killing redis-server without a save. A
// failed pass is logged and, for the reconciling thread, tried again after `retry_after`.
template <typename Body>
void start_guarded_thread(const char* what, Millis retry_after, Body body) {
  std::thread([what, retry_after, body = std::move(body)]() mutable {
    const char* then = retry_after.count() > 0 ? "trying again later" : "giving up on it, redis-server keeps running";
    while (true) {
      try {
        body();
        return;
      } catch (const std::exception& e) {
        log::error("{}: unexpected failure: {}; {}", what, e.what(), then);
      } catch (...) {
        log::error("{}: unexpected failure; {}", what, then);
      }
      if (retry_after.count() == 0) return;
      std::this_thread::sleep_for(retry_after);
    }
  }).detach();
}

bool is_stop_signal(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
}

timespec to_timespec(Millis time) {
  return timespec{static_cast<time_t>(time.count() / 1000), static_cast<long>(time.count() % 1000) * 1000000L};
}

// Waits up to `time` for a signal in `handled`; false when it is a request to stop (its number
// left in `stop_signal`). Before redis-server exists, SIGCHLD can only be an orphan of the
// container (this is PID 1): reaped at once. SIGHUP and SIGUSR1 mean nothing yet. Whatever
// is pending is taken, even with a zero `time`.
bool pause_unless_stopped(const sigset_t& handled, Millis time, int& stop_signal) {
  const Deadline deadline = Deadline::after(time);
  while (true) {
    const timespec wait = to_timespec(deadline.remaining());
    const int sig = ::sigtimedwait(&handled, nullptr, &wait);
    if (is_stop_signal(sig)) {
      stop_signal = sig;
      return false;
    }
    if (sig == SIGCHLD) {
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
    if (sig < 0 && errno == EAGAIN) return true;  // the time is up and nothing is pending
  }
}

// Once redis-server accepts connections it has read its configuration, the credentials
// include among it: the file is removed then, so it lives for a moment instead of as long as
// the pod (and is not left behind if this process is killed). Runs on a thread of its own,
// beside the bootstrap; after `budget` it says it gives up (the file goes when `run` exits).
void remove_credentials_once_read(const Options& options, const std::string& dir, const std::string& file,
                                  Millis budget) {
  const Deadline deadline = Deadline::after(budget);
  Backoff backoff(Millis(20), Millis(500));
  // A connection without AUTH: the server accepting it is all this asks.
  // Plain TCP even under TLS: a server accepting the connection is all this asks.
  const redis::ConnectionSettings connect_only{
      .credentials = {}, .timeouts = {.connect = options.connect_timeout}, .tls = nullptr};
  while (!deadline.expired()) {
    if (redis::Connection::open({options.pod_ip, options.port}, connect_only, {}, deadline)) {
      ::unlink(file.c_str());
      ::rmdir(dir.c_str());
      log::debug("redis-server has read its configuration: removed {}", file);
      return;
    }
    std::this_thread::sleep_for(std::min(backoff.next(), deadline.remaining()));
  }
  log::warn("redis-server does not accept connections at {}:{} after {} s: {} stays until run exits", options.pod_ip,
            options.port, std::chrono::duration_cast<std::chrono::seconds>(budget).count(), file);
}

// Why the child could not be started.
struct StartFailure {
  bool cannot_execute = false;  // the server command is missing or not executable (exit 127)
  std::string message;
};

// Starts `argv` as a child with the signal mask `child_mask`. A failed exec is reported here,
// with its reason, rather than seen later as a child exiting 127: the child writes its errno
// to a close-on-exec pipe, which a successful exec closes empty.
std::expected<pid_t, StartFailure> start_child(const std::vector<std::string>& argv, const sigset_t& child_mask) {
  std::vector<char*> c_argv;
  for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  int exec_status[2];
  if (::pipe2(exec_status, O_CLOEXEC) != 0) {
    return std::unexpected(StartFailure{false, fmt::format("pipe: {}", std::strerror(errno))});
  }
  pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    ::close(exec_status[0]);
    ::close(exec_status[1]);
    return std::unexpected(StartFailure{false, fmt::format("fork: {}", std::strerror(error))});
  }
  if (child == 0) {
    ::close(exec_status[0]);
    pthread_sigmask(SIG_SETMASK, &child_mask, nullptr);
    // This process ignores SIGPIPE (main); an ignored signal stays ignored across exec, and the
    // server command (a wrapper script, say) must get the default. (sigaction: safe after fork.)
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &default_action, nullptr);
    // redis-server gets the password from the include file only, not from its environment.
    ::unsetenv("REDIS_PASSWORD");
    ::unsetenv("REDISCLI_AUTH");
    ::execvp(c_argv[0], c_argv.data());
    const int error = errno;
    [[maybe_unused]] auto written = ::write(exec_status[1], &error, sizeof error);
    std::_Exit(127);
  }
  ::close(exec_status[1]);
  int error = 0;
  ssize_t got;
  do {
    got = ::read(exec_status[0], &error, sizeof error);
  } while (got < 0 && errno == EINTR);
  ::close(exec_status[0]);
  if (got == sizeof error) {
    ::waitpid(child, nullptr, 0);
    return std::unexpected(
        StartFailure{true, fmt::format("{}: cannot execute: {}", argv.front(), std::strerror(error))});
  }
  return child;
}

}  // namespace

std::string auth_include_text(const Credentials& credentials) {
  std::string text = "# written by redis-cluster-init run; removed when it exits\n";
  text += "requirepass " + quote_config_value(credentials.password) + "\n";
  text += "masterauth " + quote_config_value(credentials.password) + "\n";
  if (!credentials.user.empty()) text += "masteruser " + quote_config_value(credentials.user) + "\n";
  return text;
}

std::vector<std::string> redis_server_argv(const Options& options, const std::string& include_file,
                                           HostnameSetting hostname) {
  std::vector<std::string> argv = options.server_command;
  // redis-server reads its configuration from stdin only when '-' is its last argument (or its
  // first), so ours go in front of a trailing '-'.
  const bool config_from_stdin = argv.size() > 2 && argv.back() == "-";
  if (config_from_stdin) argv.pop_back();
  auto add = [&](const char* name, const std::string& value) {
    argv.push_back(std::string("--") + name);
    argv.push_back(value);
  };
  // A daemonizing redis-server would leave its child behind and exit 0 at once: `run` would
  // take that for the server's exit (Debian's stock redis.conf says `daemonize yes`).
  add("daemonize", "no");
  add("cluster-enabled", "yes");
  if (options.tls) {
    // TLS: clients, the cluster bus and replication, with this pod's certificate (which the
    // server also presents to its peers as a client) and the CA; plaintext clients only on a
    // port the user asked for.
    add("port", std::to_string(options.plaintext_port));
    add("tls-port", std::to_string(options.port));
    add("tls-cluster", "yes");
    add("tls-replication", "yes");
    add("tls-cert-file", options.tls_files.cert_file);
    add("tls-key-file", options.tls_files.key_file);
    if (!options.tls_files.ca_cert_file.empty()) add("tls-ca-cert-file", options.tls_files.ca_cert_file);
    if (!options.tls_files.ca_cert_dir.empty()) add("tls-ca-cert-dir", options.tls_files.ca_cert_dir);
  } else {
    add("port", std::to_string(options.port));
  }
  if (options.bus_port != options.port + 10000) add("cluster-port", std::to_string(options.bus_port));
  // Announcing the pod IP keeps the node's own address right in nodes.conf and in every peer's
  // table after a restart with a new IP.
  add("cluster-announce-ip", options.pod_ip);
  if (hostname == HostnameSetting::on_command_line) {
    add("cluster-announce-hostname", announced_hostname(options));
    if (options.preferred_endpoint == PreferredEndpoint::hostname) add("cluster-preferred-endpoint-type", "hostname");
  }
  if (!include_file.empty()) add("include", include_file);
  if (config_from_stdin) argv.push_back("-");
  return argv;
}

HostnameSetting hostname_setting_for(const std::vector<std::string>& server_command) {
  if (server_command.empty()) return HostnameSetting::left_to_bootstrap;
  // Only a server is asked its version: a wrapper script given --version might do anything.
  const std::string program = server_command.front();
  const std::string name = program.substr(program.rfind('/') + 1);
  if (name != "redis-server" && name != "valkey-server") return HostnameSetting::left_to_bootstrap;
  const auto version = ask_server_version(program, Millis(2000));
  if (!version) {
    log::warn("{} --version printed no version: leaving cluster-announce-hostname to the bootstrap", program);
    return HostnameSetting::left_to_bootstrap;
  }
  if (version->major < 7) {
    log::info("{} is version {}.{}, which has no cluster-announce-hostname", program, version->major, version->minor);
    return HostnameSetting::server_too_old;
  }
  return HostnameSetting::on_command_line;
}

int run_supervised(const Options& options) {
  // Every signal the supervisor handles is blocked in all threads and taken synchronously by
  // the main loop with sigwait; the child gets the default mask back before exec.
  sigset_t handled, previous;
  sigemptyset(&handled);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGCHLD, SIGHUP, SIGUSR1}) sigaddset(&handled, sig);
  pthread_sigmask(SIG_BLOCK, &handled, &previous);

  AuthInclude include;
  if (!options.credentials.password.empty()) {
    if (auto written = write_auth_include(options.credentials, include); !written) {
      log::error("{}", written.error().message);
      return exit_code::failed;
    }
  }
  const HostnameSetting hostname = hostname_setting_for(options.server_command);
  if (hostname == HostnameSetting::server_too_old && options.preferred_endpoint == PreferredEndpoint::hostname) {
    // Serving anyway would send clients to IPs, which the user asked not to: refuse to start.
    give_up_with(options, {fmt::format("--preferred-endpoint hostname: {} has no cluster-preferred-endpoint-type "
                                       "(Redis >= 7 has): use --preferred-endpoint ip with it, or a newer server",
                                       options.server_command.front())});
    return exit_code::bad_config;
  }
  const std::vector<std::string> argv = redis_server_argv(options, include.file, hostname);
  int stop_signal = 0;
  const StartVerdict verdict = wait_until_safe_to_start(
      options, argv, [&](Millis time) { return pause_unless_stopped(handled, time, stop_signal); });
  if (verdict == StartVerdict::timed_out) return exit_code::failed;
  // A stop requested during the last observation round is still pending: honour it rather
  // than start a server only to stop it before it can shut down cleanly.
  if (verdict == StartVerdict::interrupted || !pause_unless_stopped(handled, Millis(0), stop_signal)) {
    log::info("{} before redis-server started: exiting", strsignal(stop_signal));
    return 128 + stop_signal;
  }

  auto started = start_child(argv, previous);
  if (!started) {
    give_up_with(options, {started.error().message});
    return started.error().cannot_execute ? exit_code::cannot_execute : exit_code::failed;
  }
  const pid_t child = *started;
  log::info("started {} as pid {}; bootstrapping it into the cluster", argv.front(), child);

  std::atomic<bool> give_up{false};
  // Requested once `run` is asked to stop: the reconciling thread acts no more.
  std::stop_source reconcile_stop;
  if (!include.file.empty()) {
    start_guarded_thread(
        "removing the credentials file", Millis(0), [&options, dir = include.dir, file = include.file] {
          remove_credentials_once_read(options, dir, file, std::chrono::duration_cast<Millis>(options.timeout));
        });
  }
  if (options.tls) {
    start_guarded_thread("watching the TLS files", Millis(1000),
                         [&options, stop = reconcile_stop.get_token()] { reload_tls_when_renewed(options, stop); });
  }
  start_guarded_thread(
      "reconciling", std::chrono::duration_cast<Millis>(options.reconcile_interval),
      [&options, &give_up, stop = reconcile_stop.get_token()] { reconcile_forever(options, give_up, stop); });

  int status_code = exit_code::failed;
  // Once bootstrap failed under --on-bootstrap-failure exit, redis-server is asked to stop; if
  // it will not (its final save fails, say), it is killed when `kill_after` passes.
  bool stopping_after_failure = false;
  bool killed = false;
  Deadline kill_after(Clock::time_point::max());
  // A stop request with --handover on: the signal is held while the handover thread runs, and
  // forwarded when it ends (SIGUSR1), or at once when a second signal cuts it short.
  bool stop_begun = false;
  bool handover_running = false;
  int held_signal = 0;
  std::atomic<bool> handover_ended{false};
  std::stop_source handover_stop;
  auto forward = [child](int sig) {
    log::info("forwarding {} to redis-server (pid {})", strsignal(sig), child);
    ::kill(child, sig);
  };
  while (true) {
    int sig = 0;
    if (stopping_after_failure && !killed) {
      const timespec wait = to_timespec(kill_after.remaining());
      sig = ::sigtimedwait(&handled, nullptr, &wait);
      if (sig < 0 && errno == EAGAIN) {
        log::error("redis-server did not stop within {} s of SIGTERM (--stop-grace): killing it",
                   options.stop_grace.count());
        ::kill(child, SIGKILL);
        killed = true;
        continue;
      }
      if (sig < 0) continue;
    } else if (sigwait(&handled, &sig) != 0) {
      continue;
    }
    if (sig == SIGCHLD) {
      // As PID 1, every orphan in the container is ours to reap, not only redis-server.
      bool server_exited = false;
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == child) {
          server_exited = true;
          status_code = exit_code_of(status);
        }
      }
      if (server_exited) break;
    } else if (sig == SIGUSR1) {
      if (handover_running && handover_ended) {
        handover_running = false;
        forward(held_signal);
      }
      if (give_up && !stopping_after_failure) {
        stopping_after_failure = true;
        kill_after = Deadline::after(std::chrono::duration_cast<Millis>(options.stop_grace));
        ::kill(child, SIGTERM);
      }
    } else if (!is_stop_signal(sig)) {
      forward(sig);  // SIGHUP
    } else if (handover_running) {
      log::info("{} during the handover: cutting it short", strsignal(sig));
      handover_stop.request_stop();
      handover_running = false;
      forward(sig);
    } else if (!stop_begun && options.handover && sig != SIGQUIT && !stopping_after_failure) {
      log::info("{}: handing this node's slots over before redis-server stops (--handover on, at most {} s)",
                strsignal(sig), options.handover_timeout.count());
      stop_begun = handover_running = true;
      held_signal = sig;
      reconcile_stop.request_stop();
      start_guarded_thread("handing over", Millis(0), [&options, &handover_ended, stop = handover_stop.get_token()] {
        hand_over_then_signal(options, stop, handover_ended);
      });
    } else {
      stop_begun = true;
      reconcile_stop.request_stop();
      forward(sig);
    }
  }
  log::info("redis-server exited with status {}", status_code);
  if (stopping_after_failure) status_code = exit_code::failed;
  std::fflush(stderr);
  // The other threads may be mid-step; nothing they hold needs cleaning up but the credentials
  // file, which `include` removes now, and the handover marker of one cut short.
  include.remove();
  if (stop_begun) ::unlink(handover_marker_path(options.port).c_str());
  std::_Exit(status_code);
}

}  // namespace rci
