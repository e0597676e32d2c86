// The HTTP/1.1 session: one coroutine per connection, reading top to bottom.
//
//   [TLS handshake] -> loop { read head -> route -> authorize -> handler
//                             (pulls the body) -> finish/drain body ->
//                             write response } -> lingering close
//
// Invariants:
//  - requests are answered one at a time, in the order they arrived;
//    pipelined requests wait, unparsed, in the input buffer, and their
//    responses are gathered into one write while more input is queued;
//  - input memory is bounded by the head limit plus one receive buffer:
//    nothing is read from the socket while unparsed input remains, and body
//    bytes are handed to the handler as views, never accumulated here;
//  - a request whose body was not read entirely is either drained (at most
//    drain_body_bytes, never after an unanswered "Expect: 100-continue") or
//    the connection is closed after the response;
//  - a connection is closed after any framing error (its input can no
//    longer be trusted), with a lingering close so that the client reads
//    the error response instead of a reset.
#pragma once

#include "api/http/http_server.h"
#include "engine/loop/task.h"
#include "engine/net/socket.h"

namespace salvo {

Task<void> ServeHttpConnection(const HttpServer& server, Socket socket);

}  // namespace salvo
