extension Envelope {
    /// Reads an envelope that is already in canonical form straight into its types, without a
    /// JSON tree: the canonical layout fixes the order of every member. Returns nil when the
    /// bytes are not exactly canonical in the way Aces writes envelopes (an escape, a non-ASCII
    /// character, another member order…); the caller then takes the general path, which
    /// accepts or refuses with a precise reason. Success implies the bytes are canonical.
    public static func decodeCanonical(_ bytes: [UInt8]) -> Envelope? {
        bytes.withUnsafeBufferPointer { buf in
            var r = CanonicalReader(buf)
            return r.envelope()
        }
    }
}

/// A strict reader of Aces's canonical envelope layout.
struct CanonicalReader {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    mutating func literal(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        let p = s.utf8Start
        for k in 0..<n where b[i + k] != p[k] { return false }
        i += n
        return true
    }

    /// A string of printable ASCII without escapes; returns its bytes' range.
    mutating func plainString() -> Range<Int>? {
        guard i < b.count, b[i] == 0x22 else { return nil }
        let start = i + 1
        var j = start
        while j < b.count {
            let c = b[j]
            if c == 0x22 { break }
            if c == 0x5c || c < 0x20 || c >= 0x7f { return nil }
            j += 1
        }
        guard j < b.count else { return nil }
        i = j + 1
        return start..<j
    }

    mutating func string() -> String? {
        guard let r = plainString() else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)
    }

    /// A non-negative integer written canonically (no leading zeros), below 2^53.
    mutating func integer() -> Int64? {
        guard i < b.count, (0x30...0x39).contains(b[i]) else { return nil }
        if b[i] == 0x30 {
            i += 1
            return (i < b.count && (0x30...0x39).contains(b[i])) ? nil : 0
        }
        var n: Int64 = 0
        var digits = 0
        while i < b.count, (0x30...0x39).contains(b[i]) {
            n = n * 10 + Int64(b[i] - 0x30)
            digits += 1
            if digits > 16 { return nil }
            i += 1
        }
        return n < (1 << 53) ? n : nil
    }

    mutating func digest() -> Digest32? {
        guard let r = plainString(), r.count == 64 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        for k in 0..<32 {
            func nib(_ c: UInt8) -> UInt8? {
                switch c {
                case 0x30...0x39: c - 0x30
                case 0x61...0x66: c - 0x61 + 10
                default: nil
                }
            }
            guard let hi = nib(b[r.lowerBound + 2 * k]), let lo = nib(b[r.lowerBound + 2 * k + 1]) else { return nil }
            out[k] = hi << 4 | lo
        }
        return Digest32(bytes: out)
    }

    mutating func envelope() -> Envelope? {
        guard literal("{") else { return nil }
        let byMember = literal(#""by":"member","#)
        guard literal(#""hlc":["#), let ms = integer(), ms <= HLC.maxMillis, literal(","), let c = integer(), c <= HLC.maxCounter,
            literal(#"],"key":"#), let key = string(), (1...64).contains(key.utf8.count), literal(#","ops":["#)
        else { return nil }
        var records = Set<String>()
        var ops = [LogOperation]()
        var opJSONs = [Range<Int>]()
        while true {
            let opStart = i
            guard let op = operation() else { return nil }
            opJSONs.append(opStart..<i)
            guard records.insert(op.kind.rawValue + "/" + op.id).inserted else { return nil }
            ops.append(op)
            if literal(",") { continue }
            guard literal("]") else { return nil }
            break
        }
        guard (1...Envelope.maxOperations).contains(ops.count), literal(#","origin":"#), let o = string(), let origin = ChapterID(o),
            literal(#","prev":"#), let prev = digest(), literal(#","seq":"#), let seq = integer(), seq >= 1, seq < 1 << 40,
            literal(#","v":"#), let version = integer(), Envelope.readableVersions.contains(Int(version)), literal("}"), i == b.count
        else { return nil }
        if seq == 1 && prev != .zero { return nil }
        for op in ops where !op.isWellFormed(inVersion: Int(version)) { return nil }
        if byMember && (version < Envelope.byVersion || !Envelope.memberMayAuthor(ops)) { return nil }
        for op in ops where op.bases.keys.contains(where: { !LogOperation.fieldExists($0, op.kind, inVersion: Int(version)) }) {
            return nil
        }
        // Bases of the entry's own origin must be earlier.
        for op in ops { for (_, vs) in op.bases { for v in vs where v.origin == origin && v.seq >= seq { return nil } } }
        return Envelope(
            origin: origin, seq: seq, prev: prev, hlc: HLC(millis: ms, counter: c), keyID: key, operations: ops,
            protocolVersion: Int(version), byMember: byMember)
    }

    mutating func operation() -> LogOperation? {
        guard literal(#"{"act":"#), let a = string(), let action = Action(rawValue: a) else { return nil }
        var opDigest: Digest32?
        if action == .set {
            guard literal(#","digest":"#), let d = digest() else { return nil }
            opDigest = d
        }
        guard literal(#","fields":{"#) else { return nil }
        var names = [(String, [Version])]()
        if !literal("}") {
            while true {
                guard let name = string(), literal(":[") else { return nil }
                var versions = [Version]()
                if !literal("]") {
                    while true {
                        guard let t = string(), let v = Version(t) else { return nil }
                        versions.append(v)
                        if literal(",") { continue }
                        guard literal("]") else { return nil }
                        break
                    }
                }
                guard versions.count <= Envelope.maxBases, Set(versions).count == versions.count else { return nil }
                if let last = names.last, !last.0.utf8.lexicographicallyPrecedes(name.utf8) { return nil }
                names.append((name, versions))
                if literal(",") { continue }
                guard literal("}") else { return nil }
                break
            }
        }
        guard literal(#","id":"#), let id = string(), RecordID.isValid(id), literal(#","kind":"#), let k = string(),
            let kind = RecordKind(rawValue: k), literal("}")
        else { return nil }
        for (name, _) in names where kind.field(name) == nil && name != LogOperation.removedField { return nil }
        if action == .set && !names.contains(where: { $0.0 != LogOperation.removedField }) { return nil }
        return LogOperation(kind: kind, id: id, action: action, bases: Dictionary(uniqueKeysWithValues: names), digest: opDigest)
    }
}
