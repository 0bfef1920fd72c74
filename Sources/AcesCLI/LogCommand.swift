import AcesCore
import AcesNodeFiles
import AcesStore
import ArgumentParser
import Foundation

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Read, export and verify the signed change logs this node holds.",
        subcommands: [Show.self, Export.self, Verify.self]
    )
}

extension LogCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List log entries: origin:seq, time, key, hash and what each operation touched (never the values).",
            discussion: """
                --json prints one flattened object per entry for people and scripts (the envelope's members, with hash, \
                signature and the indexes of erased payloads). To verify a log elsewhere, use 'aces log export': it writes \
                the entries exactly as they travel, the format docs/PROTOCOL.md documents and docs/verify_log.py reads. \
                A stored entry that cannot be read is named origin:seq and the others are still shown; the command then \
                exits non-zero.
                """)
        @OptionGroup var node: NodeOptions
        @Option(help: "Only this origin (default: every origin held).") var origin: String?
        @Option(help: "Only entries after this seq.") var after: Int64 = 0
        @Option(help: "At most this many entries per origin.") var limit = 100
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let origin, ChapterID(origin) == nil { throw ValidationError("--origin: \(ChapterID.rule)") }
            guard after >= 0 else { throw ValidationError("--after must be 0 or more") }
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
        }

        func run() throws {
            let store = try node.node().openStore()
            let origins = try origin.map { [ChapterID($0)!] } ?? store.heads().map(\.origin)
            var all = [JSONValue]()
            var damaged = [LogProblem]()
            for o in origins {
                for stored in try store.storedEntries(of: o, after: after, limit: limit) {
                    guard case .intact(let e) = stored else {
                        if case .damaged(let p) = stored {
                            damaged.append(p)
                            if !output.json { Out.line("\(p.origin):\(p.seq)  DAMAGED: \(p.reason)") }
                        }
                        continue
                    }
                    if output.json {
                        var j = e.envelope.json
                        if case .object(var obj) = j {
                            obj["hash"] = .string(e.hash.hex)
                            obj["signature"] = .string(Base64URL.encode(e.signature))
                            obj["erased"] = .array(
                                e.payloads.enumerated().compactMap { i, p in
                                    p == nil && e.envelope.operations[i].action == .set ? .number(Double(i)) : nil
                                })
                            j = .object(obj)
                        }
                        all.append(j)
                    } else {
                        let env = e.envelope
                        let time = Date(timeIntervalSince1970: Double(env.hlc.millis) / 1000)
                        Out.line("\(env.version)  \(Instant.format(time))  key \(env.keyID)  hash \(e.hash.hex.prefix(16))")
                        if let next = env.nextKey { Out.line("    next key \(next.keyID): \(env.keyID) signs nothing after this entry") }
                        for op in env.operations {
                            let fields = op.bases.keys.filter { $0 != LogOperation.removedField }.sorted().joined(separator: ", ")
                            Out.line(
                                "    \(op.action.rawValue) \(op.kind.rawValue) \(op.id)\(fields.isEmpty || op.action != .set ? "" : "  (\(fields))")"
                            )
                        }
                    }
                }
            }
            if output.json { Out.json(.array(all)) }
            try DamagedEntries.report(damaged, shown: "the other entries are shown")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the entries exactly as they travel between nodes (envelope, signature, payloads), one per line.",
            discussion: """
                Writes every entry this node holds (or one origin's), origin by origin in seq order, as the lines of \
                GET /federation/v1/entries: {"envelope":…,"payloads":…,"signature":"…"}, the bytes as stored. This is \
                the format docs/PROTOCOL.md documents ("Verifying an export") and docs/verify_log.py checks:
                  aces log export --data DIR | python3 docs/verify_log.py chapters/
                The payloads carry the values, members' personal data among them: keep the file as safe as the node's \
                data. A stored entry that cannot be read is named origin:seq on standard error and left out, the others \
                are written, and the command exits non-zero.
                """)
        @OptionGroup var node: NodeOptions
        @Option(help: "Only this origin (default: every origin held).") var origin: String?
        @Option(help: ArgumentHelp("Write to this new file (mode 0600) instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            if let origin, ChapterID(origin) == nil { throw ValidationError("--origin: \(ChapterID.rule)") }
        }

        func run() throws {
            let store = try node.node().openStore()
            let only = origin.map { ChapterID($0)! }
            if let only, try !store.heads().contains(where: { $0.origin == only }) {
                throw CLIError("this node holds no entries of '\(only)' (see 'aces status')")
            }
            let sink = try output.map(Out.create) ?? FileHandle.standardOutput
            var damaged = [LogProblem]()
            do {
                _ = try store.exportLog(
                    origin: only,
                    write: { bytes in
                        do { try sink.write(contentsOf: Data(bytes)) } catch {
                            throw CLIError(
                                output.map {
                                    "cannot write \($0): the disk is full or the file too large; nothing was kept, free some space and try again"
                                }
                                    ?? "cannot write to standard output: the disk is full or the reader stopped reading")
                        }
                    },
                    damaged: { p in
                        Out.error("damaged: \(p)")
                        damaged.append(p)
                    })
                if output != nil { try sink.close() }
            } catch {
                if let output { unlink(output) }  // a partial export holds personal data and blocks the retry
                throw error
            }
            try DamagedEntries.report(damaged, shown: "the other entries are exported")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk every origin's chain and check every hash, link, digest and signature.",
            discussion: "Exits non-zero and names the first bad entry of each origin when one is found.")
        @OptionGroup var node: NodeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let dir = try node.node()
            let result = try dir.openStore().verifyLog(keys: try dir.keyRing())
            let total = result.checked.values.reduce(0, +)
            if output.json {
                Out.json([
                    "valid": .bool(result.isValid),
                    "checked": .object(
                        Dictionary(uniqueKeysWithValues: result.checked.map { ($0.key.rawValue, .number(Double($0.value))) })),
                    "problems": .array(
                        result.problems.map {
                            ["origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq)), "reason": .string($0.reason)]
                        }),
                    "waiting": .array(
                        result.waiting.map {
                            ["origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq)), "reason": .string($0.reason)]
                        }),
                ])
            } else if result.isValid {
                Out.line("ok: \(total) entries of \(result.checked.count) origin(s) verified")
            } else {
                for p in result.problems { Out.line("bad: \(p)") }
            }
            // Payloads a peer withheld are not faults of the log: the operations wait, unapplied.
            if !output.json { for w in result.waiting { Out.line("waiting: \(w)") } }
            if !result.isValid {
                throw LogInvalid(first: result.problems[0])
            }
        }
    }
}

/// Stored entries `log show` and `log export` could not read: exits non-zero naming them.
enum DamagedEntries {
    static func report(_ damaged: [LogProblem], shown: String) throws {
        guard let first = damaged.first else { return }
        let names = damaged.prefix(10).map { "\($0.origin):\($0.seq)" }.joined(separator: ", ")
        throw CLIError(
            damaged.count == 1
                ? "stored entry \(names) is damaged (\(first.reason)); \(shown); run 'aces log verify'"
                : "\(damaged.count) stored entries are damaged (\(names)\(damaged.count > 10 ? ", …" : "")); \(shown); run 'aces log verify'"
        )
    }
}

/// `aces log verify` found a bad entry.
struct LogInvalid: Error, CustomStringConvertible {
    let first: LogProblem
    var description: String { "the log does not verify: \(first)" }
}

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print one digest of the replicated state; equal on every node that holds the same entries.",
        discussion:
            "Operations waiting for a payload a peer withheld (see 'aces status') are not part of the state until it "
            + "arrives, so the digest differs from the peers' until then."
    )
    @OptionGroup var node: NodeOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let d = try node.node().openStore().stateDigest()
        if output.json { Out.json(["digest": .string(d.hex)]) } else { Out.line(d.hex) }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the node: chapter, signing key, and each origin's log head.")
    @OptionGroup var node: NodeOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let dir = try node.node()
        let store = try dir.openStore()
        let heads = try store.heads()
        let key = dir.config.keys.last
        // Validity never depends on local time, so an origin whose clock runs ahead is accepted;
        // it is flagged here (its timestamps win concurrent edits until real time catches up).
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let ahead = heads.filter { $0.hlc.millis > now + 60_000 }
        let restoreLock = try store.restoreLock()
        let held = try store.heldOrigins()
        let withheld = try store.withheldCounts()
        let waiting = try store.withheld(limit: 10)
        let ownership = try store.refusedOperationCounts()
        let refusedOps = try store.refusedOperations(limit: 10)
        let roster = try RosterSummary(dir, store)
        // This node's TLS certificate: unusable (ALARM) or due to expire within 30 days (WARNING).
        let tls = dir.config.federation.map { f in
            CertificateCheck.files(
                certificate: dir.resolve(f.certificate), privateKey: dir.resolve(f.privateKey), ca: dir.resolve(f.ca), chapter: dir.chapter)
        }
        if output.json {
            Out.json([
                "chapter": .string(dir.chapter.rawValue), "data": .string(dir.path), "key": .string(key?.id ?? ""),
                "roster": roster.json,
                "clock_ahead": .object(
                    Dictionary(uniqueKeysWithValues: ahead.map { ($0.origin.rawValue, .number(Double($0.hlc.millis - now))) })),
                "conflicts": .number(Double(try store.conflicts().count)),
                "public_url": dir.config.web.map { .string($0.url) } ?? .null,
                "federation_url": dir.config.federation.map { .string($0.url) } ?? .null,
                "certificate": tls.map { t -> JSONValue in
                    [
                        "not_after": t.notValidAfter.map { .string(Instant.format($0)) } ?? .null,
                        "problems": .array(t.problems.map { .string($0) }), "warnings": .array(t.warnings.map { .string($0) }),
                    ]
                } ?? .null,
                "frozen": .array(heads.filter { $0.frozen != nil }.map { .string($0.origin.rawValue) }),
                "forks": .array(
                    try store.forks().map {
                        [
                            "origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq)),
                            "peer": $0.peer.map { .string($0) } ?? .null,
                        ]
                    }),
                "quarantined": .number(Double(try store.quarantined(limit: 100_000).count)),
                "held": .array(
                    held.map {
                        [
                            "origin": .string($0.origin), "seq": .number(Double($0.seq)), "code": .string($0.code),
                            "reason": .string($0.reason), "peer": $0.peer.map { .string($0) } ?? .null,
                            "since": .string(Instant.format($0.since)),
                        ]
                    }),
                "withheld": [
                    "operations": .number(Double(withheld.total)),
                    "by_peer": .object(withheld.byPeer.mapValues { .number(Double($0)) }),
                    "oldest": .array(
                        waiting.map {
                            [
                                "origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq)),
                                "operation": .number(Double($0.operation)), "kind": .string($0.kind.rawValue), "id": .string($0.record),
                                "peer": $0.peer.map { .string($0) } ?? .null,
                            ]
                        }),
                ],
                "refused_operations": [
                    "operations": .number(Double(ownership.total)),
                    "by_peer": .object(ownership.byPeer.mapValues { .number(Double($0)) }),
                    "newest": .array(
                        refusedOps.map {
                            [
                                "origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq)), "kind": .string($0.kind.rawValue),
                                "id": .string($0.record), "code": .string($0.code), "reason": .string($0.reason),
                                "peer": $0.peer.map { .string($0) } ?? .null,
                            ]
                        }),
                ],
                "restore_lock": restoreLock.map { lock -> JSONValue in
                    ["quorum": .number(Double(lock.quorum)), "confirmed": .array(lock.confirmed.map { .string($0) })]
                } ?? .null,
                "origins": .array(
                    heads.map {
                        [
                            "origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq)), "head": .string($0.hash.hex),
                            "frozen": $0.frozen.map { .string($0) } ?? .null,
                        ]
                    }),
            ])
            return
        }
        Out.line("chapter  \(dir.chapter)")
        Out.line("data     \(dir.path)")
        Out.line("key      \(key?.id ?? "none")")
        if let web = dir.config.web { Out.line("public   \(web.url)") }
        if let fed = dir.config.federation { Out.line("federation \(fed.url) (mutual TLS, this node's own listener)") }
        for w in tls?.warnings ?? [] { Out.line("WARNING  \(w)") }
        for p in tls?.problems ?? [] { Out.line("ALARM    \(p)") }
        Out.line("roster   \(roster.line)")
        for r in roster.refusals.prefix(3) {
            Out.line("REFUSED  roster\(r.version.map { " version \($0)" } ?? "") from \(r.peer ?? "this host"): \(r.reason)")
        }
        for h in heads where h.frozen != nil {
            Out.line("ALARM    origin '\(h.origin)' is frozen after a fork: \(h.frozen!) — see 'aces log show --origin \(h.origin)'")
        }
        if let lock = restoreLock {
            let by = lock.confirmed.isEmpty ? "none yet" : lock.confirmed.joined(separator: ", ")
            Out.line(
                "LOCKED   restored: writes are refused until \(lock.quorum) peer(s) have shown this node its own latest entries (confirmed by \(by)); run 'aces sync' or 'aces serve'"
            )
        }
        for h in held {
            Out.line("WAITING  origin '\(h.origin)' from \(h.origin):\(h.seq) (from \(h.peer ?? "a peer")): \(h.reason)")
        }
        for h in ahead {
            Out.line("FLAG     origin '\(h.origin)' stamps entries \((h.hlc.millis - now) / 1000) s ahead of this node's clock")
        }
        let open = try store.conflicts().count
        if open > 0 { Out.line("conflicts \(open) open (see 'aces conflicts list')") }
        let refused = try store.quarantined(limit: 100_000).count
        if refused > 0 { Out.line("refused  \(refused) entries kept in quarantine") }
        if withheld.total > 0 {
            let peers = withheld.byPeer.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            Out.line(
                "WAITING  \(withheld.total) operation(s) received without their payload, not applied until a peer sends it"
                    + (peers.isEmpty ? "" : " (sent stripped by \(peers))") + ": "
                    + waiting.map { "\($0.origin):\($0.seq) \($0.kind.rawValue) \($0.record)" }.joined(separator: ", ")
                    + (withheld.total > waiting.count ? ", …" : ""))
        }
        if ownership.total > 0 {
            Out.line(
                "REFUSED  \(ownership.total) operation(s) changed records their chapter does not own (kept as evidence, not applied): "
                    + refusedOps.prefix(3).map { "\($0.origin):\($0.seq) \($0.reason)" }.joined(separator: "; ")
                    + (ownership.total > 3 ? "; …" : ""))
        }
        Out.line()
        Out.table(
            ["ORIGIN", "ENTRIES", "HEAD", "STATE"],
            heads.map {
                [$0.origin.rawValue, String($0.seq), String($0.hash.hex.prefix(16)), $0.frozen.map { "FROZEN: \($0)" } ?? "ok"]
            })
    }
}
