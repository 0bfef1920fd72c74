import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import GRDB
import NIOSSL
import Testing

/// A peer that relays tampered entries is refused for the stated reason (or, for an entry no
/// valid signature vouches for yet, made to wait), nothing after the last good entry is
/// applied, and sync goes on with honest peers.
@Suite(.serialized) struct RefusalTests {
    enum Tamper: String, CaseIterable, Sendable {
        case badSignature, unknownKey, gap, malformedJSON, valueChanged
        var expectedCode: String {
            switch self {
            case .badSignature: "bad_signature"
            case .unknownKey: "unknown_key"
            case .gap: "gap"
            case .malformedJSON: "malformed"
            case .valueChanged: "digest_mismatch"
            }
        }
        /// How many of fr's three entries the receiver still applies.
        var appliedBefore: Int64 {
            switch self {
            case .badSignature: 2
            case .unknownKey: 0
            case .gap, .malformedJSON, .valueChanged: 1
            }
        }
    }

    /// Rewrites uk's stored copy of fr's entries the way a lying relay would serve them.
    static func tamper(_ t: Tamper, storeAt path: String) throws {
        // The node was just stopped: its replica may still be closing (a checkpoint), so wait for locks.
        var config = Configuration()
        config.busyMode = .timeout(10)
        let q = try DatabaseQueue(path: path, configuration: config)
        try q.write { db in
            // A failed expectation (the copy never arrived) must fail this test, not crash the run.
            let frID = try #require(try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = 'fr'"))
            func rowid(_ seq: Int64) -> Int64 { frID << 40 | seq }
            switch t {
            case .badSignature:
                var sig = [UInt8](
                    try #require(try Data.fetchOne(db, sql: "SELECT signature FROM entries WHERE rowid = ?", arguments: [rowid(3)])))
                sig[10] ^= 0xff
                try db.execute(sql: "UPDATE entries SET signature = ? WHERE rowid = ?", arguments: [Data(sig), rowid(3)])
            case .unknownKey:
                let env = String(
                    decoding: try #require(
                        try Data.fetchOne(db, sql: "SELECT envelope FROM entries WHERE rowid = ?", arguments: [rowid(1)])),
                    as: UTF8.self)
                let forged = env.replacingOccurrences(of: #""key":"fr-"#, with: #""key":"fr-0"#)
                try db.execute(sql: "UPDATE entries SET envelope = ? WHERE rowid = ?", arguments: [Data(forged.utf8), rowid(1)])
            case .gap:
                try db.execute(sql: "DELETE FROM entries WHERE rowid = ?", arguments: [rowid(2)])
            case .malformedJSON:
                try db.execute(sql: "UPDATE entries SET payloads = ? WHERE rowid = ?", arguments: [Data("[{\"salt\":".utf8), rowid(2)])
            case .valueChanged:
                let p = String(
                    decoding: try #require(
                        try Data.fetchOne(db, sql: "SELECT payloads FROM entries WHERE rowid = ?", arguments: [rowid(2)])),
                    as: UTF8.self)
                try db.execute(
                    sql: "UPDATE entries SET payloads = ? WHERE rowid = ?",
                    arguments: [Data(p.replacingOccurrences(of: "Lyon", with: "Nice").utf8), rowid(2)])
            }
        }
        try q.close()
    }

    @Test(arguments: Tamper.allCases)
    func aTamperedRelayIsRefusedAndHonestPeersStillSync(_ t: Tamper) async throws {
        let fed = try RunningFederation(["fr", "uk", "de"], interval: 60)
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 1, city: "Paris")
        try fed.update(on: "fr", id: id, ["city": "Lyon"])
        try fed.update(on: "fr", id: id, ["role": "Press officer"])
        try await fed.start("fr", "uk")
        #expect(try await fed.converge(["fr", "uk"]))
        await fed.stopAll()
        try Self.tamper(t, storeAt: fed.node("uk").databasePath)
        try await fed.start("uk")

        // de pulls from the lying relay only.
        let de = fed.node("de")
        try await fed.withSyncer(for: "de") { syncer, store in
            let report = try await syncer.pull(from: ChapterID("uk")!)
            #expect(try await store.heads().first { $0.origin.rawValue == "fr" }?.seq ?? 0 == t.appliedBefore)
            if t == .badSignature {
                // No valid signature vouches for the last entry: it waits, neither applied nor
                // refused, since a later entry of fr signed by its key would vouch for it.
                #expect(report.refused.isEmpty && report.held[ChapterID("fr")!]?.code == "unvouched")
                #expect(try store.quarantined().isEmpty)
                #expect(try await store.heldOrigins().map { "\($0.origin):\($0.seq)" } == ["fr:3"])
            } else {
                #expect(report.refused[ChapterID("fr")!]?.code == t.expectedCode)
                #expect(try store.quarantined().contains { $0.code == t.expectedCode && $0.peer == "uk" })
            }
            let status = try #require(try await store.peerStatuses().first { $0.chapter == "uk" })
            #expect(status.lastError?.contains("origin fr") == true)
            #expect(try store.verifyLog(keys: de.keyRing()).isValid)

            // The honest origin is still reachable: de completes from fr.
            try await fed.start("fr")
            let honest = try await syncer.pull(from: ChapterID("fr")!)
            #expect(honest.refused.isEmpty && honest.held.isEmpty)
            #expect(try await store.stateDigest() == fed.store("fr").stateDigest())
            #expect(try await store.heldOrigins().isEmpty, "the entry that waited arrived signed")
        }
        await fed.stopAll()
    }

    @Test func theFederationListenerRefusesClientsWithoutAFederationCertificate() async throws {
        let fed = try RunningFederation(["fr", "uk"])
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr")
        let fr = fed.node("fr")
        let url = fr.config.federation!.url + "/federation/v1/heads"
        let tls = try fr.tlsMaterial()

        /// A client trusting the federation CA, presenting `cert` if given.
        func client(_ cert: IssuedCertificate?) throws -> TLSConfiguration {
            var c = TLSConfiguration.makeClientConfiguration()
            c.trustRoots = .certificates(tls.ca)
            if let cert {
                c.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(cert.certificatePEM.utf8)).map { .certificate($0) }
                c.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(cert.privateKeyPEM.utf8), format: .pem))
            }
            return c
        }
        /// The answer's status code, or nil when the connection was refused.
        func status(_ config: TLSConfiguration) async throws -> UInt? {
            try await HTTPClient.withHTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: config)
            ) {
                try? await $0.execute(HTTPClientRequest(url: url), timeout: .seconds(5)).status.code
            }
        }

        // No client certificate: the handshake (or the first request) fails.
        #expect(try await status(client(nil)) == nil)
        // A certificate from another CA.
        let stranger = try FederationCA.issue(chapter: ChapterID("uk")!, ca: try FederationCA.create(name: "Not the federation"))
        #expect(try await status(client(stranger)) == nil)
        // A federation certificate for a chapter the roster does not list: 403.
        let ca = try FederationCA.read(certificate: fed.dir.file("fed/certs/ca.pem"), privateKey: fed.dir.file("fed/certs/ca-key.pem"))
        #expect(try await status(client(try FederationCA.issue(chapter: ChapterID("es")!, ca: ca))) == 403)

        // The roster's own uk certificate is let in.
        try await HTTPClient.withHTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: .init(tlsConfiguration: try fed.node("uk").tlsMaterial().client)
        ) { client in
            let r = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
            #expect(r.status.code == 200)
        }
        await fed.stopAll()
    }
}
