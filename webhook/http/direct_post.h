// The admission requests' own lane past cpp-httplib: a plain POST that the framing layer has
// buffered whole is read here (request line and the few header fields that change an answer)
// and its answer written the way httplib 0.11.4 writes it, without httplib's Request and
// Response (a multimap of headers, a copy of the body, a std::regex per route). Anything this
// does not recognise goes to httplib as before; test/webhook/http/direct_post_test.cpp runs
// both on the same bytes and compares the answers byte for byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "webhook/http/http_framing.h"

namespace aw::webhook::http {

struct DirectPost {
  std::string_view path;  // the target before '?', as sent
  std::string_view body;
  bool close = false;  // the request says Connection: close
};

// True when `request` (head and Content-Length body, as parseHead delimited it in `head`) is
// "POST target HTTP/1.1" with a body whose answer does not depend on anything httplib would
// read differently: no Transfer-Encoding, no Content-Encoding but identity, no multipart, no
// Range, no Accept-Encoding that refuses identity, no percent-encoding in the path or in the
// fields read. False leaves the request to httplib.
bool readDirectPost(std::string_view request, const RequestHead& head, DirectPost& post);

// What httplib's Keep-Alive answer field says (its set_keep_alive_timeout / _max_count).
struct KeepAlive {
  long long timeoutSeconds = 5;
  std::size_t maxRequests = 5;
};

// Appends an answer as httplib 0.11.4 writes one (status line; Connection: close or the
// Keep-Alive field; Content-Length; Content-Type; the body), never compressed: an admission
// answer is a few hundred bytes, and identity is acceptable to every client that did not say
// otherwise.
void appendResponse(std::string& out, int status, std::string_view contentType,
                    std::string_view body, bool close, const KeepAlive& keepAlive);

}  // namespace aw::webhook::http
