import NIOCore
import NIOHTTP1

/// Connection persistence as RFC 9112 §9.3 has it. Hummingbird reads requests as HTTP types,
/// which carry no version, and keeps every connection open unless the request says exactly
/// `Connection: close`; an HTTP/1.0 client that did not ask for keep-alive (`ab`, many probes)
/// therefore waited for the idle timeout after every answer. This handler sits where the
/// version is still known, between NIO's HTTP/1 decoder and the conversion to HTTP types:
/// - a request that does not keep its connection (HTTP/1.0 without `Connection: keep-alive`,
///   or any `Connection: close`) is marked `Connection: close` for Hummingbird, its answer says
///   `Connection: close`, and the connection is closed once the answer is written;
/// - an HTTP/1.0 request that asks for keep-alive has `Connection: keep-alive` echoed, and keeps
///   its connection when the answer has a `Content-Length` (an answer without one is delimited by
///   closing the connection, as HTTP/1.0 has no chunked coding).
final class PersistentConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The requests awaiting their answer, in order: their version, whether they keep the
    /// connection, and whether their answer has no body whatever its headers say (HEAD).
    private var waiting = CircularBuffer<(version: HTTPVersion, keepAlive: Bool, bodiless: Bool)>()
    /// Set while writing an answer after which the connection closes.
    private var closeAfterAnswer = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        let keepAlive = head.isKeepAlive
        waiting.append((head.version, keepAlive, head.method == .HEAD))
        if !keepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200 || head.status == .switchingProtocols:
            guard let request = waiting.popFirst() else { return context.write(data, promise: promise) }
            var keepAlive = request.keepAlive
            if request.version == .http1_0 {
                let bodiless = request.bodiless || head.status == .noContent || head.status == .notModified
                if !bodiless && !head.headers.contains(name: "content-length") {
                    // No chunked coding for HTTP/1.0: the end of the connection ends the body.
                    head.version = .http1_0
                    keepAlive = false
                }
                if keepAlive { head.headers.replaceOrAdd(name: "connection", value: "keep-alive") }
            }
            if !keepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
            closeAfterAnswer = !keepAlive
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where closeAfterAnswer:
            closeAfterAnswer = false
            let written = promise ?? context.eventLoop.makePromise()
            context.write(data, promise: written)
            written.futureResult.hop(to: context.eventLoop).assumeIsolated().whenComplete { [context] _ in
                context.close(promise: nil)
            }
        default:
            context.write(data, promise: promise)
        }
    }
}

/// Puts a `PersistentConnectionHandler` in front of the conversion to HTTP types. Hummingbird adds
/// a listener's extra handlers after that conversion, where the request's version is gone.
final class PersistentConnectionInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        guard let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) else { return }
        try? pipeline.addHandler(PersistentConnectionHandler(), position: .after(decoder))
    }
}
