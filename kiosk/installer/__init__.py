"""What runs for the installer: kiosk provision, and kiosk firstboot on the board's first boot."""
