#include "engine/net/connection_metrics.h"

namespace salvo {

ConnectionSeries ConnectionMetrics(std::string_view daemon, std::string_view listener) {
  static const CounterFamily accepted = MetricsRegistry::Default().AddCounter(
      "salvo_server_connections_total", "Connections accepted by a listener.",
      {"daemon", "listener"});
  static const CounterFamily refused = MetricsRegistry::Default().AddCounter(
      "salvo_server_connections_refused_total",
      "Connections turned away by a listener's connection limits (total or per client "
      "address).",
      {"daemon", "listener"});
  static const GaugeFamily open = MetricsRegistry::Default().AddGauge(
      "salvo_server_connections_open", "Connections a listener's sessions hold open now.",
      {"daemon", "listener"});
  return ConnectionSeries{.accepted = accepted.WithLabels({daemon, listener}),
                          .refused = refused.WithLabels({daemon, listener}),
                          .open = open.WithLabels({daemon, listener})};
}

}  // namespace salvo
