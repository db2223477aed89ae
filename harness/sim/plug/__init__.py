"""The Voltiq P1 smart plug: a simulated device built unlike the reference hub (docs/personas/plug.md).

Web-only management through an HTTP command endpoint with Basic auth, a serial console that asks
only for a password, a reset button and bench power, and an MQTT client bound to the vendor's
cloud broker whose address is fixed in firmware (the simulator plays that cloud too)."""
