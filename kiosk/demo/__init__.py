"""`kiosk demo`: the whole path on one machine (board.py), with a small static server for the
published site (sitesrv.py). Nothing here runs on a board or at a province."""
