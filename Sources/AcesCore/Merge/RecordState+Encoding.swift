extension RecordState {
    /// The most heads, and the most pending versions, one field's state can keep (its count is
    /// one byte): an operation that would make a field exceed it is refused (docs/PROTOCOL.md §3).
    public static let maxHeads = 255
    /// The most `covered` versions a state can keep (a two-byte count).
    public static let maxCovered = 0xFFFF

    /// The index of a field whose heads or pending versions exceed `maxHeads` (or
    /// `removedIndex` when `covered` exceeds `maxCovered`); nil when the state can be encoded whole.
    public var fieldBeyondBound: Int? {
        for (index, fh) in fields where fh.heads.count > RecordState.maxHeads || fh.pending.count > RecordState.maxHeads {
            return index
        }
        return covered.count > RecordState.maxCovered ? RecordState.removedIndex : nil
    }

    /// A compact binary form: format byte, erased byte, then per field its index, heads
    /// (packed HLC, origin, seq) and pending versions. Fields in index order, so equal states
    /// encode to equal bytes. Format 2 adds, after the fields, the `covered` versions (a count of
    /// two bytes, little-endian, then each version); a state without any is written in format 1,
    /// exactly as before format 2 existed. The state must be within the bounds (`fieldBeyondBound`
    /// is nil): nothing is ever dropped to make it fit.
    public var encoded: [UInt8] {
        precondition(fieldBeyondBound == nil, "a record state beyond the encoding's bounds must be refused before it is stored")
        var out: [UInt8] = [covered.isEmpty ? 1 : 2, erased ? 1 : 0, UInt8(fields.count)]
        out.reserveCapacity(64)
        for (index, fh) in fields {
            out.append(UInt8(index))
            out.append(UInt8(fh.heads.count))
            for h in fh.heads {
                appendInt(h.hlc.packed, to: &out)
                appendVersion(h.version, to: &out)
            }
            out.append(UInt8(fh.pending.count))
            for p in fh.pending { appendVersion(p, to: &out) }
        }
        if !covered.isEmpty {
            let n = covered.count
            out.append(UInt8(n & 0xFF))
            out.append(UInt8(n >> 8))
            for v in covered { appendVersion(v, to: &out) }
        }
        return out
    }

    /// Reads the binary form; nil if it is not one.
    public init?(encoded b: [UInt8]) {
        self.init()
        guard b.count >= 3, b[0] == 1 || b[0] == 2 else { return nil }
        erased = b[1] == 1
        var i = 3
        func byte() -> Int? {
            guard i < b.count else { return nil }
            defer { i += 1 }
            return Int(b[i])
        }
        func int() -> Int64? {
            guard i + 8 <= b.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[i + k]) << (8 * k) }
            i += 8
            return Int64(bitPattern: v)
        }
        func version() -> Version? {
            guard let n = byte(), i + n <= b.count else { return nil }
            let o = String(decoding: b[i..<i + n], as: UTF8.self)
            i += n
            guard let origin = ChapterID(o), let s = int() else { return nil }
            return Version(origin: origin, seq: s)
        }
        for _ in 0..<Int(b[2]) {
            guard let index = byte(), let nh = byte() else { return nil }
            var fh = FieldHeads()
            for _ in 0..<nh {
                guard let p = int(), let v = version() else { return nil }
                fh.heads.append(Stamp(hlc: HLC(packed: p), version: v))
            }
            guard let np = byte() else { return nil }
            for _ in 0..<np {
                guard let v = version() else { return nil }
                fh.pending.append(v)
            }
            fields[index] = fh
        }
        if b[0] == 2 {
            guard let lo = byte(), let hi = byte() else { return nil }
            for _ in 0..<(lo | hi << 8) {
                guard let v = version() else { return nil }
                covered.append(v)
            }
        }
    }

    private func appendInt(_ v: Int64, to out: inout [UInt8]) {
        let u = UInt64(bitPattern: v)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: u >> (8 * k))) }
    }

    private func appendVersion(_ v: Version, to out: inout [UInt8]) {
        let o = Array(v.origin.rawValue.utf8)
        out.append(UInt8(o.count))
        out.append(contentsOf: o)
        appendInt(v.seq, to: &out)
    }
}
