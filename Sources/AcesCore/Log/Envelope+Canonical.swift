extension Envelope {
    /// The canonical JSON of the envelope, written directly (members in the RFC 8785 order)
    /// rather than through a `JSONValue` tree: it runs for every entry authored. The golden
    /// vectors check it byte for byte against `CanonicalJSON.encode(json)`.
    public var canonicalBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(160 + operations.count * 160)
        func raw(_ s: StaticString) { s.withUTF8Buffer { out.append(contentsOf: $0) } }
        func string(_ s: String) { CanonicalJSON.encode(.string(s), into: &out) }
        func int(_ n: Int64) { out.append(contentsOf: String(n).utf8) }
        raw(byMember ? #"{"by":"member","hlc":["# : #"{"hlc":["#)
        int(hlc.millis)
        raw(",")
        int(hlc.counter)
        raw(#"],"key":"#)
        string(keyID)
        if let k = nextKey {
            raw(#","next_key":{"id":"#)
            string(k.keyID)
            raw(#","public_key":"#)
            string(k.publicKey.base64url)
            raw("}")
        }
        raw(#","ops":["#)
        for (i, op) in operations.enumerated() {
            if i > 0 { raw(",") }
            raw(#"{"act":"#)
            string(op.action.rawValue)
            if let d = op.digest {
                raw(#","digest":""#)
                out.append(contentsOf: d.hex.utf8)
                raw(#"""#)
            }
            raw(#","fields":{"#)
            // Field names are ASCII, so byte order is UTF-16 order.
            for (k, name) in op.bases.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if k > 0 { raw(",") }
                string(name)
                raw(":[")
                for (j, v) in op.bases[name]!.enumerated() {
                    if j > 0 { raw(",") }
                    string(v.description)
                }
                raw("]")
            }
            raw(#"},"id":"#)
            string(op.id)
            raw(#","kind":"#)
            string(op.kind.rawValue)
            if let to = op.to {
                raw(#","to":"#)
                string(to.rawValue)
            }
            raw("}")
        }
        raw(#"],"origin":"#)
        string(origin.rawValue)
        raw(#","prev":""#)
        out.append(contentsOf: prev.hex.utf8)
        raw(#"","seq":"#)
        int(seq)
        raw(#","v":"#)
        int(Int64(protocolVersion))
        raw("}")
        return out
    }
}
