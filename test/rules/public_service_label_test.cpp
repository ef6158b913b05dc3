// public-service-label: every case of fixtures/public-service-label.yaml.
#include <gtest/gtest.h>

#include "test/support/rule_fixture.h"

AW_RULE_FIXTURE_TESTS(PublicServiceLabel, "public-service-label.yaml");
