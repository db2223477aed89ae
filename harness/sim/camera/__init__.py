"""The Lumacam C3: a simulated BusyBox-style IP camera, built unlike the reference hub (see
docs/personas/camera.md). A UART console with a BusyBox getty, an SSH server whose accounts lock
silently (pam_faillock), an HTTPS web API with session cookies, and an MQTT client bound to the
maker's cloud broker, whose address is fixed in the firmware. The simulator plays that cloud
broker too (a real Mosquitto). With the `telnet_enabled` defect BusyBox telnetd runs as well, and
hangs up after three failed logins."""
