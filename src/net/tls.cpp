#include "rci/net/tls.hpp"

#include "rci/util/log.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <utility>
#include <vector>

namespace rci::net {
namespace {

SSL_CTX* as_ctx(void* ctx) {
  return static_cast<SSL_CTX*>(ctx);
}

// OpenSSL's reason for the oldest error in its queue (which is then emptied), for messages.
std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no reason given";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fmt::format("error {:#x}", code);
}

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string subject_of(const X509* cert) {
  char buffer[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof buffer);
  return buffer;
}

// Why `path`, given by `option`, cannot be read; nothing when it can.
std::optional<Error> unreadable(const char* option, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return Error{ErrorKind::config, fmt::format("{}: {}: cannot read: {}", option, path, std::strerror(errno))};
  }
  std::fclose(file);
  return std::nullopt;
}

std::unexpected<Error> config_error(const char* option, const std::string& path, const std::string& what) {
  ERR_clear_error();
  return fail(ErrorKind::config, fmt::format("{}: {}: {}", option, path, what));
}

// The names a certificate holds (its DNS and IP subjectAltNames; its common name when it has
// none), for a host name mismatch.
std::string names_held(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type == GEN_DNS) {
      const auto* text = name->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                         static_cast<size_t>(ASN1_STRING_length(text)));
    } else if (name->type == GEN_IPADD) {
      const auto* bytes = ASN1_STRING_get0_data(name->d.iPAddress);
      if (ASN1_STRING_length(name->d.iPAddress) == 4) {
        names.push_back(fmt::format("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3]));
      } else {
        names.emplace_back("an IPv6 address");
      }
    }
  }
  if (sans != nullptr) GENERAL_NAMES_free(sans);
  if (names.empty()) return "no subjectAltName; subject " + subject_of(cert);
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// A failed certificate check in words, from the verify result (a typed code).
std::string verify_failure(long result, X509* peer, const std::string& server_name) {
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return fmt::format(
          "certificate verify failed: unknown CA (the server's certificate, {}, does not chain to "
          "the CA of --tls-ca-cert-file/--tls-ca-cert-dir)",
          peer != nullptr ? subject_of(peer) : "unseen");
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return fmt::format("certificate verify failed: expired (not after {})",
                         peer != nullptr ? utc_text(to_time_point(X509_get0_notAfter(peer))) : "?");
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return fmt::format("certificate verify failed: not valid yet (not before {})",
                         peer != nullptr ? utc_text(to_time_point(X509_get0_notBefore(peer))) : "?");
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return fmt::format(
          "certificate verify failed: host name mismatch: {} is not among the names the certificate "
          "holds ({})",
          server_name, peer != nullptr ? names_held(peer) : "unseen");
    default: return fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(result));
  }
}

// A handshake failure that is not the certificate's, in words, from OpenSSL's reason code.
std::string handshake_failure(unsigned long code) {
  switch (ERR_GET_REASON(code)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_HTTP_REQUEST: return "the server speaks plaintext here, not TLS (is this its plaintext port?)";
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return "the server refused this pod's certificate (--tls-cert-file): is it signed by the CA the server trusts?";
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
      return "the server refused this pod's certificate as expired (--tls-cert-file)";
    default: {
      const char* reason = ERR_reason_error_string(code);
      return fmt::format("TLS handshake failed: {}", reason != nullptr ? reason : "unknown reason");
    }
  }
}

class TlsTransport final : public Transport {
 public:
  TlsTransport(std::unique_ptr<Transport> tcp, SSL* ssl, std::shared_ptr<const TlsContext> context,
               std::string server_name)
      : tcp_(std::move(tcp)), ssl_(ssl), context_(std::move(context)), server_name_(std::move(server_name)) {}
  ~TlsTransport() override {
    close();
    SSL_free(ssl_);
    if (rejected_ != nullptr) X509_free(rejected_);
  }

  // OpenSSL's verify callback: keeps the certificate it refuses, which the session does not
  // hold once the handshake failed, to say what it held.
  static int keep_rejected(int preverified, X509_STORE_CTX* store) {
    if (preverified == 0) {
      auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
      auto* self = static_cast<TlsTransport*>(SSL_get_app_data(ssl));
      X509* cert = X509_STORE_CTX_get_current_cert(store);
      if (self != nullptr && cert != nullptr && self->rejected_ == nullptr) self->rejected_ = X509_dup(cert);
    }
    return preverified;
  }
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // OpenSSL's new-session callback (a TLS 1.3 ticket arrives after the handshake, with the
  // first reply): kept for the next connection to this server. 1: the cache owns it now.
  static int keep_session(SSL* ssl, SSL_SESSION* session) {
    auto* self = static_cast<TlsTransport*>(SSL_get_app_data(ssl));
    if (self == nullptr) return 0;
    self->context_->remember_session(self->session_key(), session);
    return 1;
  }
  std::string session_key() const { return server_name_ + " " + tcp_->endpoint().to_string(); }

  Result<bool> advance_handshake() override {
    if (established_) return true;
    if (!tcp_connected_) {
      auto connected = tcp_->advance_handshake();
      if (!connected || !*connected) return connected;
      tcp_connected_ = true;
    }
    ERR_clear_error();
    const int result = SSL_connect(ssl_);
    if (result == 1) {
      established_ = true;
      want_ = {};
      if (SSL_session_reused(ssl_) == 1)
        log::debug("{} ({}): TLS session resumed", endpoint().to_string(), server_name_);
      return true;
    }
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      want_ = {.read = error == SSL_ERROR_WANT_READ, .write = error == SSL_ERROR_WANT_WRITE};
      return false;
    }
    return handshake_failed(error);
  }

  Interest handshake_interest() const override { return tcp_connected_ ? want_ : tcp_->handshake_interest(); }
  const char* opening_step() const override {
    if (!tcp_connected_) return "connecting";
    // A plaintext server reads the ClientHello as the start of a command and waits for the
    // rest, silently: nothing at all came back.
    if (BIO_number_read(SSL_get_rbio(ssl_)) == 0) {
      return "in the TLS handshake: the server sent nothing back, as a plaintext server does (is this port TLS?)";
    }
    return "in the TLS handshake";
  }

  Result<size_t> write_some(std::string_view data) override {
    if (data.empty()) return size_t{0};
    ERR_clear_error();
    size_t written = 0;
    const int result = SSL_write_ex(ssl_, data.data(), data.size(), &written);
    if (result == 1) {
      io_want_ = {};
      return written;
    }
    const int error = SSL_get_error(ssl_, result);
    if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
      io_want_ = {.read = error == SSL_ERROR_WANT_READ, .write = error == SSL_ERROR_WANT_WRITE};
      return size_t{0};
    }
    return io_failed("write", error);
  }

  Result<bool> read_available(std::string& buffer) override {
    char chunk[16384];
    bool got = false;
    size_t taken = 0;
    while (taken < max_read_per_call) {
      ERR_clear_error();
      size_t n = 0;
      const int result = SSL_read_ex(ssl_, chunk, sizeof chunk, &n);
      if (result == 1) {
        buffer.append(chunk, n);
        taken += n;
        got = true;
        io_want_ = {};
        continue;
      }
      const int error = SSL_get_error(ssl_, result);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        io_want_ = {.read = false, .write = error == SSL_ERROR_WANT_WRITE};
        return got;
      }
      // What came before a close first; the close on the next call.
      if (got) return true;
      if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
        fatal_ = error == SSL_ERROR_SYSCALL;  // an end without close_notify: OpenSSL allows no shutdown
        close();
        return fail(ErrorKind::closed, fmt::format("{}: connection closed by the server", endpoint().to_string()));
      }
      return io_failed("read", error);
    }
    return got;
  }

  Interest io_interest() const override { return io_want_; }
  bool holds_input() const override { return established_ && SSL_pending(ssl_) > 0; }
  int fd() const override { return tcp_->fd(); }
  const Endpoint& endpoint() const override { return tcp_->endpoint(); }
  bool is_open() const override { return tcp_->is_open(); }
  void close() override {
    // A close_notify, sent once and never waited for (the socket does not block): OpenSSL
    // marks the session of a connection that ends without one not resumable (keep_session).
    // Not after a fatal error, where OpenSSL forbids it.
    if (established_ && !fatal_ && !shut_down_ && tcp_->fd() >= 0) {
      shut_down_ = true;
      ERR_clear_error();
      SSL_shutdown(ssl_);
      ERR_clear_error();
    }
    tcp_->close();
  }

 private:
  std::unexpected<Error> handshake_failed(int error) {
    fatal_ = true;
    const long verified = SSL_get_verify_result(ssl_);
    std::string why;
    if (verified != X509_V_OK) {
      why = verify_failure(verified, rejected_, server_name_);
    } else if (const unsigned long code = ERR_peek_error(); code != 0) {
      why = handshake_failure(code);
    } else if (error == SSL_ERROR_SYSCALL && errno != 0) {
      why = fmt::format("TLS handshake failed: {}", std::strerror(errno));
    } else {
      why = "the server closed the connection in the TLS handshake (does it speak TLS on this port?)";
    }
    ERR_clear_error();
    close();
    return fail(ErrorKind::tls, fmt::format("{}: {}", endpoint().to_string(), why));
  }

  std::unexpected<Error> io_failed(const char* call, int error) {
    fatal_ = true;
    std::string why = error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 ? std::strerror(errno) : openssl_reason();
    close();
    return fail(ErrorKind::io, fmt::format("{}: TLS {}: {}", endpoint().to_string(), call, why));
  }

  std::unique_ptr<Transport> tcp_;
  SSL* ssl_;
  std::shared_ptr<const TlsContext> context_;  // SSL_CTX outlives every SSL made from it
  std::string server_name_;
  bool tcp_connected_ = false;
  bool established_ = false;
  bool fatal_ = false;        // OpenSSL reported a fatal error: no close_notify then
  bool shut_down_ = false;    // the close_notify went out
  X509* rejected_ = nullptr;  // the certificate verification refused, if any
  Interest want_;             // what the handshake waits for
  Interest io_want_;          // what a read or write waits for beyond the connection's own interest
};

}  // namespace

std::string utc_text(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

std::string tls_files_fingerprint(const TlsFiles& files) {
  std::string all;
  for (const std::string* path : {&files.cert_file, &files.key_file, &files.ca_cert_file}) {
    if (path->empty()) continue;
    std::FILE* file = std::fopen(path->c_str(), "rb");
    if (file == nullptr) {
      all += *path + ": " + std::strerror(errno) + "\n";
      continue;
    }
    char chunk[4096];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) all.append(chunk, n);
    std::fclose(file);
  }
  // A hash, so the key's contents are not kept around in a second place.
  return std::to_string(std::hash<std::string>{}(all));
}

TlsContext::~TlsContext() {
  for (auto& [server, session] : sessions_) SSL_SESSION_free(static_cast<SSL_SESSION*>(session));
  SSL_CTX_free(as_ctx(ctx_));
}

void TlsContext::remember_session(const std::string& server, void* session) const {
  std::lock_guard lock(sessions_mutex_);
  void*& kept = sessions_[server];
  if (kept != nullptr) SSL_SESSION_free(static_cast<SSL_SESSION*>(kept));
  kept = session;
}

void* TlsContext::session_for(const std::string& server) const {
  std::lock_guard lock(sessions_mutex_);
  const auto found = sessions_.find(server);
  if (found == sessions_.end()) return nullptr;
  auto* session = static_cast<SSL_SESSION*>(found->second);
  if (SSL_SESSION_is_resumable(session) != 1) return nullptr;
  SSL_SESSION_up_ref(session);
  return session;
}

Result<std::shared_ptr<const TlsContext>> TlsContext::load(const TlsFiles& files) {
  std::shared_ptr<TlsContext> context(new TlsContext());
  context->files_ = files;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return fail(ErrorKind::internal, "cannot create a TLS context: " + openssl_reason());
  context->ctx_ = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Sessions are kept by server (TlsContext::remember_session), not in OpenSSL's own store.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &TlsTransport::keep_session);

  if (files.ca_cert_file.empty() && files.ca_cert_dir.empty()) {
    return fail(ErrorKind::config,
                "--tls-ca-cert-file or --tls-ca-cert-dir is required with --tls yes: the CA that "
                "every server's certificate must be signed by");
  }
  if (!files.ca_cert_file.empty()) {
    if (auto error = unreadable("--tls-ca-cert-file", files.ca_cert_file)) return std::unexpected(*error);
    if (SSL_CTX_load_verify_locations(ctx, files.ca_cert_file.c_str(), nullptr) != 1) {
      return config_error("--tls-ca-cert-file", files.ca_cert_file, "holds no PEM certificate");
    }
  }
  if (!files.ca_cert_dir.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, nullptr, files.ca_cert_dir.c_str()) != 1) {
      return config_error("--tls-ca-cert-dir", files.ca_cert_dir, "is not a readable directory");
    }
  }

  if (files.cert_file.empty() != files.key_file.empty()) {
    return fail(ErrorKind::config, "--tls-cert-file and --tls-key-file go together: give both or neither");
  }
  if (files.cert_file.empty()) return std::shared_ptr<const TlsContext>(std::move(context));
  if (auto error = unreadable("--tls-cert-file", files.cert_file)) return std::unexpected(*error);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return config_error("--tls-cert-file", files.cert_file, "holds no PEM certificate");
  }
  if (auto error = unreadable("--tls-key-file", files.key_file)) return std::unexpected(*error);
  const std::string not_its_key =
      fmt::format("is not the key of the certificate in --tls-cert-file {}", files.cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL checks the pair as it loads the key, and says so by its reason code.
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return config_error("--tls-key-file", files.key_file,
                        mismatch ? not_its_key : "holds no unencrypted PEM private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return config_error("--tls-key-file", files.key_file, not_its_key);
  }
  X509* cert = SSL_CTX_get0_certificate(ctx);
  context->not_after_ = to_time_point(X509_get0_notAfter(cert));
  context->subject_ = subject_of(cert);
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return config_error("--tls-cert-file", files.cert_file, "expired on " + utc_text(context->not_after_));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    return config_error("--tls-cert-file", files.cert_file,
                        "is not valid before " + utc_text(to_time_point(X509_get0_notBefore(cert))));
  }
  return std::shared_ptr<const TlsContext>(std::move(context));
}

Result<std::unique_ptr<Transport>> start_tls(const Endpoint& endpoint, const std::string& server_name,
                                             std::shared_ptr<const TlsContext> context) {
  const bool check_name = context->files().verify == TlsVerify::full;
  if (check_name && server_name.empty()) {
    return fail(ErrorKind::tls,
                fmt::format("{}: no host name is known for this address to check its certificate against "
                            "(--tls-verify full)",
                            endpoint.to_string()));
  }
  auto tcp = start_tcp(endpoint);
  if (!tcp) return std::unexpected(tcp.error());
  SSL* ssl = SSL_new(as_ctx(context->native()));
  if (ssl == nullptr) return fail(ErrorKind::internal, "cannot create a TLS session: " + openssl_reason());
  SSL_set_fd(ssl, (*tcp)->fd());
  SSL_set_connect_state(ssl);
  if (!server_name.empty()) {
    // SSL_set_tlsext_host_name, which is a macro with a C cast.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(server_name.c_str()));
  }
  if (check_name) SSL_set1_host(ssl, server_name.c_str());
  auto* transport = new TlsTransport(std::move(*tcp), ssl, context, server_name);
  SSL_set_app_data(ssl, transport);
  if (auto* session = static_cast<SSL_SESSION*>(context->session_for(transport->session_key()))) {
    SSL_set_session(ssl, session);
    SSL_SESSION_free(session);
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, &TlsTransport::keep_rejected);
  return std::unique_ptr<Transport>(transport);
}

}  // namespace rci::net
