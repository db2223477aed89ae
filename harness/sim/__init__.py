"""Reference simulator: several units of one product model, each with a serial console on a pty,
network services on its own loopback address, an MQTT client, an update service and a bench supply
served over SCPI, plus the manufacturer's HTTPS site; personas `compliant` and `legacy` and one
switch per single defect.

A separate process the harness drives only through its links; suites never import it.
Modules: catalog (personas, defects, product facts), unit (device model), console, network (api,
sshd, telnetd, debugd, coap), mqtt, updater (+ updates, packages), supply (+ power) and web
(front-ends), app (assembly), cli. See docs/simulator.md."""


def main(argv: list[str] | None = None) -> int:
    # Imported on use: lab tools the simulator writes (tools/service-jig) import one module of
    # this package and should not pay for the whole simulator at every start.
    from harness.sim.cli import main as _main
    return _main(argv)


__all__ = ["main"]
