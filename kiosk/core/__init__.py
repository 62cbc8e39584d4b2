"""The pure core every part shares: the content model, schedule, health rules, text rules,
kiosk.toml and signatures. No network, no screen; the time is an argument."""
