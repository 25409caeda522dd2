"""lrn_lab: the labs' experiments on LRN and BatchNorm (data set, network, training protocol,
statistics, landscape measures, claims). It imports lrn_core, never the app."""
