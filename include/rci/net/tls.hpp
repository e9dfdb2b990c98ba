#pragma once
// TLS behind the Transport seam: the process' OpenSSL context (this pod's certificate, which it
// also presents as a client certificate for `tls-auth-clients yes`, and the CA that every
// server's certificate must chain to) and a transport that speaks TLS over a TCP connection,
// sending the pod's name as SNI and checking the certificate holds it.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rci/net/transport.hpp"
#include "rci/util/error.hpp"

namespace rci::net {

// How much of a server's certificate is checked.
enum class TlsVerify {
  full,  // the chain to the CA and the host name (the pod's FQDN)
  ca,    // the chain only: any certificate of the CA is taken for any pod
};

// The files, as the options name them (--tls-cert-file ...).
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_cert_file;  // either or both of these two
  std::string ca_cert_dir;
  TlsVerify verify = TlsVerify::full;
};

// An OpenSSL client context loaded from TlsFiles; immutable once loaded, shared by every
// connection made with it (a rotation loads a new one).
class TlsContext {
 public:
  // Loads and checks the files: each readable and parseable, the key the certificate's, the
  // certificate valid now. A failure is an Error of kind `config` naming the option and the
  // file (never a key's contents).
  static Result<std::shared_ptr<const TlsContext>> load(const TlsFiles& files);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  const TlsFiles& files() const { return files_; }
  // This pod's certificate: when it stops being valid, and its subject, for logs.
  std::chrono::system_clock::time_point not_after() const { return not_after_; }
  const std::string& subject() const { return subject_; }
  void* native() const { return ctx_; }  // SSL_CTX*

  // Client sessions to resume, one per server (its name and address: a session is resumed only
  // with the name its full handshake verified). A resumed handshake skips both certificates'
  // signatures, most of a handshake's cost: `run`'s passes connect to every pod anew each
  // time. Sessions are SSL_SESSION*; session_for returns one the caller owns (or nullptr).
  void remember_session(const std::string& server, void* session) const;
  void* session_for(const std::string& server) const;

 private:
  TlsContext() = default;
  void* ctx_ = nullptr;
  mutable std::mutex sessions_mutex_;
  mutable std::map<std::string, void*> sessions_;
  TlsFiles files_;
  std::chrono::system_clock::time_point not_after_;
  std::string subject_;
};

// The context new connections are made with, replaced when renewed files load (certificate
// rotation): shared by every thread, each connection keeping the context it was made with.
class TlsContextSource {
 public:
  explicit TlsContextSource(std::shared_ptr<const TlsContext> context) : current_(std::move(context)) {}
  std::shared_ptr<const TlsContext> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void replace(std::shared_ptr<const TlsContext> context) {
    std::lock_guard lock(mutex_);
    current_ = std::move(context);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const TlsContext> current_;
};

// What the files hold now, to tell a renewal from nothing (their contents' hash, or why they
// cannot be read).
std::string tls_files_fingerprint(const TlsFiles& files);

// Starts a TCP connection to `endpoint` and a TLS handshake over it, without waiting for
// either. `server_name` (the pod's FQDN) goes out as SNI and, under TlsVerify::full, must be
// among the names the certificate holds; empty under TlsVerify::full is refused.
Result<std::unique_ptr<Transport>> start_tls(const Endpoint& endpoint, const std::string& server_name,
                                             std::shared_ptr<const TlsContext> context);

// "2027-03-01 12:00:00 UTC"
std::string utc_text(std::chrono::system_clock::time_point when);

}  // namespace rci::net
