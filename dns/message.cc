#include "dns/message.h"

#include "absl/status/status.h"
#include "fmt/format.h"

namespace salvo::dns {
namespace {

constexpr size_t kMaxWireName = 255;  // RFC 1035 §3.1, length octets included
constexpr int kMaxPointerHops = 64;
constexpr size_t kMinRecordSize = 11;  // root name + type, class, ttl, rdlength

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(fmt::format("malformed DNS message: {}", what));
}

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

void AppendLabel(const uint8_t* label, size_t len, std::string& out) {
  if (!out.empty()) out.push_back('.');
  for (size_t i = 0; i < len; ++i) {
    uint8_t c = label[i];
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\{:03d}", c);
    }
  }
}

// Reads the (possibly compressed) name at `*pos`; leaves `*pos` after the
// name as it appears at that place (after the first pointer, if any).
absl::Status ReadName(std::span<const uint8_t> wire, size_t* pos, std::string* out) {
  out->clear();
  size_t p = *pos;
  size_t wire_length = 0;
  int hops = 0;
  bool jumped = false;
  for (;;) {
    if (p >= wire.size()) return Malformed("name runs past the end");
    uint8_t len = wire[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= wire.size()) return Malformed("compression pointer cut short");
      size_t target = static_cast<size_t>(len & 0x3F) << 8 | wire[p + 1];
      // Only backward pointers: a pointer to itself or forward could loop.
      if (target >= p) return Malformed("compression pointer does not point backwards");
      if (++hops > kMaxPointerHops) return Malformed("too many compression pointers");
      if (!jumped) *pos = p + 2;
      jumped = true;
      p = target;
      continue;
    }
    if ((len & 0xC0) != 0) return Malformed("unsupported label type");
    wire_length += len + 1;
    if (wire_length > kMaxWireName) return Malformed("name longer than 255 octets");
    if (len == 0) {
      if (!jumped) *pos = p + 1;
      return absl::OkStatus();
    }
    if (p + 1 + len > wire.size()) return Malformed("label runs past the end");
    AppendLabel(&wire[p + 1], len, *out);
    p += 1 + len;
  }
}

// Parses the RDATA of the types dns/ uses, which lies in [start, end).
absl::Status ReadRdata(std::span<const uint8_t> wire, size_t start, size_t end,
                       ResourceRecord* rr) {
  size_t len = end - start;
  size_t p = start;
  switch (rr->type) {
    case RrType::kA:
      if (len != 4) return Malformed("A record with RDATA length other than 4");
      rr->address = IpAddress::V4(&wire[start]);
      return absl::OkStatus();
    case RrType::kAaaa:
      if (len != 16) return Malformed("AAAA record with RDATA length other than 16");
      rr->address = IpAddress::V6(&wire[start]);
      return absl::OkStatus();
    case RrType::kCname:
      if (auto st = ReadName(wire, &p, &rr->target); !st.ok()) return st;
      break;
    case RrType::kMx:
      if (len < 3) return Malformed("MX record too short");
      rr->preference = Be16(&wire[start]);
      p += 2;
      if (auto st = ReadName(wire, &p, &rr->target); !st.ok()) return st;
      break;
    case RrType::kSoa: {
      std::string scratch;
      if (auto st = ReadName(wire, &p, &scratch); !st.ok()) return st;  // MNAME
      if (auto st = ReadName(wire, &p, &scratch); !st.ok()) return st;  // RNAME
      if (p + 20 != end) return Malformed("SOA record with a bad length");
      rr->soa_minimum = Be32(&wire[p + 16]);
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
  if (p != end) return Malformed("RDATA length does not match its name");
  return absl::OkStatus();
}

absl::Status ReadRecord(std::span<const uint8_t> wire, size_t* pos, ResourceRecord* rr) {
  if (auto st = ReadName(wire, pos, &rr->name); !st.ok()) return st;
  size_t p = *pos;
  if (p + 10 > wire.size()) return Malformed("record header runs past the end");
  rr->type = static_cast<RrType>(Be16(&wire[p]));
  rr->rr_class = Be16(&wire[p + 2]);
  rr->ttl = Be32(&wire[p + 4]);
  if (rr->ttl > 0x7FFFFFFFu) rr->ttl = 0;
  size_t rdlength = Be16(&wire[p + 8]);
  p += 10;
  if (p + rdlength > wire.size()) return Malformed("RDATA runs past the end");
  if (auto st = ReadRdata(wire, p, p + rdlength, rr); !st.ok()) return st;
  *pos = p + rdlength;
  return absl::OkStatus();
}

absl::Status ReadSection(std::span<const uint8_t> wire, size_t* pos, size_t count,
                         std::vector<ResourceRecord>* out) {
  out->reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ResourceRecord rr;
    if (auto st = ReadRecord(wire, pos, &rr); !st.ok()) return st;
    out->push_back(std::move(rr));
  }
  return absl::OkStatus();
}

}  // namespace

std::string RrTypeName(RrType type) {
  switch (type) {
    case RrType::kA:
      return "A";
    case RrType::kNs:
      return "NS";
    case RrType::kCname:
      return "CNAME";
    case RrType::kSoa:
      return "SOA";
    case RrType::kMx:
      return "MX";
    case RrType::kTxt:
      return "TXT";
    case RrType::kAaaa:
      return "AAAA";
    case RrType::kOpt:
      return "OPT";
  }
  return fmt::format("TYPE{}", static_cast<int>(type));
}

std::string RcodeName(Rcode rcode) {
  switch (rcode) {
    case Rcode::kNoError:
      return "NOERROR";
    case Rcode::kFormErr:
      return "FORMERR";
    case Rcode::kServFail:
      return "SERVFAIL";
    case Rcode::kNxDomain:
      return "NXDOMAIN";
    case Rcode::kNotImp:
      return "NOTIMP";
    case Rcode::kRefused:
      return "REFUSED";
  }
  return fmt::format("RCODE{}", static_cast<int>(rcode));
}

absl::StatusOr<Message> ParseMessage(std::span<const uint8_t> wire) {
  if (wire.size() < kHeaderSize) return Malformed("shorter than a header");
  Message m;
  m.id = Be16(&wire[0]);
  uint16_t flags = Be16(&wire[2]);
  m.is_response = flags & 0x8000;
  m.opcode = (flags >> 11) & 0xF;
  m.authoritative = flags & 0x0400;
  m.truncated = flags & 0x0200;
  m.rcode = static_cast<Rcode>(flags & 0xF);
  size_t qdcount = Be16(&wire[4]);
  size_t ancount = Be16(&wire[6]);
  size_t nscount = Be16(&wire[8]);
  size_t arcount = Be16(&wire[10]);
  if (qdcount != 1) return Malformed(fmt::format("{} questions instead of 1", qdcount));
  // Cheap bound before allocating anything: every record takes 11 octets.
  if ((ancount + nscount + arcount) * kMinRecordSize > wire.size() - kHeaderSize) {
    return Malformed("record counts exceed the message size");
  }
  size_t pos = kHeaderSize;
  if (auto st = ReadName(wire, &pos, &m.question_name); !st.ok()) return st;
  if (pos + 4 > wire.size()) return Malformed("question runs past the end");
  m.question_type = static_cast<RrType>(Be16(&wire[pos]));
  m.question_class = Be16(&wire[pos + 2]);
  pos += 4;
  if (auto st = ReadSection(wire, &pos, ancount, &m.answers); !st.ok()) return st;
  if (auto st = ReadSection(wire, &pos, nscount, &m.authority); !st.ok()) return st;
  // The additional section is checked (a cut datagram is a broken answer)
  // but not kept: dns/ trusts no glue and asks for addresses itself.
  std::vector<ResourceRecord> additional;
  if (auto st = ReadSection(wire, &pos, arcount, &additional); !st.ok()) return st;
  return m;
}

}  // namespace salvo::dns
