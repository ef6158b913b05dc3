// Label and annotation keys: one place for each.
#pragma once

#include <string>
#include <string_view>

namespace aw::rules::keys {

// Services carrying this label (any value) are exported to the other federation clusters.
inline constexpr std::string_view kPublicServiceLabel =
    "federation.istio.deckhouse.io/public-service";

// A remote member's declared subnets and domain, on its IstioFederation / IstioMulticluster.
inline constexpr std::string_view kPodSubnetAnnotation = "alliance-webhook.io/pod-subnet-cidr";
inline constexpr std::string_view kServiceSubnetAnnotation =
    "alliance-webhook.io/service-subnet-cidr";
inline constexpr std::string_view kClusterDomainAnnotation = "alliance-webhook.io/cluster-domain";

// Set by the ServiceEntry defaults: the field paths the webhook filled in.
inline constexpr std::string_view kDefaultedAnnotation = "alliance-webhook.io/defaulted";

// The field path of an annotation, as findings name it: metadata.annotations[KEY].
inline std::string annotationPath(std::string_view key) {
  return "metadata.annotations[" + std::string(key) + "]";
}

// The field path of a label, as findings name it: metadata.labels[KEY].
inline std::string labelPath(std::string_view key) {
  return "metadata.labels[" + std::string(key) + "]";
}

// The domain that is always an alias for the local cluster.
inline constexpr std::string_view kClusterLocal = "cluster.local";

}  // namespace aw::rules::keys
