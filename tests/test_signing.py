"""Signed releases: keys, signed pointers and manifests, mirrors that trust keys (issue 16, item 1)."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path

import pytest

from localize.cli import main
from localize.config import Region
from localize.errors import ConfigError, IntegrityError
from localize.model import Catalog
from localize.regions.bundle import make_bundle
from localize.regions.keys import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    SIGNING_KEY_ENV,
    Signer,
    TrustedKeys,
    generate_keys,
    manifest_signature_key,
    pointer_signature_key,
    show_fingerprint,
)
from localize.regions.publish import publish_bundle
from localize.regions.pull import live_version, pull
from localize.regions.rollback import rollback
from localize.regions.schema import pointer_key
from localize.regions.signing import region_signer
from localize.storage.base import LocalStorage
from localize.storage.sources import FolderSource

C, L = "course", "es"


def keypair(folder: Path) -> tuple[Signer, TrustedKeys, Path]:
    made = generate_keys(folder)
    return Signer.from_file(made.private), TrustedKeys.from_files([made.public]), made.public


def publish_text(storage: LocalStorage, src: Path, text: str, signer: Signer | None) -> str:
    (src / "index.html").parent.mkdir(parents=True, exist_ok=True)
    (src / "index.html").write_text(f"<html><body><p>{text}</p></body></html>")
    (src / "a.png").write_bytes(b"png" * 10)
    with make_bundle(FolderSource(src), Catalog(), L) as b:
        version = publish_bundle(storage, "r", C, L, b, Catalog(), signer=signer).version
    assert version is not None
    return version


def mirror_files(mirror: Path) -> dict[str, bytes]:
    live = mirror / C / L
    return {p.relative_to(live).as_posix(): p.read_bytes() for p in sorted(live.rglob("*")) if p.is_file()}


@pytest.fixture
def signed(tmp_path: Path) -> tuple[LocalStorage, Path, str, Signer, TrustedKeys]:
    """A signed region at its second version, a trusting mirror at the first."""
    signer, trust, _ = keypair(tmp_path / "keys")
    storage = LocalStorage(tmp_path / "region")
    first = publish_text(storage, tmp_path / "src", "one", signer)
    mirror = tmp_path / "mirror"
    assert pull(str(tmp_path / "region"), C, L, mirror, trust=trust).version == first
    publish_text(storage, tmp_path / "src", "two", signer)
    return storage, mirror, first, signer, trust


def live_pointer(storage: LocalStorage) -> tuple[bytes, dict[str, str]]:
    data = storage.read_bytes(pointer_key(C, L))
    return data, json.loads(data)


# -- keys ----------------------------------------------------------------------------------------


def test_generated_keys_have_safe_modes_and_a_fingerprint_in_groups(tmp_path: Path) -> None:
    made = generate_keys(tmp_path / "keys")
    assert made.private.name == PRIVATE_KEY_FILE and made.public.name == PUBLIC_KEY_FILE
    assert stat.S_IMODE(made.private.stat().st_mode) == 0o600
    assert made.private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert made.public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert re.fullmatch(r"[0-9a-f]{64}", made.fingerprint)
    assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", show_fingerprint(made.fingerprint))
    assert Signer.from_file(made.private).fingerprint == made.fingerprint
    assert list(TrustedKeys.from_files([made.public]).keys) == [made.fingerprint]
    with pytest.raises(ConfigError, match="a key is there already"):
        generate_keys(tmp_path / "keys")
    assert Signer.from_file(made.private).fingerprint == made.fingerprint  # not overwritten


def test_a_private_key_others_can_read_or_that_is_not_one_is_refused_without_showing_it(tmp_path: Path) -> None:
    made = generate_keys(tmp_path)
    secret = made.private.read_bytes()
    made.private.chmod(0o644)
    with pytest.raises(ConfigError) as e:
        Signer.from_file(made.private)
    assert str(e.value) == f"{made.private}: the signing key may be read by others (mode 0644); chmod 600 it"
    broken = tmp_path / "broken.pem"
    broken.write_bytes(secret[:-40] + b"\n-----END PRIVATE KEY-----\n")
    broken.chmod(0o600)
    with pytest.raises(ConfigError) as e:
        Signer.from_file(broken)
    assert str(e.value) == (
        f"{broken}: not an unencrypted Ed25519 private key in PEM (make one with `localize keys generate`)"
    )
    body = b"".join(secret.splitlines()[1:-1]).decode()
    made.private.chmod(0o600)
    assert body[:20] not in str(e.value) and body[:20] not in repr(Signer.from_file(made.private))
    with pytest.raises(ConfigError, match="not an Ed25519 public key in PEM"):
        TrustedKeys.from_files([tmp_path / PRIVATE_KEY_FILE])


def test_the_region_setting_or_the_environment_names_the_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = generate_keys(tmp_path / "keys")
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    plain = Region(name="r", location="region", locales=["es"])
    assert region_signer(plain) is None
    with_key = Region(name="r", location="region", locales=["es"], signing_key=str(made.private))
    assert region_signer(with_key).fingerprint == made.fingerprint  # type: ignore[union-attr]
    monkeypatch.setenv(SIGNING_KEY_ENV, str(made.private))
    assert region_signer(plain).fingerprint == made.fingerprint  # type: ignore[union-attr]


# -- publish signs, pull verifies ----------------------------------------------------------------


def test_a_signed_release_pulls_with_trust_and_signatures_sit_beside_what_they_sign(
    signed: tuple[LocalStorage, Path, str, Signer, TrustedKeys],
) -> None:
    storage, mirror, first, signer, trust = signed
    data, pointer = live_pointer(storage)
    assert storage.exists(pointer_signature_key(C, L, data))
    assert storage.exists(manifest_signature_key(C, L, pointer["version"]))
    assert json.loads(storage.read_bytes(pointer_signature_key(C, L, data)))["key"] == signer.fingerprint
    result = pull(str(storage.root), C, L, mirror, trust=trust)
    assert result.switched and result.version == pointer["version"] != first
    assert b"two" in (mirror / C / L / "index.html").read_bytes()


def _tamper_pointer(storage: LocalStorage, signer: Signer) -> None:
    data, _ = live_pointer(storage)
    storage.write_bytes(pointer_key(C, L), data.replace(b'"updated": "', b'"updated":  "'))


def _tamper_pointer_keep_signature(storage: LocalStorage, signer: Signer) -> None:
    data, _ = live_pointer(storage)
    changed = data.replace(b'"updated": "', b'"updated":  "')
    storage.write_bytes(pointer_key(C, L), changed)
    storage.write_bytes(
        pointer_signature_key(C, L, changed), storage.read_bytes(pointer_signature_key(C, L, data))
    )  # the old signature copied to where the new bytes' would be


def _tamper_manifest(storage: LocalStorage, signer: Signer) -> None:
    _, pointer = live_pointer(storage)
    storage.write_bytes(pointer["manifest"], storage.read_bytes(pointer["manifest"]).replace(b"\n", b"\n ", 1))


def _tamper_signature(storage: LocalStorage, signer: Signer) -> None:
    _, pointer = live_pointer(storage)
    key = manifest_signature_key(C, L, pointer["version"])
    raw = json.loads(storage.read_bytes(key))
    sig = bytearray(base64.b64decode(raw["signature"]))
    sig[0] ^= 1
    raw["signature"] = base64.b64encode(bytes(sig)).decode()
    storage.write_bytes(key, json.dumps(raw).encode())


def _malformed_signature(storage: LocalStorage, signer: Signer) -> None:
    data, _ = live_pointer(storage)
    storage.write_bytes(pointer_signature_key(C, L, data), b'{"key": "x"}')


def _other_key(storage: LocalStorage, signer: Signer) -> None:
    data, pointer = live_pointer(storage)
    manifest = storage.read_bytes(pointer["manifest"])
    storage.write_bytes(pointer_signature_key(C, L, data), signer.sign(data))
    storage.write_bytes(manifest_signature_key(C, L, pointer["version"]), signer.sign(manifest))


def _missing_manifest_signature(storage: LocalStorage, signer: Signer) -> None:
    _, pointer = live_pointer(storage)
    storage.delete(manifest_signature_key(C, L, pointer["version"]))


def _missing_pointer_signature(storage: LocalStorage, signer: Signer) -> None:
    data, _ = live_pointer(storage)
    storage.delete(pointer_signature_key(C, L, data))


STAYS = "not using it (the live version is left as it was)"
CASES = {
    "pointer changed": (_tamper_pointer, "latest.json", "the pointer is not signed (no courses/course/es/signatures/"),
    "pointer changed, signature copied": (
        _tamper_pointer_keep_signature, "latest.json",
        f"the pointer does not match its signature: it was changed after signing; {STAYS}",
    ),
    "manifest changed": (
        _tamper_manifest, "versions/", f"the manifest does not match its signature: it was changed after signing; {STAYS}"
    ),
    "signature changed": (
        _tamper_signature, "versions/", f"the manifest does not match its signature: it was changed after signing; {STAYS}"
    ),
    "signature malformed": (_malformed_signature, "latest.json", f"the pointer's signature is malformed; {STAYS}"),
    "signed by another key": (_other_key, "latest.json", "the pointer is signed by key "),
    "manifest signature missing": (
        _missing_manifest_signature, "versions/", "the manifest is not signed (no courses/course/es/versions/"
    ),
    "pointer signature missing": (_missing_pointer_signature, "latest.json", "the pointer is not signed"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_with_any_signed_file_is_refused_and_the_mirror_is_untouched(
    signed: tuple[LocalStorage, Path, str, Signer, TrustedKeys], tmp_path: Path, case: str
) -> None:
    storage, mirror, first, _, trust = signed
    tamper, names, message = CASES[case]
    intruder = Signer.from_file(generate_keys(tmp_path / "intruder").private)
    tamper(storage, intruder)
    before = mirror_files(mirror)
    with pytest.raises(IntegrityError) as e:
        pull(str(storage.root), C, L, mirror, trust=trust)
    assert names in (e.value.path or "") and message in e.value.message, str(e.value)
    if case == "signed by another key":
        assert e.value.message == (
            f"the pointer is signed by key {show_fingerprint(intruder.fingerprint)}, which is not trusted "
            f"(trusted: {trust.describe()}); {STAYS}"
        )
    assert live_version(mirror, C, L) == first and mirror_files(mirror) == before
    assert not list((mirror / ".localize" / C / L).glob(".staging-*"))


def test_without_trust_a_mirror_pulls_unsigned_releases_as_before(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "region")
    version = publish_text(storage, tmp_path / "src", "one", None)
    assert not list(storage.list(f"courses/{C}/{L}/signatures"))
    assert pull(str(storage.root), C, L, tmp_path / "mirror").version == version
    _, trust, _ = keypair(tmp_path / "keys")
    with pytest.raises(IntegrityError, match="the pointer is not signed"):
        pull(str(storage.root), C, L, tmp_path / "mirror2", trust=trust)


def test_rotation_two_trusted_keys_accept_old_and_new_releases(tmp_path: Path) -> None:
    old, _, old_public = keypair(tmp_path / "old")
    new, _, new_public = keypair(tmp_path / "new")
    both = TrustedKeys.from_files([old_public, new_public])
    storage = LocalStorage(tmp_path / "region")
    first = publish_text(storage, tmp_path / "src", "one", old)
    mirror = tmp_path / "mirror"
    assert pull(str(storage.root), C, L, mirror, trust=both).version == first
    second = publish_text(storage, tmp_path / "src", "two", new)
    assert pull(str(storage.root), C, L, mirror, trust=both).version == second
    # once every release is signed by the new key, the old one can go; before, it is still needed
    with pytest.raises(IntegrityError, match="which is not trusted"):
        pull(str(storage.root), C, L, tmp_path / "other", trust=TrustedKeys.from_files([old_public]))


def test_switching_signing_on_republishes_an_unsigned_live_version_signed(tmp_path: Path) -> None:
    signer, trust, _ = keypair(tmp_path / "keys")
    storage = LocalStorage(tmp_path / "region")
    unsigned = publish_text(storage, tmp_path / "src", "one", None)
    again = publish_text(storage, tmp_path / "src", "one", signer)
    assert again != unsigned
    with make_bundle(FolderSource(tmp_path / "src"), Catalog(), L) as b:
        same = publish_bundle(storage, "r", C, L, b, Catalog(), signer=signer)
    assert not same.published and same.version == again
    assert pull(str(storage.root), C, L, tmp_path / "mirror", trust=trust).version == again


def test_rollback_signs_the_pointer_and_refuses_a_target_this_key_did_not_sign(tmp_path: Path) -> None:
    signer, trust, _ = keypair(tmp_path / "keys")
    storage = LocalStorage(tmp_path / "region")
    unsigned = publish_text(storage, tmp_path / "src", "zero", None)
    first = publish_text(storage, tmp_path / "src", "one", signer)
    second = publish_text(storage, tmp_path / "src", "two", signer)
    assert rollback(storage, "r", C, L, signer=signer) == (second, first)
    assert pull(str(storage.root), C, L, tmp_path / "mirror", trust=trust).version == first
    with pytest.raises(IntegrityError, match=f"version {unsigned} is not signed by this signing key"):
        rollback(storage, "r", C, L, to=unsigned, signer=signer)
    assert live_pointer(storage)[1]["version"] == first


# -- the command line ----------------------------------------------------------------------------


def test_keys_generate_prints_where_and_the_fingerprint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate", "--out", str(tmp_path / "k")]) == 0
    out = capsys.readouterr().out
    fingerprint = Signer.from_file(tmp_path / "k" / PRIVATE_KEY_FILE).fingerprint
    assert out == (
        f"private key: {tmp_path / 'k' / PRIVATE_KEY_FILE} (mode 0600; keep it secret: set it as a region's signing_key)\n"
        f"public key:  {tmp_path / 'k' / PUBLIC_KEY_FILE} (give it to mirrors: pull --trust)\n"
        f"fingerprint: {show_fingerprint(fingerprint)}\n"
    )
    assert main(["keys", "generate", "--out", str(tmp_path / "k")]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'k' / PRIVATE_KEY_FILE}: a key is there already; move it away or choose another folder\n"
    )


def test_pull_trust_on_the_command_line_and_from_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    signer, _, public = keypair(tmp_path / "keys")
    _, _, stranger = keypair(tmp_path / "stranger")
    storage = LocalStorage(tmp_path / "region")
    version = publish_text(storage, tmp_path / "src", "one", signer)
    base = ["pull", "--from", str(storage.root), "--course", C, "--locale", L, "-q"]
    assert main([*base, "--dest", "m1", "--trust", str(stranger), "--trust", str(public)]) == 0
    assert capsys.readouterr().out.startswith(f"{C}/{L}: switched to version {version}")
    assert main([*base, "--dest", "m2", "--trust", str(stranger)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {storage.describe(pointer_key(C, L))}: the pointer is signed by key ")
    assert err.endswith(f"which is not trusted (trusted: {TrustedKeys.from_files([stranger]).describe()}); {STAYS}\n")
    assert not (tmp_path / "m2" / C / L).exists()
    (tmp_path / "localize.toml").write_text('[mirror]\ntrust = ["stranger/localize-signing.pub.pem"]\n')
    assert main([*base, "--dest", "m3"]) == 2  # ./localize.toml's trust applies
    assert "which is not trusted" in capsys.readouterr().err
    (tmp_path / "localize.toml").write_text('[mirror]\ntrust = ["keys/localize-signing.pub.pem"]\n')
    assert main(["pull", "--from", str(storage.root), "--all", "--dest", "m4", "-q"]) == 0
    assert (
        capsys.readouterr().out.split("; ")[0]
        == f"{C}/{L}: switched to version {version}: 2 files downloaded (86 bytes), 0 reused"
    )
    os.remove(tmp_path / "localize.toml")
    assert main([*base, "--dest", "m5"]) == 0  # no trust anywhere: as before


def test_prune_removes_the_signatures_of_what_it_prunes_and_keeps_the_live_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localize.regions import gc
    from localize.regions.keys import manifest_signature_key

    signer, trust, _ = keypair(tmp_path / "keys")
    storage = LocalStorage(tmp_path / "region")
    made = [publish_text(storage, tmp_path / "src", f"text {n}", signer) for n in range(4)]
    monkeypatch.setattr(gc, "POINTER_SIGNATURE_GRACE", 0.0)
    pruned, _ = gc.prune(storage, C, L, keep=2, grace_seconds=0)
    assert set(pruned) == set(made[:2])
    for version in made[:2]:
        assert not storage.exists(manifest_signature_key(C, L, version))
    for version in made[2:]:
        assert storage.exists(manifest_signature_key(C, L, version))
    data, _ = live_pointer(storage)
    signatures = [k for k in storage.list(f"courses/{C}/{L}/signatures") if k.endswith(".sig")]
    assert signatures == [pointer_signature_key(C, L, data)]
    assert pull(str(tmp_path / "region"), C, L, tmp_path / "mirror", trust=trust).version == made[-1]


def test_a_publish_with_no_signing_key_yet_says_how_to_make_one_and_that_nothing_was_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_publish import COURSE, setup_workspace

    key = tmp_path / "keys" / PRIVATE_KEY_FILE
    config = setup_workspace(
        tmp_path, f'[[regions]]\nname = "mena"\nlocation = "region"\nlocales = ["ar"]\nsigning_key = "{key}"\n', capsys
    )
    assert main(["publish", "--course", COURSE, "--locale", "ar", "--config", str(config)]) == 2  # nothing done
    assert capsys.readouterr().err == (
        f"error: mena: not published: {key}: no signing key here; make one with: localize keys generate "
        f"--out {key.parent} and give its public key to the region's mirrors\n"
    )
