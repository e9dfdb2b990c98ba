#pragma once
// The Transport seam: one byte stream to a peer, never blocking. Every call does what it can
// now and says what it waits for, so one poll loop drives a hundred streams at once. Plain TCP
// is here; TLS (OpenSSL: its handshake, its records buffered inside the library) fits behind
// the same calls.

#include <memory>
#include <string>
#include <string_view>

#include "rci/net/address.hpp"
#include "rci/util/error.hpp"

namespace rci::net {

// The most read_available() takes in one call, whatever the transport (see there).
inline constexpr size_t max_read_per_call = 256 * 1024;

// What a stream waits for before it can go on: the poll events to ask for.
struct Interest {
  bool read = false;
  bool write = false;
  short poll_events() const;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Moves the opening (the TCP connect; a TLS handshake) forward: true once bytes can flow.
  // Until then handshake_interest() says what to wait for.
  virtual Result<bool> advance_handshake() = 0;
  virtual Interest handshake_interest() const = 0;
  // The opening step under way, for a timeout's message ("connecting", "in the TLS handshake").
  virtual const char* opening_step() const { return "connecting"; }

  // Writes what it can of `data` now; how many bytes went (0: wait until writable).
  virtual Result<size_t> write_some(std::string_view data) = 0;
  // Appends what has arrived (at most 256 KiB a call, so one peer that never stops sending
  // cannot keep the loop from its deadlines); false when nothing had. Bytes that came before
  // the peer closed are returned first, the close on the next call.
  virtual Result<bool> read_available(std::string& buffer) = 0;
  // True when bytes wait inside the transport where poll cannot see them (TLS records read
  // whole but not yet handed out); plain TCP has none.
  virtual bool holds_input() const = 0;
  // What a read or write that could not finish waits for beyond the caller's own interest (a
  // TLS write may need a read first, and the reverse); plain TCP needs nothing more.
  virtual Interest io_interest() const { return {}; }

  virtual int fd() const = 0;
  virtual const Endpoint& endpoint() const = 0;
  virtual bool is_open() const = 0;
  virtual void close() = 0;
};

// Starts a TCP connection to a numeric endpoint without waiting for it.
Result<std::unique_ptr<Transport>> start_tcp(const Endpoint& endpoint);

}  // namespace rci::net
