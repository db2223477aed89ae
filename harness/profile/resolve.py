"""Bind a device profile to a bench: resolve references, secrets and runtime facts.

The profile stays portable (references only); the lab configuration says where this bench keeps
its secrets and runtime facts. Every resolved secret is registered with the redactor before it is
used anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.profile.lab_models import LabConfig
from harness.profile.loader import load_lab, load_profile
from harness.profile.models import DeviceProfile, EnvRef, RuntimeRef, SecretRef, Unit
from harness.profile.yamlpos import (
    MAX_DEPTH,
    ConfigError,
    ConfigIssue,
    decode_text,
    load_located,
    parse_located,
    read_bounded,
)
from harness.redact import REDACTOR, Redactor
from harness.scope import OutOfScope, Scope


def _read_mapping(path: Path, what: str) -> dict[str, Any]:
    return _read_located(path, what)[0]


def _read_located(path: Path, what: str) -> tuple[dict[str, Any], dict[Any, int]]:
    """The mapping in a JSON or YAML file and, for YAML, the line of each value."""
    name = str(path)
    lines: dict[Any, int] = {}
    text = decode_text(read_bounded(path, what), name)
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError([ConfigIssue(name, exc.lineno, "", f"{what} is not valid JSON: {exc.msg}")]) from None
        except RecursionError:
            raise ConfigError([ConfigIssue(name, None, "", f"{what} is nested too deeply")]) from None
        problem = _json_problem(data)
        if problem:
            raise ConfigError([ConfigIssue(name, None, "", f"{what}: {problem}")])
    else:
        try:
            located = parse_located(text, name)
            data, lines = located.data, located.lines
        except ConfigError as exc:
            for issue in exc.issues:
                issue.message = f"{what}: {issue.message}"
            raise ConfigError(exc.issues) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(name, None, "", f"{what} must be a mapping")])
    return data, lines


def _secret_values(data: dict[Any, Any], path: Path, lines: dict[Any, int]) -> dict[str, str]:
    """Secrets are text (a number is taken as its digits); a list, mapping, boolean or null is a
    mistake in the file, named without the value."""
    out: dict[str, str] = {}
    issues = []
    for key, value in data.items():
        if isinstance(value, str):
            out[str(key)] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[str(key)] = str(value)
        else:
            kind = "empty (null)" if value is None else f"a {type(value).__name__}, not text"
            issues.append(ConfigIssue(str(path), lines.get((key,)), str(key), f"secret {str(key)!r} is {kind}"))
    if issues:
        raise ConfigError(issues)
    return out


def _json_problem(data: Any, depth: int = 0) -> str | None:
    """What parse_located refuses in YAML, for JSON: too deep, or a lone surrogate ("\\udc80")."""
    if depth > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    items: list[Any] = []
    if isinstance(data, dict):
        items = [*data.keys(), *data.values()]
    elif isinstance(data, list):
        items = data
    elif isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            # The value itself stays out of the message: it may be a secret.
            return "a value holds a lone surrogate (a \\uD800-\\uDFFF escape), which is not text"
    for item in items:
        problem = _json_problem(item, depth + 1)
        if problem:
            return problem
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_ca(path: Path, *, where: str) -> None:
    """A CA file that exists must be a readable PEM file of sane size; one that does not exist yet
    (the lab broker writes its CA when it starts) is left to the link that opens it."""
    try:
        if not path.exists():
            return
    except (OSError, ValueError):
        pass  # a NUL byte or an unreadable folder: read_bounded gives the message
    data = read_bounded(path, f"CA file ({where})")
    if b"-----BEGIN" not in data:
        raise ConfigError([ConfigIssue(str(path), None, where, "CA file holds no PEM certificate (-----BEGIN …)")])


CROSS_UNIT_NOTE = ("note: the test cases that compare units (5.1-1-2's uniqueness, 5.1-2-1) read every unit's "
                   "label password and will be INCONCLUSIVE for lack of:")


@dataclass
class Bench:
    """A profile on a bench: everything a Device needs, with references resolved on demand."""

    profile: DeviceProfile
    profile_path: Path
    lab: LabConfig
    lab_path: Path | None
    runtime: dict[str, Any] = field(default_factory=dict)
    # Kept out of repr: a traceback that prints the bench (pytest, allure-pytest) must not print them.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    redactor: Redactor = field(default=REDACTOR, repr=False)
    # Lab services started for this run (the lab broker, by harness.lab): name → handle.
    services: dict[str, Any] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return (self.lab_path or self.profile_path).parent

    def resolve(self, value: Any, *, where: str = "") -> Any:
        if isinstance(value, SecretRef):
            secret = self.secrets.get(value.secret)
            if secret is None and self.lab.secrets.environment:
                secret = os.environ.get(value.secret)
            if secret is None:
                raise ConfigError([ConfigIssue(str(self.profile_path), None, where,
                                               f"secret {value.secret!r} is not in the lab's secrets source")])
            self.redactor.add(secret, value.secret)
            return secret
        if isinstance(value, EnvRef):
            env = os.environ.get(value.env)
            if env is None:
                raise ConfigError([ConfigIssue(str(self.profile_path), None, where,
                                               f"environment variable {value.env!r} is not set")])
            return env
        if isinstance(value, RuntimeRef):
            cur: Any = self.runtime
            for part in value.runtime.split("."):
                if not isinstance(cur, dict) or part not in cur:
                    src = self.lab.runtime or "(no runtime file in the lab configuration)"
                    raise ConfigError([ConfigIssue(str(self.profile_path), None, where,
                                                   f"runtime fact {value.runtime!r} not found in {src}")])
                cur = cur[part]
            return cur
        return value

    def unit(self, unit_id: str) -> Unit:
        try:
            return self.profile.unit(unit_id)
        except KeyError:
            known = ", ".join(u.id for u in self.profile.units)
            raise ConfigError([ConfigIssue(str(self.profile_path), None, "units",
                                           f"no unit {unit_id!r} (units: {known})")]) from None

    def scope(self, unit_id: str | None = None) -> Scope:
        """Where the bench's links may go: the lab's networks and host map, plus the unit's own
        declared address."""
        networks = list(self.lab.networks)
        if unit_id is not None and (address := self.address(unit_id)):
            networks.append(str(address))
        return Scope(networks, hosts=dict(self.lab.hosts))

    def link_settings(self, unit_id: str, link_name: str) -> dict[str, Any]:
        """The link's settings with this unit's overrides applied and references resolved. A
        network destination the settings name (a serial port over TCP, a telnet or SSH host)
        is checked against the bench's scope first: OutOfScope (a lab fault) before any packet."""
        link = self.profile.links[link_name]
        # Field by field, not model_dump(): a reference must stay a reference object to resolve.
        settings = {name: getattr(link, name) for name in type(link).model_fields}
        settings.update(self.unit(unit_id).links.get(link_name, {}))
        resolved = {k: self.resolve(v, where=f"links.{link_name}.{k}") for k, v in settings.items()}
        if resolved.get("type") == "http" and resolved.get("ca"):
            resolved["ca"] = self.ca_file(str(resolved["ca"]), where=f"links.{link_name}.ca")
        if resolved.get("type") == "serial" and resolved.get("url"):
            resolved["url"] = self._scoped_serial_url(unit_id, link_name, str(resolved["url"]))
        if resolved.get("type") in ("telnet", "ssh") and resolved.get("host"):
            self._in_scope(unit_id, f"links.{link_name}.host", str(resolved["host"]), resolved.get("port"))
        return resolved

    def _in_scope(self, unit_id: str | None, where: str, host: str, port: Any = None) -> str:
        scope = self.scope(unit_id)
        try:
            return scope.check_target(host, int(port)) if port else scope.check_host(host)
        except OutOfScope as exc:
            raise OutOfScope(f"{where}: {exc}") from None
        except ValueError:  # a port that is not a number: the link itself reports it
            return scope.check_host(host)

    def _scoped_serial_url(self, unit_id: str, link_name: str, url: str) -> str:
        """socket:// and rfc2217:// reach a serial server over TCP: its host must be in scope. A
        host name the lab maps to an address (`hosts:`) is replaced by that address, so pyserial
        never looks it up."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("socket", "rfc2217"):
            return url
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            host, port = parts.hostname, None
        if not host:
            raise OutOfScope(f"links.{link_name}.url: {url!r} names no host; refused before sending anything")
        address = self._in_scope(unit_id, f"links.{link_name}.url", host, port)
        if address != host and host.lower() in {n.lower() for n in self.lab.hosts}:
            shown = f"[{address}]" if ":" in address else address
            url = url.replace(parts.netloc, f"{shown}:{port}" if port else shown, 1)
        return url

    def ca_file(self, ca: str, *, where: str) -> str:
        """``lab`` is the lab CA (the lab configuration's `fetch.ca`, else the broker's `ca_dir`/ca.pem);
        a relative path is relative to the lab configuration's (or profile's) folder."""
        if ca == "lab":
            candidates = [self.lab.fetch.ca]
            if self.lab.broker is not None and self.lab.broker.ca_dir is not None:
                folder = Path(str(self.resolve(self.lab.broker.ca_dir, where="broker.ca_dir")))
                candidates.append(str(folder / "ca.pem"))
            for value in candidates:
                if value is not None:
                    return self.ca_file(str(self.resolve(value, where="fetch.ca")), where=where)
            raise ConfigError([ConfigIssue(str(self.profile_path), None, where,
                                           "`ca: lab` but the lab configuration names no lab CA (fetch.ca or broker.ca_dir)")])
        path = Path(ca)
        if not path.is_absolute() and not path.exists() and (self.base_dir / path).exists():
            path = self.base_dir / path
        _check_ca(path, where=where)
        return str(path) if path != Path(ca) else ca

    def mqtt_settings(self, unit_id: str, link_name: str, settings: dict[str, Any]) -> dict[str, Any]:
        """Turn ``broker: lab[:kind]`` into the URL, CA and harness account of the lab broker."""
        broker = str(settings.pop("broker"))
        settings["url"] = broker
        settings["guard"] = self.scope()  # MqttLink connects only after the scope agreed (and to its address)
        if broker.startswith("lab"):
            lab = self.services.get("broker")
            if lab is None:
                raise ConfigError([ConfigIssue(str(self.profile_path), None, f"links.{link_name}.broker",
                                               "the profile asks for the lab broker but the run started none "
                                               "(lab configuration `broker:`)")])
            kind = broker.partition(":")[2] or "tls"
            settings["url"] = lab.url(kind)
            settings["ca"] = settings.get("ca") or str(lab.ca_path)
            if settings.get("username") is None:
                settings["username"], settings["password"] = self.services["broker_account"]
        from harness.links.mqtt import MqttLinkError, parse_url
        try:
            _, host, port = parse_url(str(settings["url"]))
        except MqttLinkError:
            return settings  # the link says what is wrong with the URL when it opens
        self._in_scope(None, f"links.{link_name}.broker", host, port)
        return settings

    def instrument_settings(self, unit_id: str, link_name: str, settings: dict[str, Any]) -> dict[str, Any]:
        """Complete an instrument link from the lab's instrument table (resource, backend, channel).

        A link with ``labgrid_power`` (a labgrid power port, ``{model, host, index}``, usually the
        runtime fact ``units.<U>.power`` a place resolved to) is switched through labgrid's power
        back-ends instead: the VISA resource is not used, and the switch's host must be in scope."""
        if settings.get("labgrid_power") is not None:
            return self._labgrid_power_settings(unit_id, link_name, settings)
        name = settings.pop("instrument", None)
        if name is not None:
            inst = self.lab.instruments.get(name)
            if inst is None:
                raise ConfigError([ConfigIssue(str(self.lab_path or self.profile_path), None, "instruments",
                                               f"the profile's link {link_name!r} names instrument {name!r}, "
                                               f"which the lab configuration does not declare")])
            settings["resource"] = settings.get("resource") or self.resolve(inst.resource, where=f"instruments.{name}")
            if settings.get("backend") in (None, "@py"):
                settings["backend"] = inst.backend
            if settings.get("channel") is None:
                settings["channel"] = inst.channels.get(unit_id)
        if not settings.get("resource"):
            raise ConfigError([ConfigIssue(str(self.profile_path), None, f"links.{link_name}.resource",
                                           "no VISA resource for this instrument link")])
        settings["resource"] = self.scoped_visa_resource(str(settings["resource"]), where=f"links.{link_name}.resource")
        backend = str(settings.get("backend") or "@py")
        if backend.endswith("@sim") and not Path(backend[:-4]).is_absolute() and backend != "@sim":
            settings["backend"] = str((self.base_dir / backend[:-4]).resolve()) + "@sim"
        return settings

    def _labgrid_power_settings(self, unit_id: str, link_name: str, settings: dict[str, Any]) -> dict[str, Any]:
        power = settings["labgrid_power"]
        where = f"units.{unit_id}.links.{link_name}.labgrid_power"
        if not isinstance(power, dict) or not power.get("model") or not power.get("host"):
            shown = "text" if isinstance(power, str) else type(power).__name__
            raise ConfigError([ConfigIssue(str(self.profile_path), None, where,
                                           f"a labgrid power port is a mapping {{model, host, index}} (the runtime "
                                           f"fact units.{unit_id}.power of a labgrid place), not {shown}")])
        from harness.farm.power import power_host
        host = str(power["host"])
        address = self._in_scope(unit_id, where, power_host(host))
        named = power_host(host)
        if address != named and named.lower() in {n.lower() for n in self.lab.hosts}:
            host = host.replace(named, address, 1)  # the lab's host map, as for a VISA resource: no lookup
        for key in ("instrument", "resource", "backend"):
            settings.pop(key, None)  # the power port replaces the VISA instrument
        settings["labgrid_power"] = {**{k: str(v) for k, v in power.items()}, "host": host}
        return settings

    def scoped_visa_resource(self, resource: str, *, where: str) -> str:
        """A TCPIP VISA resource reaches an instrument over the network: its host must be in scope
        (a name the lab maps under `hosts:` is replaced by its address: no lookup)."""
        parts = resource.split("::")
        if not parts[0].upper().startswith("TCPIP") or len(parts) < 2:
            return resource
        host = parts[1]
        port = parts[2] if len(parts) > 3 and parts[-1].upper() == "SOCKET" and parts[2].isdigit() else None
        address = self._in_scope(None, where, host, port)
        if address != host and host.lower() in {n.lower() for n in self.lab.hosts}:
            parts[1] = address
        return "::".join(parts)

    def password(self, unit_id: str, user: str) -> str | None:
        account = self.unit(unit_id).accounts.get(user)
        if account is None or account.password is None:
            return None
        return self.resolve(account.password, where=f"units.{unit_id}.accounts.{user}.password")

    def address(self, unit_id: str) -> str | None:
        unit = self.unit(unit_id)
        return None if unit.address is None else self.resolve(unit.address, where=f"units.{unit_id}.address")

    def resolve_all(self, unit_ids: list[str] | None = None) -> None:
        """Resolve every reference of the selected units now, so a missing secret is a usage error
        before the run rather than an INCONCLUSIVE in the middle of it."""
        self._check_broker_scope()
        for unit in self.profile.units:
            if unit_ids and unit.id not in unit_ids:
                continue
            for user in unit.accounts:
                self.password(unit.id, user)
            self.address(unit.id)
            for link_name in self.profile.links:
                try:
                    settings = self.link_settings(unit.id, link_name)
                except OutOfScope as exc:  # before the run: a mistake in the files, not a lab fault
                    raise ConfigError([ConfigIssue(str(self.profile_path), None,
                                                   f"units.{unit.id}.links.{link_name}", str(exc))]) from None
                if settings.get("type") == "serial":
                    self._check_port_present(unit.id, link_name, settings)

    def _check_broker_scope(self) -> None:
        """The lab's brokers are in its declared networks: the started one's listen address, an
        observed one's URLs (a usage error before the run, not an INCONCLUSIVE at first use)."""
        cfg = self.lab.broker
        if cfg is None:
            return
        from urllib.parse import urlsplit
        targets = [("broker.url", cfg.url)] + [(f"broker.also_observe[{i}]", u) for i, u in enumerate(cfg.also_observe)] \
            if not cfg.start else [("broker.host", f"mqtt://{cfg.host}")]
        scope = self.scope()
        for where, url in targets:
            parts = urlsplit(url or "")
            if not parts.hostname:
                continue
            try:
                port = parts.port if not cfg.start else None
                scope.check_target(parts.hostname, port) if port else scope.check_host(parts.hostname)
            except (OutOfScope, ValueError) as exc:
                line = None
                if self.lab_path is not None:
                    loc = ("broker", "also_observe", int(where[where.index("[") + 1:-1])) if "[" in where else ("broker", where.split(".")[1])
                    line = load_located(self.lab_path).line_of(loc)
                raise ConfigError([ConfigIssue(str(self.lab_path or self.profile_path), line, where, str(exc))]) from None

    def _check_port_present(self, unit_id: str, link_name: str, settings: dict[str, Any]) -> None:
        """A console's device path written in the profile exists on this bench now, unless the
        profile declares that it appears later (``hotplug: true``: a USB-UART powered by the unit).
        A path the bench tooling publishes (``{runtime: …}``) is the bench's word: a port of a dead
        unit gone from it is a lab fault of the test cases, judged INCONCLUSIVE in the run."""
        raw = self.unit(unit_id).links.get(link_name, {}).get("url", getattr(self.profile.links[link_name], "url", None))
        url = str(settings.get("url") or "")
        if not isinstance(raw, str) or not url.startswith("/") or settings.get("hotplug"):
            return
        import stat
        try:
            if stat.S_ISCHR(os.stat(url).st_mode):
                return
            why = "is not a character device"
        except OSError as exc:
            why = f"is not there ({exc.strerror})"
        raise ConfigError([ConfigIssue(str(self.profile_path), None, f"units.{unit_id}.links.{link_name}.url",
                                       f"serial port {url!r} {why} on this bench; connect the unit, or declare "
                                       f"`hotplug: true` on the link if the port appears only when the unit is powered")])

    def unresolved_passwords(self, unit_ids: list[str]) -> list[str]:
        """Problems resolving the label passwords of units *not* in ``unit_ids``: test cases that
        compare units (5.1-1-2's uniqueness, 5.1-2-1) read every unit's, so a run of one unit says
        at its start what they will miss."""
        problems = []
        for unit in self.profile.units:
            if unit.id in unit_ids:
                continue
            for user in unit.accounts:
                try:
                    self.password(unit.id, user)
                except ConfigError as exc:
                    problems += [str(issue) for issue in exc.issues]
        return problems

    def unresolved_note(self, unit_ids: list[str]) -> list[str]:
        """The lines a run of some units prints at its start when other units' label passwords
        cannot be resolved (empty: nothing is missing, or every unit runs). Names, never values."""
        if not unit_ids:
            return []
        missing = self.unresolved_passwords(list(unit_ids))
        if not missing:
            return []
        return [CROSS_UNIT_NOTE] + [f"  {problem}" for problem in missing]

    def fingerprint(self) -> dict[str, Any]:
        p = self.profile.product
        out: dict[str, Any] = {
            "path": str(self.profile_path),
            "sha256": _sha256(self.profile_path),
            "schema_version": self.profile.schema_version,
            "product": {"manufacturer": p.manufacturer, "model": p.model, "hardware": p.hardware,
                        "firmware": p.firmware},
        }
        return out

    def lab_fingerprint(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.lab.name}
        if self.lab_path:
            out.update(path=str(self.lab_path), sha256=_sha256(self.lab_path))
        return out


def _read_named(path: Path, what: str, lab_path: Path | None, loc: tuple[str, ...]) -> dict[str, Any]:
    """A file the lab configuration names; a problem with it also points at the line naming it."""
    try:
        data, lines = _read_located(path, what)
        return _secret_values(data, path, lines) if what == "secrets file" else data
    except ConfigError as exc:
        if lab_path is None:
            raise
        doc = load_located(lab_path)
        raise ConfigError([*exc.issues, doc.issue(loc, f"names this {what}")]) from None


def open_bench(profile_path: str | Path, lab_path: str | Path | None = None,
               *, runtime_path: str | Path | None = None) -> Bench:
    profile_path = Path(profile_path)
    profile = load_profile(profile_path)
    if lab_path:
        lab_path = Path(lab_path)
        lab = load_lab(lab_path)
    else:
        lab = LabConfig(schema_version=1)
    base = (lab_path or profile_path).parent if lab_path else Path.cwd()
    runtime: dict[str, Any] = {}
    rt = runtime_path or lab.runtime
    if rt:
        rt_path = Path(rt) if Path(rt).is_absolute() or runtime_path else base / rt
        runtime = _read_named(rt_path, "runtime facts file", None if runtime_path else lab_path, ("runtime",))
    secrets: dict[str, str] = {}
    if lab.secrets.file:
        sec_path = Path(lab.secrets.file)
        if not sec_path.is_absolute():
            sec_path = base / sec_path
        secrets = _read_named(sec_path, "secrets file", lab_path, ("secrets", "file"))
        for name, value in secrets.items():
            REDACTOR.add(value, name)
    return Bench(profile=profile, profile_path=profile_path, lab=lab, lab_path=lab_path if lab_path else None,
                 runtime=runtime, secrets=secrets)
