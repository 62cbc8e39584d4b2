"""The console's downloads that are too large to make while the officer waits: a year's
report to the Department (540,000 bulletins at 10,000 boards), a month of proof of play at
national size. A small CSV streams at once; a large one is made in the background into a
file, and its page says how far it is and then offers it (docs/province-server.md)."""
