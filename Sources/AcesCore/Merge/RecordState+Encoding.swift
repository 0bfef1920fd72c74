extension RecordState {
    /// A compact binary form: format byte, erased byte, then per field its index, heads
    /// (packed HLC, origin, seq) and pending versions. Fields in index order, so equal states
    /// encode to equal bytes. Format 2 adds, after the fields, the `covered` versions (a count of
    /// two bytes, little-endian, then each version); a state without any is written in format 1,
    /// exactly as before format 2 existed.
    public var encoded: [UInt8] {
        var out: [UInt8] = [covered.isEmpty ? 1 : 2, erased ? 1 : 0, UInt8(fields.count)]
        out.reserveCapacity(64)
        for (index, fh) in fields {
            out.append(UInt8(index))
            out.append(UInt8(min(fh.heads.count, 255)))
            for h in fh.heads.prefix(255) {
                appendInt(h.hlc.packed, to: &out)
                appendVersion(h.version, to: &out)
            }
            out.append(UInt8(min(fh.pending.count, 255)))
            for p in fh.pending.prefix(255) { appendVersion(p, to: &out) }
        }
        if !covered.isEmpty {
            let n = min(covered.count, 0xFFFF)
            out.append(UInt8(n & 0xFF))
            out.append(UInt8(n >> 8))
            for v in covered.prefix(n) { appendVersion(v, to: &out) }
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
