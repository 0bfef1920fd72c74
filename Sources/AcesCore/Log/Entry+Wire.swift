extension Entry {
    /// Reads an entry from one line of the federation's stream. Fast path: the line is
    /// `{"envelope":…,"payloads":…,"signature":"…"}` (members in any order); the envelope's
    /// bytes are taken as received (after checking they are the canonical form of what they
    /// say) and the payloads' bytes are kept for storage. Any other shape goes through
    /// `init(json:)`. Either way every value's shape is checked (`checkValueShapes`).
    public init(wireLine line: some Collection<UInt8>) throws(EntryError) {
        let bytes = Array(line)
        guard let parts = WireLine.split(bytes) else {
            do { self = try Entry(json: try JSONParser.parse(bytes)) } catch let e as EntryError { throw e } catch {
                throw EntryError.malformed("not JSON (\(error))")
            }
            return
        }
        let envBytes = Array(bytes[parts.envelope])
        let payloadsJSON: JSONValue
        do { payloadsJSON = try JSONParser.parse(bytes[parts.payloads]) } catch { throw EntryError.malformed("not JSON (\(error))") }
        guard case .array(let payloads) = payloadsJSON else { throw EntryError.malformed("payloads must be an array") }
        guard let sig = Base64URL.decode(bytes: bytes[parts.signature]), sig.count == 64 else {
            throw EntryError.malformed("the signature must be 64 bytes of base64url")
        }
        // Fast path: a strict reader of the canonical layout; anything else is read generally,
        // which either finds the precise fault or shows the bytes are not canonical.
        let envelope: Envelope
        if let fast = Envelope.decodeCanonical(envBytes) {
            envelope = fast
        } else {
            let envJSON: JSONValue
            do { envJSON = try JSONParser.parse(envBytes) } catch { throw EntryError.malformed("not JSON (\(error))") }
            envelope = try Envelope(json: envJSON)
            guard envelope.canonicalBytes == envBytes else { throw EntryError.malformed("the envelope is not in canonical form") }
        }
        try self.init(envelope: envelope, envelopeBytes: envBytes, signature: sig, payloadsJSON: payloads)
        try checkValueShapes()
        payloadBytes = Array(bytes[parts.payloads])
    }
}

/// Finds the three members of a wire line without building a tree.
enum WireLine {
    struct Parts {
        var envelope: Range<Int>
        var payloads: Range<Int>
        /// The signature's characters, without the quotes.
        var signature: Range<Int>
    }

    static func split(_ b: [UInt8]) -> Parts? {
        var i = 0
        func skipSpace() { while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 } }
        /// Skips a string starting at `i` (a quote); false if unterminated.
        func skipString() -> Bool {
            i += 1
            while i < b.count {
                if b[i] == 0x5c { i += 2; continue }
                if b[i] == 0x22 { i += 1; return true }
                i += 1
            }
            return false
        }
        /// Skips one value; false if malformed as far as structure goes.
        func skipValue() -> Bool {
            guard i < b.count else { return false }
            if b[i] == 0x22 { return skipString() }
            if b[i] == 0x7b || b[i] == 0x5b {
                var depth = 0
                while i < b.count {
                    switch b[i] {
                    case 0x22: if !skipString() { return false }; continue
                    case 0x7b, 0x5b: depth += 1
                    case 0x7d, 0x5d:
                        depth -= 1
                        if depth == 0 { i += 1; return true }
                    default: break
                    }
                    i += 1
                }
                return false
            }
            while i < b.count, b[i] != 0x2c, b[i] != 0x7d { i += 1 }
            return true
        }
        skipSpace()
        guard i < b.count, b[i] == 0x7b else { return nil }
        i += 1
        var found: [String: Range<Int>] = [:]
        while true {
            skipSpace()
            guard i < b.count, b[i] == 0x22 else { return nil }
            let keyStart = i + 1
            guard skipString() else { return nil }
            let key = String(decoding: b[keyStart..<(i - 1)], as: UTF8.self)
            skipSpace()
            guard i < b.count, b[i] == 0x3a else { return nil }
            i += 1
            skipSpace()
            let start = i
            guard skipValue() else { return nil }
            guard found.updateValue(start..<i, forKey: key) == nil else { return nil }
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == 0x2c { i += 1; continue }
            guard b[i] == 0x7d else { return nil }
            i += 1
            break
        }
        skipSpace()
        guard i == b.count, found.count == 3, let e = found["envelope"], let p = found["payloads"], let s = found["signature"],
            s.count >= 2, b[s.lowerBound] == 0x22, b[s.upperBound - 1] == 0x22, b[e.lowerBound] == 0x7b
        else { return nil }
        return Parts(envelope: e, payloads: p, signature: (s.lowerBound + 1)..<(s.upperBound - 1))
    }
}
