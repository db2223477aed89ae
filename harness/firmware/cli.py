"""`harness firmware`: inspect packages, derive negative test packages, build and sign, make keys.

Exit codes: 0 done; 1 ``inspect --trust`` found the package not valid for those keys; 2 bad input
(unreadable file, not a package, unknown kind, missing key), with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.firmware import KINDS, detect_format, get_format, load_plugin
from harness.firmware.errors import FirmwareError
from harness.firmware.keys import generate_keypair, key_id, load_private_key, load_signing_key
from harness.firmware.simfw1 import build_package

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FirmwareError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _write(path: str, data: bytes, *, inputs: tuple[str, ...] = ()) -> None:
    out = Path(path)
    for src in inputs:
        if out.exists() and out.resolve() == Path(src).resolve():
            raise FirmwareError(f"--out {path} is the input file; write the derived package elsewhere")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as exc:
        raise FirmwareError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _plugins(args: argparse.Namespace) -> None:
    for spec in getattr(args, "format_plugin", None) or []:
        load_plugin(spec)


def _container(args: argparse.Namespace) -> Any:
    """The container format described in ``--container FILE`` (its keys, or a profile's
    updates.container), or None."""
    path = getattr(args, "container", None)
    if not path:
        return None
    import yaml

    from harness.firmware.container import ContainerFormat
    try:
        doc = yaml.safe_load(_read(path))
    except yaml.YAMLError as exc:
        raise FirmwareError(f"--container {path}: not YAML: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("updates"), dict):
        doc = doc["updates"].get("container")
    if not isinstance(doc, dict):
        raise FirmwareError(f"--container {path}: no container description (archive, manifest, payload, signature)")
    from pydantic import ValidationError
    try:
        return ContainerFormat(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FirmwareError(f"--container {path}: {where}: {first['msg']}") from None


def _format(args: argparse.Namespace, data: bytes) -> Any:
    return _container(args) or (get_format(args.format) if args.format else detect_format(data))


def _flatten(info: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for k, v in info.items():
        if isinstance(v, dict):
            rows += _flatten(v, f"{prefix}{k}.")
        else:
            rows.append((f"{prefix}{k}", v))
    return rows


def cmd_inspect(args: argparse.Namespace) -> int:
    _plugins(args)
    data = _read(args.package)
    fmt = _format(args, data)
    info = fmt.inspect(data)
    status = EXIT_OK
    if args.trust:
        verifier = getattr(fmt, "verify", None)
        if verifier is None:
            raise FirmwareError(f"format {fmt.name} has no signature check; --trust needs a format plugin that does")
        info["verify"] = verifier(data, list(args.trust))
        status = EXIT_OK if info["verify"]["valid"] else EXIT_INVALID
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=False))
    else:
        rows = _flatten(info)
        width = max((len(k) for k, _ in rows), default=0)
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
    return status


def cmd_derive(args: argparse.Namespace) -> int:
    _plugins(args)
    data = _read(args.package)
    kw: dict[str, Any] = {"version": args.set_version, "offset": args.offset, "xor": args.xor,
                          "length": args.length, "keep_key_id": args.keep_key_id}
    fmt = _format(args, data)
    if args.key:
        kw["key"] = load_private_key(args.key) if fmt.name == "simfw1" else load_signing_key(args.key)
    if args.kind not in fmt.kinds:
        hint = ("; the byte-level fallback does not know where a signature or version is: add a format plugin "
                "or describe the container (docs/firmware.md)") if fmt.name == "raw" else ""
        raise FirmwareError(f"format {fmt.name} cannot derive {args.kind!r} (it supports {', '.join(fmt.kinds)}){hint}")
    out = fmt.derive(data, args.kind, **kw)
    _write(args.out, out, inputs=(args.package,))
    print(f"{args.out}: {args.kind} of {args.package} ({fmt.name}, {len(out)} bytes)")
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    payload = _read(args.payload)
    key = load_private_key(args.key) if args.key else None
    data = build_package(payload, model=args.model, version=args.set_version, private_key=key,
                         build_date=args.build_date)
    _write(args.out, data, inputs=(args.payload,))
    signer = f"signed with key {key_id(key)}" if key else "unsigned"
    print(f"{args.out}: SIMFW1 {args.model} {args.set_version}, {len(payload)}-byte payload, {signer}")
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    private_path, public_path = generate_keypair(args.directory, args.name)
    from harness.firmware.keys import load_public_key
    print(f"{private_path} (private, keep it secret) and {public_path}; key id {key_id(load_public_key(public_path))}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Entry for a parsed `firmware` command: bad input is one line on stderr, never a traceback."""
    try:
        return int(args.firmware_func(args))
    except FirmwareError as exc:
        print(f"harness firmware: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _int(text: str) -> int:
    try:
        return int(text, 0)  # 0x.. accepted for offsets and masks
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `firmware` and its subcommands to a parent parser's subparsers."""
    fw = subparsers.add_parser("firmware", help="inspect firmware packages, derive negative test packages, sign")
    sub = fw.add_subparsers(dest="firmware_command", required=True)
    plugin_help = "load a package format plugin module:attr (repeatable)"

    i = sub.add_parser("inspect", help="show what a package declares (and whether trusted keys verify it)")
    i.add_argument("package")
    i.add_argument("--trust", action="append", metavar="PUBKEY", help="public key PEM to verify against")
    i.add_argument("--json", action="store_true")
    i.add_argument("--format", help="force a format instead of detecting it")
    i.add_argument("--format-plugin", action="append", metavar="MODULE:ATTR", help=plugin_help)
    i.add_argument("--container", metavar="FILE", help="YAML describing a tar/zip container package "
                                                         "(archive, manifest, payload, signature), or a profile "
                                                         "whose updates.container does")
    i.set_defaults(func=run, firmware_func=cmd_inspect)

    kinds = ", ".join(f"{k} ({v})" for k, v in KINDS.items())
    d = sub.add_parser("derive", help="derive a negative test package from a valid one",
                       description=f"Kinds: {kinds}.")
    d.add_argument("package")
    d.add_argument("--kind", required=True, choices=sorted(KINDS))
    d.add_argument("--key", help="private key PEM: the foreign key (foreign_signature), the manufacturer's "
                                 "key (rollback; relabel_version to re-sign)")
    d.add_argument("--version", dest="set_version", metavar="VERSION", help="version for relabel_version / rollback")
    d.add_argument("--offset", type=_int, help="flip_byte: byte offset (in the payload when the format is known)")
    d.add_argument("--xor", type=_int, help="flip_byte: mask to xor the byte with (default 0x01)")
    d.add_argument("--length", type=_int, help="truncate: bytes to keep (default half)")
    d.add_argument("--keep-key-id", action="store_true", help="foreign_signature: keep the header's key id")
    d.add_argument("--out", required=True)
    d.add_argument("--format", help="force a format instead of detecting it")
    d.add_argument("--format-plugin", action="append", metavar="MODULE:ATTR", help=plugin_help)
    d.add_argument("--container", metavar="FILE", help="YAML describing a tar/zip container package "
                                                         "(archive, manifest, payload, signature), or a profile "
                                                         "whose updates.container does")
    d.set_defaults(func=run, firmware_func=cmd_derive)

    b = sub.add_parser("build", help="build a SIMFW1 package from a payload")
    b.add_argument("--payload", required=True)
    b.add_argument("--model", required=True)
    b.add_argument("--version", dest="set_version", metavar="VERSION", required=True)
    signing = b.add_mutually_exclusive_group(required=True)
    signing.add_argument("--key", help="private key PEM to sign with")
    signing.add_argument("--unsigned", action="store_true", help="build without a signature")
    b.add_argument("--build-date", help="ISO 8601 UTC (default now), for reproducible packages")
    b.add_argument("--out", required=True)
    b.set_defaults(func=run, firmware_func=cmd_build)

    k = sub.add_parser("keygen", help="make an Ed25519 key pair NAME.key / NAME.pub in DIR")
    k.add_argument("directory")
    k.add_argument("name")
    k.set_defaults(func=run, firmware_func=cmd_keygen)
    return fw


def main(argv: list[str] | None = None) -> int:
    """`harness firmware ...` on its own; argv may start with 'firmware' or not."""
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="command", required=True))
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["firmware"]:
        argv = argv[1:]
    try:
        args = parser.parse_args(["firmware", *argv])
    except SystemExit as exc:  # argparse has printed its usage line
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
