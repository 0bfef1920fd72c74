import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request has not fully arrived (head to the end of its body) within
/// `limit` of its head, or that stops taking its answer for `limit`. The idle timeout alone
/// catches neither: a client that trickles a body a byte at a time counts as active with every
/// byte, and the idle timer does not run while an answer is being written. A head that trickles
/// is caught by the idle timeout, which only decoded parts reset.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let limit: TimeAmount
    private var deadline: Scheduled<Void>?
    /// Armed while the connection cannot take more of an answer (the client stopped reading).
    private var stalled: Scheduled<Void>?

    init(limit: TimeAmount) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let loop = context.eventLoop.assumeIsolated()
            deadline = loop.scheduleTask(in: limit) { [context] in context.close(promise: nil) }
        case .body: break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stalled?.cancel()
            stalled = nil
        } else if stalled == nil {
            let loop = context.eventLoop.assumeIsolated()
            stalled = loop.scheduleTask(in: limit) { [context] in context.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelTimers() }

    private func cancelTimers() {
        deadline?.cancel()
        deadline = nil
        stalled?.cancel()
        stalled = nil
    }
}
