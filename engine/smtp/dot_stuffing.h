// The DATA payload (RFC 5321 §4.5.2): CRLF line endings, a '.' doubled at the
// start of every line, and "CRLF.CRLF" at the end.
//
// The send path avoids copies: content already in wire form (CRLF endings,
// no line starting with '.') is sent as it is, followed by a static
// terminator; only content that needs it is rewritten, into a reusable
// scratch buffer.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace salvo::smtp {

// What the send path needs to know of a content, found in one pass (16
// bytes at a time where SSE2 is there): whether every CR and LF is part of a
// CRLF, whether some line starts with '.', and whether any byte has the high
// bit set (BODY=8BITMIME). The client scans each message once, in Send.
struct LineEnds {
  bool crlf_only = true;
  bool dot_at_line_start = false;
  bool eight_bit = false;
};
LineEnds ScanLineEnds(std::string_view content);

// True if `content` has only CRLF line endings and no line starting with '.'.
bool IsWireReady(std::string_view content);

// Appends the dot-stuffed, CRLF-normalised form of `content` to `out`
// (without the terminator).
void AppendDotStuffed(std::string_view content, std::string& out);

// The parts to write for DATA: either {content, terminator} or
// {scratch, terminator} after rewriting into `scratch`. The terminator adds
// the missing final CRLF when the content does not end with one.
std::array<std::string_view, 2> DataPayload(std::string_view content, std::string& scratch);
// Same, with `ends` = ScanLineEnds(content) already known.
std::array<std::string_view, 2> DataPayload(std::string_view content, const LineEnds& ends,
                                            std::string& scratch);

// The content for "BDAT n LAST" (RFC 3030: no dot-stuffing): `content` itself
// when it is CRLF-only and ends with CRLF (or is empty), else its
// CRLF-normalised form with a final CRLF, written to `scratch`, as the DATA
// path's terminator would add it.
std::string_view BdatPayload(std::string_view content, const LineEnds& ends, std::string& scratch);

// True if any byte has the high bit set (needs 8BITMIME or SMTPUTF8).
bool Has8Bit(std::string_view bytes);

}  // namespace salvo::smtp
