#include "rci/dns/message.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <string_view>

namespace rci::dns {
namespace {

constexpr std::uint16_t type_a = 1, type_srv = 33, type_aaaa = 28, class_in = 1;
constexpr size_t header_size = 12;
constexpr size_t max_name_length = 255;
// A name may point backwards into the message for its suffix; a chain this long is a loop.
constexpr int max_pointer_jumps = 64;

// A cursor over the message that fails instead of reading past its end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> message)
      : message_(message), label_starts_(message.size(), 0), name_starts_(message.size(), 0) {}

  size_t offset() const { return offset_; }
  bool has(size_t count) const { return offset_ <= message_.size() && message_.size() - offset_ >= count; }

  Result<std::uint16_t> u16() {
    if (!has(2)) return truncated("a 16-bit field");
    std::uint16_t value = static_cast<std::uint16_t>(message_[offset_] << 8 | message_[offset_ + 1]);
    offset_ += 2;
    return value;
  }
  Result<void> skip(size_t count, const char* what) {
    if (!has(count)) return truncated(what);
    offset_ += count;
    return {};
  }
  std::span<const std::uint8_t> bytes(size_t count) const { return message_.subspan(offset_, count); }

  // A (possibly compressed) name at the cursor, in lower case without the trailing dot; the
  // cursor moves past the name's bytes here (not past what its pointers point at).
  Result<std::string> name() {
    std::string out;
    size_t at = offset_;
    if (at < message_.size() && (message_[at] & 0xC0) == 0) name_starts_[at] = 1;
    bool jumped = false;
    for (int jumps = 0;;) {
      if (at >= message_.size()) return truncated("a name");
      const std::uint8_t length = message_[at];
      if ((length & 0xC0) == 0xC0) {
        if (at + 1 >= message_.size()) return truncated("a name pointer");
        if (++jumps > max_pointer_jumps) return bad("a name's compression pointers loop");
        auto target = pointer_target(static_cast<size_t>((length & 0x3F) << 8 | message_[at + 1]), at);
        if (!target) return std::unexpected(target.error());
        if (!jumped) offset_ = at + 2;
        jumped = true;
        at = *target;
        continue;
      }
      label_starts_[at] = 1;
      if ((length & 0xC0) != 0) return bad("a name has a label of an unknown kind");
      if (length == 0) {
        if (!jumped) offset_ = at + 1;
        return out;
      }
      if (at + 1 + length > message_.size()) return truncated("a name's label");
      if (!out.empty()) out += '.';
      for (size_t i = 0; i < length; ++i) {
        out += static_cast<char>(std::tolower(message_[at + 1 + i]));
      }
      if (out.size() > max_name_length) return bad("a name is longer than 255 characters");
      at += 1 + length;
    }
  }

 private:
  // Where a pointer read at `from` leads: to a name, or a name's suffix, read before it (so it
  // goes backwards and cannot loop). A pointer holds 14 bits, and dnsmasq (2.90) writes a
  // pointer to a name past 16 KiB with its offset wrapped. So a whole name read before is
  // preferred: at the literal offset, else at exactly one of offset + k * 16 KiB; then a
  // suffix at the literal offset. A wrong guess cannot pass off an address as another pod's:
  // read_target_addresses accepts only targets' names and drops contradicted ones.
  Result<size_t> pointer_target(size_t literal, size_t from) const {
    constexpr size_t wrap = 1 << 14;
    auto marked = [&](const std::vector<char>& starts, size_t offset) { return offset < from && starts[offset] != 0; };
    if (marked(name_starts_, literal)) return literal;
    std::optional<size_t> wrapped;
    for (size_t candidate = literal + wrap; candidate < from; candidate += wrap) {
      if (!marked(name_starts_, candidate)) continue;
      if (wrapped) return bad("a name's compression pointer is ambiguous");
      wrapped = candidate;
    }
    if (wrapped) return *wrapped;
    if (marked(label_starts_, literal)) return literal;
    return bad("a name's compression pointer leads to no name read before it");
  }
  std::unexpected<Error> truncated(const char* what) const {
    return fail(ErrorKind::dns, fmt::format("DNS answer: the message ends inside {} (at byte {})", what, offset_));
  }
  std::unexpected<Error> bad(const char* what) const {
    return fail(ErrorKind::dns, fmt::format("DNS answer: {} (at byte {})", what, offset_));
  }
  std::span<const std::uint8_t> message_;
  size_t offset_ = 0;
  std::vector<char> label_starts_;  // per byte: a label of a name read so far starts here
  std::vector<char> name_starts_;   // per byte: a whole name read so far starts here
};

std::string address_text(int family, std::span<const std::uint8_t> raw) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, raw.data(), text, sizeof(text));
  return text;
}

struct Counts {
  std::uint16_t questions, answers, authorities, additionals;
};

// One resource record: its owner, type, class and where its data lies.
struct Record {
  std::string owner;
  std::uint16_t type = 0, klass = 0, data_length = 0;
  size_t data_offset = 0;
};

Result<Record> read_record(Reader& reader) {
  Record record;
  auto owner = reader.name();
  if (!owner) return std::unexpected(owner.error());
  record.owner = std::move(*owner);
  auto type = reader.u16();
  auto klass = type ? reader.u16() : type;
  if (!klass) return std::unexpected(klass.error());
  if (auto ttl = reader.skip(4, "a record's TTL"); !ttl) return std::unexpected(ttl.error());
  auto length = reader.u16();
  if (!length) return std::unexpected(length.error());
  record.type = *type;
  record.klass = *klass;
  record.data_length = *length;
  record.data_offset = reader.offset();
  if (!reader.has(*length)) return fail(ErrorKind::dns, "DNS answer: a record's data runs past the message's end");
  return record;
}

Result<SrvRecord> read_srv_data(Reader& reader, const Record& record) {
  SrvRecord srv;
  auto priority = reader.u16();
  auto weight = priority ? reader.u16() : priority;
  auto port = weight ? reader.u16() : weight;
  if (!port) return std::unexpected(port.error());
  auto target = reader.name();
  if (!target) return std::unexpected(target.error());
  if (reader.offset() != record.data_offset + record.data_length) {
    return fail(ErrorKind::dns,
                fmt::format("DNS answer: the SRV record of {} has data of the wrong length", record.owner));
  }
  srv.priority = *priority;
  srv.weight = *weight;
  srv.port = *port;
  srv.target = std::move(*target);
  return srv;
}

// The addresses the additional section gives the SRV targets. They only save lookups, so
// nothing here fails the answer, and anything doubtful is left to a lookup by name: a record
// that cannot be read voids the whole section (a misread record's own target may be the one
// that could not be read, see pointer_target), a record of a name that is no target is
// skipped, and a target given two different addresses of one family gets none.
void read_target_addresses(Reader& reader, const Counts& counts, SrvAnswer& answer) {
  std::set<std::string_view> targets;
  for (const auto& record : answer.records) targets.insert(record.target);
  std::set<std::string> contradicted;
  const int records = counts.authorities + counts.additionals;
  for (int i = 0; i < records; ++i) {
    auto record = read_record(reader);
    if (!record) {
      answer.addresses.clear();
      return;
    }
    const bool a = record->type == type_a && record->data_length == 4;
    const bool aaaa = record->type == type_aaaa && record->data_length == 16;
    const bool additional = i >= counts.authorities;
    if (additional && record->klass == class_in && (a || aaaa) && targets.contains(record->owner) &&
        !contradicted.contains(record->owner)) {
      const std::string address = address_text(a ? AF_INET : AF_INET6, reader.bytes(record->data_length));
      auto& list = answer.addresses[record->owner];
      auto same_family_other = [&](const std::string& known) {
        return (known.find(':') == std::string::npos) == a && known != address;
      };
      if (std::any_of(list.begin(), list.end(), same_family_other)) {
        answer.addresses.erase(record->owner);
        contradicted.insert(record->owner);
      } else if (std::find(list.begin(), list.end(), address) == list.end()) {
        list.push_back(address);
      }
    }
    (void)reader.skip(record->data_length, "a record's data");  // checked by read_record
  }
}

}  // namespace

Result<SrvAnswer> parse_srv_response(std::span<const std::uint8_t> message) {
  if (message.size() < header_size) return fail(ErrorKind::dns, "DNS answer: shorter than a DNS header");
  Reader reader(message);
  (void)reader.u16();  // id: c-ares has matched it to the query
  const std::uint16_t flags = *reader.u16();
  Counts counts{*reader.u16(), *reader.u16(), *reader.u16(), *reader.u16()};
  SrvAnswer answer;
  answer.truncated = (flags & 0x0200) != 0;

  for (int i = 0; i < counts.questions; ++i) {
    auto name = reader.name();
    if (!name) return std::unexpected(name.error());
    if (auto rest = reader.skip(4, "a question"); !rest) return std::unexpected(rest.error());
  }
  for (int i = 0; i < counts.answers; ++i) {
    auto record = read_record(reader);
    if (!record) return std::unexpected(record.error());
    if (record->klass == class_in && record->type == type_srv) {
      if (answer.records.size() >= max_srv_records) {
        return fail(ErrorKind::dns, fmt::format("DNS answer: more than {} SRV records", max_srv_records));
      }
      auto srv = read_srv_data(reader, *record);
      if (!srv) return std::unexpected(srv.error());
      answer.records.push_back(std::move(*srv));
    } else {
      (void)reader.skip(record->data_length, "a record's data");  // checked by read_record
    }
  }
  read_target_addresses(reader, counts, answer);
  return answer;
}

}  // namespace rci::dns
