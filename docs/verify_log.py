#!/usr/bin/env python3
"""Verify an Aces log with nothing but docs/PROTOCOL.md, SHA-256 and Ed25519.

    aces log export --data DIR | python3 docs/verify_log.py chapters/
    python3 docs/verify_log.py chapters/ log.ndjson

Reads an export (`aces log export`: one entry per line, exactly as the federation sends it,
{"envelope": ..., "payloads": [...], "signature": "..."}) from a file or standard input, and the
roster folder (chapters/*.toml). For every origin, in seq order, it checks what PROTOCOL.md §2
says: each entry is well formed (§1: canonical envelope, members, operations, the shape of every
value per field, payloads that match their digests), is the next of its origin and links to the
previous entry's hash, names the right key (the key the origin's chain announced last with
`next_key`, or before any, a key the roster lists for the origin and that is valid at the entry's
`hlc` time, from `valid_from` included to `valid_until` excluded), and is authentic: its own
signature is valid, or a later entry of the same origin chained to it is validly signed (one
signature vouches for the chain behind it). An entry announcing `next_key` must be validly signed
by the key it retires. A `set` whose payload is null is accepted only where the export also
holds an `erase` of that record (any origin); otherwise its payload was withheld.

Then it applies the ownership rule of §2 (*Ownership*, version 3) to every operation of the
entries that verified: the record's creator (the owner tag of a UUIDv8 id, or else the origin of
the earliest operation on it in an entry of version 1 or 2), the grants, revocations and transfers
replayed in stamp order, and the roster's stewards (`roles = ["steward"]`). Operations that break
it are listed as `refused: origin:seq operation i: reason`; they are part of a valid log (a node
keeps them as evidence and does not apply them), so they do not change the exit status.

Prints the first bad entry of each origin as `origin:seq: reason`. An entry of a protocol version
this script does not know is neither valid nor invalid: it is reported as held, with everything
after it in its origin. Exit status: 0 when every entry verified, 1 when an entry is bad, 2 when
none is bad but some are held. A truncated export (its last lines missing) cannot be told from a
shorter log: compare each origin's last seq with the node's heads (`aces status`).

Needs Python 3.11+ (tomllib) and the `cryptography` package.
"""
import base64, hashlib, json, pathlib, re, sys, tempfile, tomllib, unicodedata
from array import array
from datetime import datetime, timezone
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

VERSIONS = (1, 2, 3)  # the protocol versions this script knows (PROTOCOL.md, "Protocol versions")
ZERO = "0" * 64
MAX_SEQ = 2**40 - 1
CHAPTER = re.compile(r"[a-z][a-z0-9-]{1,31}\Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
VERSION = re.compile(r"([a-z][a-z0-9-]{1,31}):([1-9][0-9]*)\Z")
REMOVED = "_removed"
# The shape of each field's values (PROTOCOL.md §1.3): "text" with its most bytes of UTF-8,
# "number" (a whole number) or "links" (a list of at most 10 texts of at most 500 bytes).
# Fields a later protocol version added, by the first version that may name them.
FIELD_SINCE = {("member", "email_visibility"): 3}
FIELDS = {
    "member": {
        "chapter": 32, "email": 254, "name": 200, "organisation": 200, "role": 200, "city": 120, "country": 2,
        "bio": 4000, "links": "links", "visibility": 7, "status": 8, "merged_into": 36, "email_visibility": 7,
    },
    "event": {
        "chapter": 32, "title": 200, "description": 8000, "start": 20, "end": 20, "timezone": 64, "venue": 300,
        "url": 2000, "capacity": "number", "status": 9,
    },
}


class Bad(Exception):
    """The entry breaks a rule: `held` when it is of a protocol version this script does not know."""

    def __init__(self, reason, held=False):
        super().__init__(reason)
        self.held = held


def b64(s):
    if not isinstance(s, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", s):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != s:
        raise ValueError("not canonical base64url")
    return raw


def canonical(value):
    """RFC 8785 for what Aces writes: ASCII keys, whole numbers, strings (numbers are read by
    `number`, so a whole number written 1.0 or 1e3 is written back 1 and 1000, as RFC 8785 does)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def number(text):
    x = float(text)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"member '{k[:40]}' appears twice")
        out[k] = v
    return out


def no_constant(name):
    raise ValueError(f"{name} is not JSON")


DECODER = json.JSONDecoder(object_pairs_hook=no_duplicates, parse_constant=no_constant, parse_float=number)
SPACE = re.compile(r"[ \t\r\n]*")


def members(text):
    """The members of the JSON object `text`: name -> (value, its exact text)."""
    i = SPACE.match(text).end()
    if not text.startswith("{", i):
        raise ValueError("a line must be a JSON object")
    out, i = {}, SPACE.match(text, i + 1).end()
    while True:
        if not text.startswith('"', i):
            raise ValueError("expected a member name")
        name, i = json.decoder.scanstring(text, i + 1)
        i = SPACE.match(text, i).end()
        if not text.startswith(":", i):
            raise ValueError("expected ':'")
        start = SPACE.match(text, i + 1).end()
        value, end = DECODER.raw_decode(text, start)
        if name in out:
            raise ValueError(f"member '{name[:40]}' appears twice")
        out[name] = (value, text[start:end])
        i = SPACE.match(text, end).end()
        if text.startswith(",", i):
            i = SPACE.match(text, i + 1).end()
        elif text.startswith("}", i) and SPACE.match(text, i + 1).end() == len(text):
            return out
        else:
            raise ValueError("expected ',' or '}'")


def whole_number(x, low, high):
    return type(x) is int and low <= x <= high


def millis(text, where):
    """A roster instant (RFC 3339, UTC, optional fraction) in Unix milliseconds, rounded."""
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
        delta = d - datetime(1970, 1, 1, tzinfo=timezone.utc)
    except (AttributeError, TypeError, ValueError):
        sys.exit(f"{where}: not an instant like 2026-01-01T00:00:00Z")
    return (delta.days * 86400 + delta.seconds) * 1000 + round(delta.microseconds / 1000)


STEWARDS = set()  # the chapters the roster gives the role "steward" (filled by load_roster)
CHAPTERS = set()  # every chapter the roster lists


def load_roster(folder):
    """chapter id -> key id -> (Ed25519 public key, raw bytes, valid_from ms, valid_until ms or None)."""
    roster = {}
    files = sorted(pathlib.Path(folder).glob("*.toml"))
    if not files:
        sys.exit(f"{folder}: no chapters/*.toml roster files")
    for f in files:
        chapter = tomllib.loads(f.read_text(encoding="utf-8"))
        keys = roster.setdefault(chapter["id"], {})
        CHAPTERS.add(chapter["id"])
        if "steward" in chapter.get("roles", []):
            STEWARDS.add(chapter["id"])
        for k in chapter.get("keys", []):
            raw = b64(k["public_key"])
            until = k.get("valid_until")
            keys[k["id"]] = (
                Ed25519PublicKey.from_public_bytes(raw), raw, millis(k["valid_from"], f"{f}: key {k['id']}: valid_from"),
                None if until is None else millis(until, f"{f}: key {k['id']}: valid_until"),
            )
    return roster


def text_problem(s, most):
    size = len(s.encode("utf-8", "surrogatepass"))
    if size > most:
        return f"must be at most {most} bytes of UTF-8 (this one has {size})"
    if max(s, default="\0") < "\u0300":  # combining marks start at U+0300
        return None
    run = 0
    for c in s:
        run = run + 1 if unicodedata.category(c) in ("Mn", "Mc", "Me") else 0
        if run > 6:
            return "must not stack more than 6 combining marks on one character"
    return None


def shape_problem(shape, value):
    if value is None:
        return None
    if shape == "number":
        # capacity, the only number: PROTOCOL.md §1.3
        return None if type(value) is int and 0 <= value <= 1_000_000 else "must be a whole number from 0 to 1000000"
    if shape == "links":
        if not isinstance(value, list):
            return "must be a list of links"
        if len(value) > 10:
            return "must list at most 10 links"
        for item in value:
            if not isinstance(item, str):
                return "must be a list of text"
            why = text_problem(item, 500)
            if why:
                return "has a link that " + why
        return None
    if not isinstance(value, str):
        return "must be text"
    return text_problem(value, shape)


def check_envelope(env):
    """Raises Bad unless `env` is a well-formed envelope (§1.1, §1.2)."""
    if not isinstance(env, dict):
        raise Bad("the envelope must be a JSON object")
    if not whole_number(env.get("v"), 0, 2**53):
        raise Bad("v must be a protocol version")
    if env["v"] not in VERSIONS:
        raise Bad(
            f"held: protocol version {env['v']} is not known here (this verifier reads 1 to 3); "
            "it and the entries after it are not checked", held=True)
    extra = set(env) - {"v", "origin", "seq", "prev", "hlc", "key", "next_key", "ops", "by"}
    if extra:
        raise Bad(f"unknown envelope member '{sorted(extra)[0][:40]}'")
    if "by" in env:
        if env["v"] < 3:
            raise Bad("by is allowed only in entries of protocol version 3 and later")
        if env["by"] != "member":
            raise Bad('by must be "member" when present')
    origin, seq = env.get("origin"), env.get("seq")
    if not isinstance(origin, str) or not CHAPTER.match(origin):
        raise Bad("origin must be a chapter id")
    if not whole_number(seq, 1, MAX_SEQ):
        raise Bad("seq must be a whole number from 1 to 2^40 - 1")
    if not isinstance(env.get("prev"), str) or not HEX64.match(env["prev"]):
        raise Bad("prev must be 64 lowercase hex digits")
    if seq == 1 and env["prev"] != ZERO:
        raise Bad("the first entry of an origin must have a zero prev")
    hlc = env.get("hlc")
    if not (isinstance(hlc, list) and len(hlc) == 2 and whole_number(hlc[0], 0, 2**47 - 1) and whole_number(hlc[1], 0, 65535)):
        raise Bad("hlc must be [milliseconds, counter]")
    key = env.get("key")
    if not isinstance(key, str) or not 1 <= len(key.encode()) <= 64:
        raise Bad("key must name a signing key")
    ops = env.get("ops")
    if not isinstance(ops, list):
        raise Bad("ops must be a list of operations")
    if "next_key" in env:
        nk = env["next_key"]
        try:
            raw = b64(nk["public_key"])
            Ed25519PublicKey.from_public_bytes(raw)
            assert isinstance(nk, dict) and set(nk) == {"id", "public_key"} and len(raw) == 32
        except Exception:
            raise Bad('next_key must be {"id": key id, "public_key": 32 bytes base64url}')
        if nk["id"] != f"{origin}-{hashlib.sha256(raw).hexdigest()[:8]}":
            raise Bad("next_key id does not match its public key")
        if nk["id"] == key:
            raise Bad("next_key must name a key other than the one signing the entry")
        if ops:
            raise Bad("an entry that announces next_key carries no operations")
    elif not 1 <= len(ops) <= 1000:
        raise Bad("ops must list 1 to 1000 operations")
    records = set()
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            raise Bad(f"operation {i} must be an object")
        kind, act = op.get("kind"), op.get("act")
        if kind not in FIELDS:
            raise Bad(f"operation {i} has an unknown kind")
        if not isinstance(op.get("id"), str) or not UUID.match(op["id"]):
            raise Bad(f"operation {i} id must be a lowercase UUID")
        custody = act in ("grant", "revoke", "transfer")
        if act not in ("set", "delete", "erase") and not custody:
            raise Bad(f"operation {i} act must be set, delete, erase, grant, revoke or transfer")
        if not isinstance(op.get("fields"), dict):
            raise Bad(f"operation {i} fields must be an object")
        extra = set(op) - {"kind", "id", "act", "fields"} - ({"digest"} if act == "set" else {"to"} if custody else set())
        if extra:
            raise Bad(f"operation {i} has an unknown member '{sorted(extra)[0][:40]}'")
        for name, bases in op["fields"].items():
            if name not in FIELDS[kind] and name != REMOVED:
                raise Bad(f"operation {i} names an unknown field '{name[:40]}' of {kind}")
            if env["v"] < FIELD_SINCE.get((kind, name), 1):
                raise Bad(f"operation {i} names {name}, a field of protocol version {FIELD_SINCE[(kind, name)]} and later")
            if not isinstance(bases, list) or len(bases) > 64:
                raise Bad(f"operation {i} field '{name}' must list at most 64 base versions")
            for b in bases:
                m = VERSION.match(b) if isinstance(b, str) else None
                if not m or int(m[2]) > MAX_SEQ:
                    raise Bad(f"operation {i} field '{name}' has a base that is not origin:seq (seq from 1 to 2^40 - 1)")
                if m[1] == origin and int(m[2]) >= seq:
                    raise Bad(f"operation {i} field '{name}' names a base of its own origin that is not earlier")
            if len(set(bases)) != len(bases):
                raise Bad(f"operation {i} field '{name}' names a base twice")
        if env["v"] < 3 and custody:
            raise Bad(f"operation {i}: {act} exists from protocol version 3 on")
        if env["v"] >= 3 and act == "set" and "chapter" in op["fields"]:
            raise Bad(f"operation {i} sets chapter, which from protocol version 3 is the owner's and changes only by a transfer")
        if custody:
            to = op.get("to")
            if not isinstance(to, str) or not CHAPTER.match(to):
                raise Bad(f"operation {i} is a {act} and must name the chapter it is for in 'to'")
            if op["fields"]:
                raise Bad(f"operation {i} is a {act} and names no field")
            if act == "transfer" and to == origin:
                raise Bad(f"operation {i} transfers the record to its own origin")
        if act == "set":
            if not any(name != REMOVED for name in op["fields"]):
                raise Bad(f"operation {i} sets no field")
            if not isinstance(op.get("digest"), str) or not HEX64.match(op["digest"]):
                raise Bad(f"operation {i} digest must be 64 lowercase hex digits")
        if (kind, op["id"]) in records:
            raise Bad(f"operation {i} touches a record another operation of the entry already touches")
        records.add((kind, op["id"]))
    if "by" in env and not (len(ops) == 1 and ops[0]["kind"] == "member" and ops[0]["act"] == "set"):
        raise Bad("an entry by a member carries exactly one set of a member record")


def check_payloads(env, payloads, erased):
    """Raises Bad unless the payloads match the operations (§1.3)."""
    if not isinstance(payloads, list) or len(payloads) != len(env["ops"]):
        raise Bad(f"the payloads must be a list of {len(env['ops'])}, one per operation")
    for i, (op, p) in enumerate(zip(env["ops"], payloads)):
        if p is None:
            if op["act"] == "set" and (op["kind"], op["id"]) not in erased:
                raise Bad(
                    f"payload withheld: operation {i} sets {op['kind']} {op['id']} without its values, "
                    "and the export holds no erase of that record")
            continue
        if op["act"] != "set":
            raise Bad(f"operation {i} carries values but is not a set")
        try:
            assert isinstance(p, dict) and set(p) == {"salt", "values"} and isinstance(p["values"], dict)
            assert len(b64(p["salt"])) == 16
        except Exception:
            raise Bad(f'operation {i}: a payload must be {{"salt": 16 bytes base64url, "values": {{...}}}}')
        if hashlib.sha256(canonical(p)).hexdigest() != op["digest"]:
            raise Bad(f"operation {i}: the values do not match their signed digest")
        if set(p["values"]) != set(op["fields"]) - {REMOVED}:
            raise Bad(f"operation {i}: values name other fields than the operation")
        for name, value in sorted(p["values"].items()):
            why = shape_problem(FIELDS[op["kind"]][name], value)
            if why:
                raise Bad(f"operation {i}: {name} {why}")


def read_line(raw):
    """(entry dict, the envelope's exact text) of one export line; raises ValueError."""
    text = raw.decode("utf-8")
    found = members(text)
    if set(found) != {"envelope", "payloads", "signature"}:
        raise ValueError('an entry must be {"envelope": {...}, "payloads": [...], "signature": "..."}')
    return {k: v[0] for k, v in found.items()}, found["envelope"][1]


def verify_origin(origin, lines, roster, erased, operations):
    """Walks one origin's entries in seq order: (entries verified, first problem or None). The
    operations of the entries that verified are added to `operations` (record -> list)."""
    expected, prev, chain_key, pending, checked = 1, ZERO, None, None, 0
    found = []  # (seq, record, operation summary) of the entries read so far
    keys = roster.get(origin, {})
    for seq, raw, rival in lines:
        try:
            if rival:
                raise Bad("a fork: the export holds two different entries at this seq")
            try:
                entry, env_text = read_line(raw)
            except ValueError as e:
                raise Bad(f"not an entry ({e})")
            env = entry["envelope"]
            check_envelope(env)
            try:
                E = canonical(env)
                assert E == env_text.encode("utf-8")
            except (AssertionError, UnicodeEncodeError):
                raise Bad("the envelope is not in canonical form")
            if seq != expected:
                raise Bad(f"missing entries before it (expected seq {expected})")
            if env["prev"] != prev:
                raise Bad("prev does not match the previous entry's hash")
            try:
                sig = b64(entry["signature"])
                assert len(sig) == 64
            except Exception:
                raise Bad("the signature must be 64 bytes of base64url")
            grant = keys.get(env["key"])
            if chain_key is not None:  # the chain named the origin's key: only that key signs
                if env["key"] != chain_key[0]:
                    raise Bad(f"key '{env['key']}' was replaced at {origin}:{chain_key[2]} and signs nothing after it")
                if grant is not None and (grant[1] != chain_key[3] or not covers(grant, env)):
                    raise Bad(f"key '{env['key']}' is not the one the roster lists or was not valid at the entry's time")
                signer = chain_key[1]
            elif grant is None:
                raise Bad(f"key '{env['key']}' is not listed for '{origin}'")
            elif not covers(grant, env):
                raise Bad(f"key '{env['key']}' was not valid at the entry's time")
            else:
                signer = grant[0]
            check_payloads(env, entry["payloads"], erased)
            signed = valid_signature(signer, sig, E)
            if "next_key" in env:
                if not signed:
                    raise Bad("the signature is not valid: an entry announcing next_key must be signed by the key it retires")
                nk = env["next_key"]
                raw_key = b64(nk["public_key"])
                chain_key = (nk["id"], Ed25519PublicKey.from_public_bytes(raw_key), seq, raw_key)
            if signed:
                pending = None  # this signature vouches for every entry chained behind it
            elif pending is None:
                pending = seq
            stamp = (env["hlc"][0], env["hlc"][1], origin, seq)
            for i, op in enumerate(env["ops"]):
                found.append((seq, (op["kind"], op["id"]), (stamp, i, op["act"], op.get("to"), set(op["fields"]), env["v"])))
        except Bad as bad:
            keep(found, pending if pending is not None else seq, operations)
            if pending is not None:
                return checked, (pending, "no valid signature: neither its own nor a later entry's vouches for it", False)
            return checked, (seq, str(bad), bad.held)
        prev, expected, checked = hashlib.sha256(E + sig).hexdigest(), expected + 1, checked + 1
    keep(found, pending if pending is not None else expected, operations)
    if pending is not None:
        return checked, (pending, "no valid signature: neither its own nor a later entry's vouches for it", False)
    return checked, None


def keep(found, before, operations):
    """Adds the operations of entries below seq `before` (the authentic ones) to `operations`."""
    for seq, record, summary in found:
        if seq < before:
            operations.setdefault(record, []).append(summary)


def owner_tag(chapter):
    return hashlib.sha256(chapter.encode()).hexdigest()[:8]


def refused_operations(operations):
    """PROTOCOL.md §2, *Ownership*: (origin, seq, operation index, reason) of every operation its
    origin could not write, given every operation on each record."""
    out = []
    for (kind, rid), ops in sorted(operations.items()):
        ops.sort(key=lambda o: o[0])
        if rid[14] == "8":  # a UUIDv8: its last 32 bits are the creator's owner tag
            creator = ("tag", rid[-8:])
        else:
            old = [o for o in ops if o[5] < 3]
            creator = ("chapter", old[0][0][2]) if old else ("none", None)

        def holds(holder, chapter):
            return holder == ("tag", owner_tag(chapter)) or holder == ("chapter", chapter)

        def standing(before):
            holder, grants = creator, set()
            for stamp, _, act, to, _, _ in ops:
                if stamp >= before:
                    break
                if act not in ("grant", "revoke", "transfer") or not (stamp[2] in STEWARDS or holds(holder, stamp[2])):
                    continue
                if act == "grant":
                    grants.add(to)
                elif act == "revoke":
                    grants.discard(to)
                else:
                    holder, grants = ("chapter", to), set()
            return holder, grants

        for stamp, i, act, to, fields, _ in ops:
            origin = stamp[2]
            if origin in STEWARDS:
                continue
            holder, grants = standing(stamp)
            if holds(holder, origin):
                continue
            if origin in grants:
                if act == "set" and "merged_into" not in fields and REMOVED not in fields:
                    continue
                why = f"{origin} holds a grant on {kind} {rid}, which does not cover a {act}" + (
                    " that merges or brings back the record" if act == "set" else "")
            else:
                owner = holder[1] if holder[0] == "chapter" else None
                if holder[0] == "tag":
                    owner = next((c for c in sorted(CHAPTERS) if owner_tag(c) == holder[1]), None)
                why = f"{kind} {rid} belongs to {owner or 'another chapter'}: {origin} may not change it"
            out.append((origin, stamp[3], i, why))
    return out


def covers(grant, env):
    """Whether the roster's key is valid at the entry's time: valid_from <= ms < valid_until."""
    ms = env["hlc"][0]
    return grant[2] <= ms and (grant[3] is None or ms < grant[3])


def valid_signature(key, sig, E):
    try:
        key.verify(sig, hashlib.sha256(E).digest())
        return True
    except InvalidSignature:
        return False


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: verify_log.py ROSTER_FOLDER [EXPORT_FILE]   (the export is read from standard input without a file)")
    roster = load_roster(sys.argv[1])
    if len(sys.argv) == 3 and sys.argv[2] != "-":
        source = open(sys.argv[2], "rb")
    else:  # kept in a temporary file: the second pass reads entries by offset
        source = tempfile.TemporaryFile()
        while chunk := sys.stdin.buffer.read(1 << 20):
            source.write(chunk)
        source.seek(0)
    # First pass: where each origin's entries are, and which records the export erases.
    places, erased, problems, number, offset = {}, set(), [], 0, 0
    for raw in source:
        number += 1
        if raw.strip():
            try:
                entry, _ = read_line(raw)
                origin, seq = entry["envelope"]["origin"], entry["envelope"]["seq"]
                assert isinstance(origin, str) and CHAPTER.match(origin) and whole_number(seq, 1, MAX_SEQ)
            except Exception:
                problems.append(f"line {number}: not an entry whose origin and seq can be read")
            else:
                seqs, offsets = places.setdefault(origin, (array("q"), array("q")))
                seqs.append(seq)
                offsets.append(offset)
                for op in entry["envelope"].get("ops") or []:
                    if isinstance(op, dict) and op.get("act") == "erase":
                        erased.add((op.get("kind"), op.get("id")))
        offset += len(raw)
    # Second pass: each origin in seq order.
    checked, held, operations = 0, 0, {}

    def lines(seqs, offsets):
        """(seq, line, whether it is a second, different line at that seq), in seq order."""
        last = previous = None
        for k in sorted(range(len(seqs)), key=seqs.__getitem__):
            source.seek(offsets[k])
            raw = source.readline()
            if seqs[k] == last:
                if raw.rstrip() != previous.rstrip():
                    yield seqs[k], raw, True
                continue
            last, previous = seqs[k], raw
            yield seqs[k], raw, False

    for origin in sorted(places):
        n, problem = verify_origin(origin, lines(*places[origin]), roster, erased, operations)
        checked += n
        if problem:
            seq, reason, is_held = problem
            problems.append(f"{origin}:{seq}: {reason}")
            held += is_held
    refused = refused_operations(operations)
    for origin, seq, i, why in refused:
        print(f"refused: {origin}:{seq} operation {i}: {why}")
    for p in problems:
        print(p)
    if len(problems) > held:
        sys.exit(1)
    if held:
        sys.exit(2)
    print(f"ok: {checked} entries of {len(places)} origin(s) verified" + (
        f", {len(refused)} operation(s) refused for ownership" if refused else ""))


if __name__ == "__main__":
    main()
