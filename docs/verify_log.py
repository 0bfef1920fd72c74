#!/usr/bin/env python3
"""Verify an Aces log with nothing but docs/PROTOCOL.md, SHA-256 and Ed25519.

    aces log show --json --limit 100000 --data DIR | python3 docs/verify_log.py chapters/

Reads the entries printed by `aces log show --json` (envelopes, hashes and signatures; values are
never printed), and for every origin checks, in seq order: seq has no gap, prev names the previous
entry's hash, the entry's hash is SHA-256(canonical envelope || signature), and the signature is
valid over SHA-256(canonical envelope) by the right key: the key the origin's own chain announced
last (`next_key`, PROTOCOL.md §2), or, before any announcement, a key the roster lists for the
origin. Exits 1 and names the first bad entry. Needs Python 3.11+ (tomllib) and the `cryptography`
package.
"""
import base64, hashlib, json, pathlib, sys, tomllib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def canonical(value):
    # Enough for Aces envelopes: ASCII keys, whole numbers, strings, arrays, objects (RFC 8785).
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def main():
    roster = {}
    for f in pathlib.Path(sys.argv[1]).glob("*.toml"):
        chapter = tomllib.loads(f.read_text())
        roster[chapter["id"]] = {k["id"]: Ed25519PublicKey.from_public_bytes(b64(k["public_key"])) for k in chapter.get("keys", [])}
    entries = json.load(sys.stdin)
    by_origin = {}
    for e in entries:
        by_origin.setdefault(e["origin"], []).append(e)
    checked = 0
    for origin, log in sorted(by_origin.items()):
        prev, expected, chain_key = "0" * 64, 1, None
        for e in sorted(log, key=lambda e: e["seq"]):
            where = f"entry {origin}:{e['seq']}"
            envelope = {k: v for k, v in e.items() if k not in ("hash", "signature", "erased")}
            E, sig = canonical(envelope), b64(e["signature"])
            if e["seq"] != expected:
                sys.exit(f"{where}: expected seq {expected}")
            if e["prev"] != prev:
                sys.exit(f"{where}: prev does not name the previous entry's hash")
            if hashlib.sha256(E + sig).hexdigest() != e["hash"]:
                sys.exit(f"{where}: the hash does not match the envelope and signature")
            if chain_key is not None:
                # The chain named the origin's key: only that key signs, whatever the roster says.
                if e["key"] != chain_key[0]:
                    sys.exit(f"{where}: key {e['key']} was replaced by {chain_key[0]} and signs nothing after that")
                key = chain_key[1]
            else:
                key = roster.get(origin, {}).get(e["key"])
                if key is None:
                    sys.exit(f"{where}: key {e['key']} is not in the roster for {origin}")
            try:
                key.verify(sig, hashlib.sha256(E).digest())
            except Exception:
                sys.exit(f"{where}: the signature is not valid")
            if "next_key" in e:
                announced = e["next_key"]
                raw = b64(announced["public_key"])
                if announced["id"] != f"{origin}-{hashlib.sha256(raw).hexdigest()[:8]}":
                    sys.exit(f"{where}: next_key id does not match its public key")
                chain_key = (announced["id"], Ed25519PublicKey.from_public_bytes(raw))
            prev, expected, checked = e["hash"], expected + 1, checked + 1
    print(f"ok: {checked} entries of {len(by_origin)} origin(s) verified")

if __name__ == "__main__":
    main()
