/// One entry of an origin's log: the envelope, its signature, its hash, and the payloads of
/// its operations (nil where erased or where the operation carries none).
public struct Entry: Sendable, Hashable {
    public let envelope: Envelope
    /// The envelope's canonical JSON: exactly the bytes that were signed (through SHA-256).
    public let envelopeBytes: [UInt8]
    /// Ed25519 signature over SHA-256(envelopeBytes).
    public let signature: [UInt8]
    /// SHA-256(envelopeBytes ‖ signature): what the next entry's `prev` names.
    public let hash: Digest32
    /// One per operation: the values of a `set`, nil for other actions or once erased.
    public var payloads: [Payload?]
    /// The canonical JSON of `payloads` when already known (received or stored), so it is not
    /// encoded again.
    public var payloadBytes: [UInt8]?

    /// Assembles an entry and computes its hash.
    public init(envelope: Envelope, envelopeBytes: [UInt8], signature: [UInt8], payloads: [Payload?]) {
        self.envelope = envelope
        self.envelopeBytes = envelopeBytes
        self.signature = signature
        self.hash = Digest32.sha256(envelopeBytes, signature)
        self.payloads = payloads
    }

    /// Signs a new entry. `payloadBytes`, when given, is the canonical JSON array of the payloads.
    public static func sign(_ envelope: Envelope, payloads: [Payload?], payloadBytes: [UInt8]? = nil, with key: SigningKey) -> Entry {
        let bytes = envelope.canonicalBytes
        let signature = key.sign(Digest32.sha256(bytes).bytes)
        var entry = Entry(envelope: envelope, envelopeBytes: bytes, signature: signature, payloads: payloads)
        entry.payloadBytes = payloadBytes
        return entry
    }

    /// Whether `key` signed this entry's envelope.
    public func isSigned(by key: PublicSigningKey) -> Bool {
        key.isValidSignature(signature, for: Digest32.sha256(envelopeBytes).bytes)
    }

    /// The payloads as one JSON array (null where absent), as stored and sent.
    public var payloadsJSON: JSONValue { .array(payloads.map { $0?.json ?? .null }) }

    /// The whole entry as JSON: `{"envelope": {…}, "signature": "…", "payloads": […]}`.
    public var json: JSONValue {
        .object([
            "envelope": envelope.json, "signature": .string(Base64URL.encode(signature)), "payloads": payloadsJSON,
        ])
    }
}

extension Entry {
    /// Reads an entry from its JSON form and checks that it is well formed: a known format
    /// version, known kinds and fields, payloads whose digests match. Chain and signature
    /// are checked by `ChainVerifier`.
    public init(json: JSONValue) throws(EntryError) {
        guard case .object(let o) = json, case .object? = o["envelope"], let envJSON = o["envelope"],
            case .string(let sigText)? = o["signature"], case .array(let payloadsJSON)? = o["payloads"]
        else { throw EntryError.malformed("an entry must be {\"envelope\": {...}, \"signature\": \"...\", \"payloads\": [...]}") }
        guard let sig = Base64URL.decode(sigText), sig.count == 64 else {
            throw EntryError.malformed("the signature must be 64 bytes of base64url")
        }
        let envelope = try Envelope(json: envJSON)
        try self.init(envelope: envelope, envelopeBytes: CanonicalJSON.encode(envJSON), signature: sig, payloadsJSON: payloadsJSON)
        try checkValueShapes()
    }

    /// Checks the shape of every value (`FieldSpec.shapeProblem`: type, size in bytes, stacked
    /// combining marks), which a receiver requires however well the entry is signed (PROTOCOL.md
    /// §1.3). Entries already stored are not checked again, so a replica keeps serving what it
    /// accepted under an earlier rule.
    public func checkValueShapes() throws(EntryError) {
        for (i, (op, payload)) in zip(envelope.operations, payloads).enumerated() {
            guard let payload else { continue }
            for (name, value) in payload.values {
                guard let spec = op.kind.field(name), let why = spec.shapeProblem(value) else { continue }
                throw EntryError.malformed("entry \(envelope.version) operation \(i): \(name) \(why)")
            }
        }
    }

    /// Assembles an entry from stored or received parts, checking payloads against the envelope.
    public init(envelope: Envelope, envelopeBytes: [UInt8], signature: [UInt8], payloadsJSON: [JSONValue]) throws(EntryError) {
        guard payloadsJSON.count == envelope.operations.count else {
            throw EntryError.malformed(
                "entry \(envelope.version) has \(payloadsJSON.count) payloads for \(envelope.operations.count) operations")
        }
        var payloads = [Payload?]()
        payloads.reserveCapacity(payloadsJSON.count)
        for (i, (op, pj)) in zip(envelope.operations, payloadsJSON).enumerated() {
            if case .null = pj {
                payloads.append(nil)
                continue
            }
            guard op.action == .set, let digest = op.digest else {
                throw EntryError.malformed("entry \(envelope.version) operation \(i) carries values but is not a set")
            }
            let p = try Payload(json: pj)
            guard p.digest == digest else {
                throw EntryError.digestMismatch(origin: envelope.origin, seq: envelope.seq, operation: i)
            }
            guard Set(p.values.keys) == Set(op.bases.keys).subtracting([LogOperation.removedField]) else {
                throw EntryError.malformed("entry \(envelope.version) operation \(i): values name other fields than the operation")
            }
            payloads.append(p)
        }
        self.init(envelope: envelope, envelopeBytes: envelopeBytes, signature: signature, payloads: payloads)
    }
}
