"""Builds the stand-in wheel for opentelemetry-semantic-conventions (see README.md).

Usage: python build_wheel.py OUT_DIR  -> prints the wheel's path.
A wheel is a zip with a dist-info folder; writing it directly needs no build tools.
"""

import base64
import hashlib
import pathlib
import sys
import zipfile

NAME = "opentelemetry_semantic_conventions"
VERSION = "0.66b0+mlwatch.standin"
HERE = pathlib.Path(__file__).resolve().parent


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main(out_dir: str) -> None:
    dist_info = f"{NAME}-{VERSION}.dist-info"
    files: dict[str, bytes] = {}
    for src in sorted((HERE / "opentelemetry").rglob("*.py")):
        files[src.relative_to(HERE).as_posix()] = src.read_bytes()
    files[f"{dist_info}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        "Name: opentelemetry-semantic-conventions\n"
        f"Version: {VERSION}\n"
        "Summary: mlwatch stand-in: only the names opentelemetry-sdk 1.45.0 imports\n"
    ).encode()
    files[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: mlwatch\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ).encode()
    lines = [record_line(p, d) for p, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(lines) + "\n").encode()
    out = pathlib.Path(out_dir) / f"{NAME}-{VERSION}-py3-none-any.whl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1])
