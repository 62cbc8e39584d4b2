"""What runs where the software is built, on the release key holder's machine (SPEC 8.1):
`kiosk release build`. Neither a board nor the province server imports it."""
