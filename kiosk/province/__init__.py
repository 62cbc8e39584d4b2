"""What runs at the province: publish, the fleet tools and report, the inventory, and the
province server (server/)."""
