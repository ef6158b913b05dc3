// serviceentry-ports: every case of fixtures/serviceentry-ports.yaml.
#include <gtest/gtest.h>

#include "test/support/rule_fixture.h"

AW_RULE_FIXTURE_TESTS(ServiceEntryPorts, "serviceentry-ports.yaml");
