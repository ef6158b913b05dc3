// service-port-protocol: every case of fixtures/service-port-protocol.yaml.
#include <gtest/gtest.h>

#include "test/support/rule_fixture.h"

AW_RULE_FIXTURE_TESTS(ServicePortProtocol, "service-port-protocol.yaml");
