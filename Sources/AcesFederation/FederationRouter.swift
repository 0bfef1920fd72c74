import AcesCore
import AcesHTTP
import AcesNodeFiles
import AcesStore
import CompressNIO
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOSSL

/// A request on the federation listener; it knows the chapter the client certificate names.
public struct FederationContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The chapter named by the peer's certificate (which the TLS handshake checked against the CA).
    func peerChapter() async -> ChapterID? {
        guard let cert = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return FederationCA.chapter(of: cert)
    }

    /// A signed roster is the largest body a peer sends.
    public var maxUploadSize: Int { SignedRoster.maxBytes }
}

/// The routes of the federation listener: heads, entries after a cursor (streamed), fork evidence, notify.
public enum FederationRouter {
    public static func make(
        chapter: ChapterID, store: Store, roster: @escaping @Sendable () -> Roster?, onNotify: @escaping @Sendable (ChapterID) -> Void,
        logger: Logger, metrics: NodeMetrics? = nil, live: LiveRoster? = nil
    ) -> ConformingRouter<FederationContext> {
        let router = Router(context: FederationContext.self)
        if metrics != nil { router.add(middleware: NodeMetrics.httpMiddleware()) }
        router.add(middleware: PeerCheck(roster: roster))

        router.get(RouterPath(stringLiteral: FederationAPI.headsPath)) { _, _ -> Response in
            let heads = try await store.heads()
            // A frozen origin says where it forked, so that peers fetch the evidence and freeze too.
            let forks = heads.contains { $0.frozen != nil } ? try await store.forks() : []
            let answer = FederationAPI.Heads(
                chapter: chapter, time: Int64(Date().timeIntervalSince1970 * 1000),
                origins: heads.map { h in
                    .init(
                        origin: h.origin, seq: h.seq, hash: h.hash,
                        forkSeq: h.frozen == nil ? nil : forks.first { $0.origin == h.origin }?.seq ?? 0)
                }, rosterVersion: live?.signed?.version)
            return HTTPAnswer.json(answer.json)
        }

        // The signed roster this node holds, and a roster offered by a peer (adopted when the
        // root signed it and its version is higher; PROTOCOL.md §2.1).
        router.get(RouterPath(stringLiteral: FederationAPI.rosterPath)) { _, _ -> Response in
            guard let doc = live?.signed else { return HTTPAnswer.problem(.notFound, "this node holds no signed roster") }
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: doc.bytes)))
        }

        router.post(RouterPath(stringLiteral: FederationAPI.rosterPath)) { request, context -> Response in
            guard let live else { return HTTPAnswer.problem(.notFound, "this node holds no signed roster") }
            let body = try await request.body.collect(upTo: SignedRoster.maxBytes)
            switch await live.offer(Array(buffer: body), from: await context.peerChapter()) {
            case .adopted(let v): return HTTPAnswer.json(["roster": .number(Double(v)), "adopted": .bool(true)])
            case .alreadyHeld: return HTTPAnswer.json(["roster": .number(Double(live.version)), "adopted": .bool(false)])
            case .refused(let why): return HTTPAnswer.problem(.conflict, why)
            }
        }

        router.get(RouterPath(stringLiteral: FederationAPI.statusPath)) { _, _ -> Response in
            HTTPAnswer.json(try await NodeHealth.summary(chapter: chapter, store: store))
        }

        router.get(RouterPath(stringLiteral: FederationAPI.entriesPath)) { request, _ -> Response in
            guard let o = request.uri.queryParameters["origin"].map(String.init), let origin = ChapterID(o) else {
                return HTTPAnswer.problem(.badRequest, "origin must be a chapter id")
            }
            let afterText = request.uri.queryParameters["after"].map(String.init) ?? "0"
            guard let after = Int64(afterText), after >= 0 else { return HTTPAnswer.problem(.badRequest, "after must be a whole number") }
            let limitText = request.uri.queryParameters["limit"].map(String.init)
            guard limitText == nil || Int(limitText!).map({ $0 > 0 }) == true else {
                return HTTPAnswer.problem(.badRequest, "limit must be a positive whole number")
            }
            let limit = limitText.flatMap { Int($0) } ?? Int.max
            let gzip = request.headers[.acceptEncoding]?.contains("gzip") ?? false
            let body = ResponseBody { writer in
                // Each chunk is flushed on its own, so the receiver can apply while we read the next.
                let compressor = gzip ? try CompressionAlgorithm.gzip(configuration: .init(compressionLevel: 1)).compressor : nil
                try compressor?.startStream()
                var cursor = after
                var sent = 0
                while sent < limit {
                    let chunk = try await store.wireEntries(of: origin, after: cursor, limit: min(FederationAPI.streamChunk, limit - sent))
                    if chunk.count == 0 { break }
                    var buffer = ByteBuffer(bytes: chunk.bytes)
                    if let compressor { buffer = try buffer.compressStream(with: compressor, flush: .sync) }
                    try await writer.write(buffer)
                    cursor = chunk.lastSeq
                    sent += chunk.count
                }
                if let compressor {
                    var end = ByteBuffer()
                    try await writer.write(try end.compressStream(with: compressor, flush: .finish))
                    try compressor.finishStream()
                }
                try await writer.finish(nil)
            }
            var headers: HTTPFields = [.contentType: "application/x-ndjson"]
            if gzip { headers[.contentEncoding] = "gzip" }
            return Response(status: .ok, headers: headers, body: body)
        }

        // The two authentic entries of one (origin, seq) that froze the origin here: a peer
        // verifies both itself before it freezes the origin too.
        router.get(RouterPath(stringLiteral: FederationAPI.forksPath)) { request, _ -> Response in
            guard let o = request.uri.queryParameters["origin"].map(String.init), let origin = ChapterID(o) else {
                return HTTPAnswer.problem(.badRequest, "origin must be a chapter id")
            }
            let lines = try await store.forkEvidence(of: origin)
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: .init(byteBuffer: ByteBuffer(bytes: lines.flatMap { $0 + [0x0a] })))
        }

        router.post(RouterPath(stringLiteral: FederationAPI.notifyPath)) { _, context -> Response in
            if let peer = await context.peerChapter() {
                logger.debug("notified", metadata: ["aces.peer": .string(peer.rawValue)])
                onNotify(peer)
            }
            return Response(status: .accepted)
        }
        return ConformingRouter(router: router, jsonEverywhere: true)
    }
}

/// Refuses requests whose certificate names no chapter of the roster (the handshake already
/// refused certificates that do not chain to the federation CA).
struct PeerCheck: RouterMiddleware {
    typealias Context = FederationContext
    let roster: @Sendable () -> Roster?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let peer = await context.peerChapter() else {
            return HTTPAnswer.problem(.forbidden, "the client certificate names no chapter")
        }
        // A chapter newer than this node's roster may still hand it the roster that lists it.
        let offersRoster = request.method == .post && request.uri.path == FederationAPI.rosterPath
        if let r = roster(), !offersRoster {
            if r.profile(peer) == nil { return HTTPAnswer.problem(.forbidden, "chapter '\(peer)' is not in this node's roster") }
            if r.retired.contains(peer.rawValue) {
                return HTTPAnswer.problem(.forbidden, "chapter '\(peer)' has retired from the federation")
            }
        }
        return try await next(request, context)
    }
}
