// JsonLine: one JSON object written straight into a string, fields in the
// order given: no document tree, no allocation beyond the string's own. For
// lines written per message on a ring (the delivery log), where building an
// nlohmann::json object cost a map node and a key string per field.
//
// Strings are escaped as RFC 8259 requires. Bytes that are not well-formed
// UTF-8 become U+FFFD, exactly as nlohmann::json's dump() does with
// error_handler_t::replace (each maximal ill-formed prefix of a sequence is
// one U+FFFD; the byte that broke a sequence is read again), so that hostile
// text, such as a remote server's reply, still makes a valid line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace salvo {

// Appends `value` as a JSON string, quotes included.
void AppendJsonString(std::string_view value, std::string& out);

class JsonLine {
 public:
  // Starts the object at the end of `out`.
  explicit JsonLine(std::string& out) : out_(out) { out_.push_back('{'); }
  JsonLine(const JsonLine&) = delete;
  JsonLine& operator=(const JsonLine&) = delete;

  JsonLine& Str(std::string_view key, std::string_view value);
  JsonLine& Int(std::string_view key, int64_t value);
  JsonLine& Bool(std::string_view key, bool value);
  // Closes the object; nothing may be added after.
  void End() { out_.push_back('}'); }

 private:
  void Key(std::string_view key);

  std::string& out_;
  bool first_ = true;
};

}  // namespace salvo
