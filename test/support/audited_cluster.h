// The cluster the audit tests read (the `audit` command and serve's background audit), stored in
// the fake API server before the webhook starts.
#pragma once

#include "test/support/fake_apiserver.h"

namespace aw::test {

inline constexpr const char* kFederationsPath = "/apis/deckhouse.io/v1alpha1/istiofederations";
inline constexpr const char* kMulticlustersPath = "/apis/deckhouse.io/v1alpha1/istiomulticlusters";
inline constexpr const char* kServicesPath = "/api/v1/services";

// The member and Service collections, lists of one object a page, and in them: two federations
// that overlap each other (two replicas admitted them at once), a public Service with an unnamed
// port in `default` and the same in the exempt namespace d8-istio, and an unlabelled Service.
void seedAuditedCluster(FakeApiServer& fake);

// Findings of `check --output json` or of the audit without where they are written (file, line,
// document, and the " in FILE:LINE" that names another object of a check run), so the two compare.
nlohmann::json withoutLocations(nlohmann::json findings);

}  // namespace aw::test
