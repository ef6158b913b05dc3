#include "webhook/base/host_port.h"

#include <gtest/gtest.h>

namespace aw::webhook {
namespace {

TEST(HostPort, PortRangeIsTheCallersChoice) {
  EXPECT_EQ(parsePort("0", 0), 0);
  EXPECT_EQ(parsePort("0", 1), std::nullopt);
  EXPECT_EQ(parsePort("65535", 1), 65535);
  EXPECT_EQ(parsePort("65536", 0), std::nullopt);
  EXPECT_EQ(parsePort("008443", 0), std::nullopt);
  EXPECT_EQ(parsePort("", 0), std::nullopt);
  EXPECT_EQ(parsePort("-1", 0), std::nullopt);
}

TEST(HostPort, SplitsBracketedAndPlainHosts) {
  HostPort p = splitHostPort("[::1]:6443");
  EXPECT_TRUE(p.bracketed);
  EXPECT_EQ(p.host, "::1");
  EXPECT_EQ(p.port, "6443");
  p = splitHostPort("[::1]x");
  EXPECT_EQ(p.problem, HostPort::Problem::AfterBracket);
  EXPECT_EQ(p.after, "x");
  EXPECT_EQ(splitHostPort("[::1").problem, HostPort::Problem::NoClosingBracket);
  p = splitHostPort("example.com");
  EXPECT_EQ(p.host, "example.com");
  EXPECT_FALSE(p.port.has_value());
  p = splitHostPort("a:b:80");
  EXPECT_EQ(p.host, "a:b");
  EXPECT_EQ(p.port, "80");
}

TEST(HostPort, ListenAddressesNameTheFlag) {
  std::string host, error;
  int port = -1;
  ASSERT_TRUE(parseHostPort("--listen", ":8443", host, port, error)) << error;
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 8443);
  ASSERT_TRUE(parseHostPort("--listen", "[::1]:0", host, port, error)) << error;
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(parseHostPort("--listen", "nope", host, port, error));
  EXPECT_EQ(error, "--listen nope: expected HOST:PORT, for example 0.0.0.0:8443");
  EXPECT_FALSE(parseHostPort("--listen", "[::1]", host, port, error));
  EXPECT_EQ(error, "--listen [::1]: expected [IPV6]:PORT");
  EXPECT_FALSE(parseHostPort("--listen", "h:99999", host, port, error));
  EXPECT_EQ(error, "--listen h:99999: port must be a number from 0 to 65535");
}

}  // namespace
}  // namespace aw::webhook
