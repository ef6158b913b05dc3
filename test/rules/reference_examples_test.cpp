// The documentation's federation and multicluster examples through every rule:
// fixtures/reference-examples.yaml.
#include <gtest/gtest.h>

#include "test/support/rule_fixture.h"

AW_RULE_FIXTURE_TESTS(ReferenceExamples, "reference-examples.yaml");
