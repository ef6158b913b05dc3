// One connection's state in the connection layer (webhook/connection_server.cpp): its socket and
// TLS session, the bytes buffered towards the next request, the response being written, and the
// clocks its deadlines are measured from. A connection lives in a Slot; whoever holds the slot's
// mutex owns it (a worker handling its event, or the sweeper checking its deadlines).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>

#include "webhook/http/http_framing.h"

namespace aw::webhook {

using Clock = std::chrono::steady_clock;

// Bytes received and not yet consumed, contiguous (httplib reads a request from one span).
// Grows with realloc (a large body is one mremap, not a copy per doubling) and is given back
// whole once drained, so an idle connection holds no buffer at all.
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(data_); }

  std::string_view view() const { return {data_ + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  std::size_t capacity() const { return cap_; }

  void append(const char* p, std::size_t n) {
    reserve(size() + n);
    std::memcpy(data_ + end_, p, n);
    end_ += n;
  }
  // Room for `total` bytes in all, without moving them again while they arrive.
  void reserve(std::size_t total) {
    if (begin_ + total <= cap_) return;
    if (begin_ > 0) {
      std::memmove(data_, data_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (total <= cap_) return;
    }
    std::size_t want = cap_ < 256 ? 256 : cap_ * 2;
    if (want < total) want = total;
    char* grown = static_cast<char*>(std::realloc(data_, want));
    if (grown == nullptr) throw std::bad_alloc();
    data_ = grown;
    cap_ = want;
  }
  // Makes the `n` bytes after the first `at` readable, for a parser that reads past the end of
  // what it is given: the bytes buffered there, zeros beyond them.
  void readableAfter(std::size_t at, std::size_t n) {
    const std::size_t want = at + n;
    if (want <= size()) return;
    reserve(want);
    std::memset(data_ + end_, 0, want - size());
  }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ >= end_) {
      begin_ = end_ = 0;
      // Buffers grown for a large body go back at once; small ones are dropped when idle.
      release();
    }
  }
  void release() {
    if (begin_ != end_) return;
    std::free(data_);
    data_ = nullptr;
    cap_ = begin_ = end_ = 0;
  }
  void clear() {
    begin_ = end_ = 0;
    release();
  }

 private:
  char* data_ = nullptr;
  std::size_t begin_ = 0, end_ = 0, cap_ = 0;
};

enum class ConnState {
  Free,        // the slot holds no connection
  Handshake,   // TLS handshake in progress
  Read,        // waiting for (the rest of) a request; idle when nothing is buffered
  BudgetWait,  // a body needs more of the body budget than is free: not read until it is
  Write,       // a response is partly written; waiting for the socket to take the rest
  Linger,      // answered and closing: our side is shut, the client's bytes are dropped
};

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;  // null on the plain-HTTP listener
  std::size_t listener = 0;
  ConnState state = ConnState::Free;

  Buffer in;
  std::string out;
  std::size_t outPos = 0;
  bool closeAfterWrite = false;

  bool haveHead = false;  // `head` describes the request at the front of `in`
  http::RequestHead head;
  http::ChunkedScanner chunks;
  bool sentContinue = false;
  bool peerClosed = false;     // the client shut its side: answer what is complete, then close
  std::size_t reserved = 0;    // body budget held for what `in` may hold
  std::size_t wantBudget = 0;  // BudgetWait: how much more is needed
  bool waitRun = false;        // BudgetWait: a whole large request waits for a turn to run
  bool holdsBig = false;       // holds one of the turns for large requests
  std::size_t served = 0;

  Clock::time_point since;      // when the current state (or idleness) began
  Clock::time_point firstByte;  // of the request being received; {} when none is
  Clock::time_point lastRead;

  std::string peerIp;
  int peerPort = 0;

  void reset() {
    fd = -1;
    ssl = nullptr;
    state = ConnState::Free;
    in.clear();
    std::string().swap(out);
    outPos = 0;
    closeAfterWrite = haveHead = sentContinue = peerClosed = false;
    head = {};
    chunks = {};
    reserved = wantBudget = served = 0;
    waitRun = holdsBig = false;
    since = firstByte = lastRead = {};
    peerIp.clear();
    peerPort = 0;
  }
};

struct Slot {
  std::mutex mu;
  std::uint32_t index = 0;
  std::uint32_t gen = 0;  // changes when the connection closes: stale events are ignored
  Conn c;
};

// Room for every connection's Slot, each constructed when first used. --max-connections is 4096
// by default and a Slot some 340 bytes: constructing them all up front made 1.3 MiB of the
// server's idle RSS. The storage is left uninitialised, so its pages stay unmapped until a slot
// on them is used; slots are taken in index order (a freed one first), so [0, used()) is live.
class SlotTable {
 public:
  SlotTable() = default;
  SlotTable(const SlotTable&) = delete;
  SlotTable& operator=(const SlotTable&) = delete;
  ~SlotTable() { reset(0); }

  // Destroys the slots, and makes room for `capacity` new ones.
  void reset(std::size_t capacity) {
    for (std::size_t i = 0; i < used_; ++i) (*this)[i].~Slot();
    used_ = 0;
    capacity_ = capacity;
    storage_.reset(capacity == 0 ? nullptr : new Room[capacity]);  // not initialised
  }
  // Constructs the next slot: false when all `capacity` are in use.
  Slot* grow() {
    if (used_ == capacity_) return nullptr;
    Slot* s = new (&storage_[used_]) Slot;
    s->index = static_cast<std::uint32_t>(used_++);
    return s;
  }
  std::size_t used() const { return used_; }
  Slot& operator[](std::size_t i) { return *std::launder(reinterpret_cast<Slot*>(&storage_[i])); }

 private:
  struct Room {
    alignas(Slot) unsigned char bytes[sizeof(Slot)];
  };
  std::unique_ptr<Room[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

}  // namespace aw::webhook
