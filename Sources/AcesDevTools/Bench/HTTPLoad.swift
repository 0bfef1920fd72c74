import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small closed-loop HTTP/1.1 load generator: `connections` keep-alive connections, each
/// sending its next request as soon as the previous answer has fully arrived, for `seconds`
/// after a warm-up. Only requests started after the warm-up and finished before the end are
/// counted, so the figure is a steady state, not a ramp.
///
/// ```swift
/// let r = try await HTTPLoad(host: "127.0.0.1", port: 7101, path: "/healthz", connections: 16).run()
/// print(r.requestsPerSecond, r.p99Milliseconds)
/// ```
public struct HTTPLoad: Sendable {
    public let host: String
    public let port: Int
    public let path: String
    public let connections: Int
    public let warmup: Double
    public let seconds: Double

    public init(host: String, port: Int, path: String, connections: Int, warmup: Double = 1, seconds: Double = 3) {
        self.host = host
        self.port = port
        self.path = path
        self.connections = connections
        self.warmup = warmup
        self.seconds = seconds
    }

    /// What one run measured.
    public struct Result: Sendable {
        /// Answers completed in the measured window.
        public var requests: Int
        /// Answers whose status was not 2xx/3xx, and connections that failed.
        public var errors: Int
        /// Bytes of answer bodies in the measured window.
        public var bodyBytes: Int
        public var seconds: Double
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var requestsPerSecond: Double { Double(requests) / max(seconds, 1e-9) }

        public init(requests: Int, errors: Int, bodyBytes: Int, seconds: Double, p50Milliseconds: Double, p99Milliseconds: Double) {
            self.requests = requests
            self.errors = errors
            self.bodyBytes = bodyBytes
            self.seconds = seconds
            self.p50Milliseconds = p50Milliseconds
            self.p99Milliseconds = p99Milliseconds
        }
    }

    struct ConnectionStats: Sendable {
        var latencies: [UInt64] = []
        var errors = 0
        var bodyBytes = 0
    }

    public func run() async throws -> Result {
        // One event loop keeps the generator's own share of the machine small and steady.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let result = try await run(on: group)
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(on group: MultiThreadedEventLoopGroup) async throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        let measureFrom = start + UInt64(warmup * 1e9)
        let end = measureFrom + UInt64(seconds * 1e9)
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Accept", value: "*/*")
        head.headers.add(name: "Accept-Encoding", value: "identity")
        let request = head
        var futures = [EventLoopFuture<ConnectionStats>]()
        for _ in 0..<connections {
            let loop = group.next()
            let done = loop.makePromise(of: ConnectionStats.self)
            let connect = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            LoadConnection(head: request, measureFrom: measureFrom, end: end, done: done))
                    }
                }
                .connect(host: host, port: port)
            connect.whenFailure { _ in done.succeed(ConnectionStats(errors: 1)) }
            futures.append(done.futureResult)
        }
        var all = ConnectionStats()
        for f in futures {
            let s = try await f.get()
            all.latencies += s.latencies
            all.errors += s.errors
            all.bodyBytes += s.bodyBytes
        }
        let sorted = all.latencies.sorted()
        func pct(_ q: Double) -> Double {
            sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e6
        }
        return Result(
            requests: sorted.count, errors: all.errors, bodyBytes: all.bodyBytes, seconds: seconds, p50Milliseconds: pct(0.5),
            p99Milliseconds: pct(0.99))
    }
}

/// One connection of the load: request, whole answer, next request, until the end.
private final class LoadConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let head: HTTPRequestHead
    let measureFrom: UInt64
    let end: UInt64
    let done: EventLoopPromise<HTTPLoad.ConnectionStats>
    var stats = HTTPLoad.ConnectionStats()
    var started: UInt64 = 0
    var status = 0
    var bytes = 0

    init(head: HTTPRequestHead, measureFrom: UInt64, end: UInt64, done: EventLoopPromise<HTTPLoad.ConnectionStats>) {
        self.head = head
        self.measureFrom = measureFrom
        self.end = end
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context)
        context.fireChannelActive()
    }

    private func send(_ context: ChannelHandlerContext) {
        started = DispatchTime.now().uptimeNanoseconds
        bytes = 0
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): status = Int(h.status.code)
        case .body(let b): bytes += b.readableBytes
        case .end:
            let now = DispatchTime.now().uptimeNanoseconds
            if started >= measureFrom && now <= end {
                stats.latencies.append(now - started)
                stats.bodyBytes += bytes
                if !(200..<400).contains(status) { stats.errors += 1 }
            }
            if now < end { send(context) } else { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stats.errors += 1
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A connection the server closed before the end is an error of the run.
        if DispatchTime.now().uptimeNanoseconds < end { stats.errors += 1 }
        done.succeed(stats)
        context.fireChannelInactive()
    }
}
