"""What runs on a technician's laptop: `kiosk status` (boards' /health) and `kiosk fleet`
(status, report and Prometheus of the whole inventory, from the boards or the province
server's API). No Django here: it talks HTTP."""
