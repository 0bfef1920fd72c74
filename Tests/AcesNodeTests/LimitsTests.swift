import AcesCore
import AcesDevTools
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Connections that say nothing, stop in the middle of a request, trickle it a byte at a time
/// or stop taking their answer are closed after the configured idle time
/// (`[web] idle_timeout_seconds`) or request time (`request_timeout_seconds`), and the node keeps
/// serving.
@Suite(.serialized) struct LimitsTests {
    /// A TCP socket connected to 127.0.0.1:`port` (with a receive buffer of `receiveBuffer`
    /// bytes when given) and a 200 ms receive timeout; nil if it cannot connect. The caller closes it.
    func connectLoopback(port: Int, receiveBuffer: Int32? = nil) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Connects to 127.0.0.1:`port`, sends `bytes`, and returns how many seconds passed until
    /// the server closed the connection (nil if it was still open after `wait` seconds).
    func secondsUntilClosed(port: Int, sending bytes: [UInt8], wait: Double, thenTrickling trickle: [UInt8] = []) -> Double? {
        guard let fd = connectLoopback(port: port) else { return nil }
        defer { close(fd) }
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } }
        let start = Date()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var next = 0
        while Date().timeIntervalSince(start) < wait {
            // One more byte every 200 ms (the receive timeout), each enough to reset an idle timer.
            if next < trickle.count {
                let sent = trickle.withUnsafeBytes { send(fd, $0.baseAddress! + next, 1, Int32(MSG_NOSIGNAL)) }
                if sent < 0 { return Date().timeIntervalSince(start) }
                next += 1
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return Date().timeIntervalSince(start) }  // closed by the server
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return Date().timeIntervalSince(start) }
        }
        return nil
    }

    /// Sends `request` from a socket with a tiny receive buffer, reads nothing for `pause`
    /// seconds, then reads: whether the server closed the connection (EOF or reset) within
    /// `wait` seconds of reading (or before `enough` bytes arrived), and how many bytes arrived.
    func stopsReading(port: Int, request: [UInt8], pause: Double, wait: Double, enough: Int = .max) async throws -> (
        closed: Bool, bytes: Int
    ) {
        guard let fd = connectLoopback(port: port, receiveBuffer: 4096) else { return (false, 0) }
        defer { close(fd) }
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        try await Task.sleep(for: .seconds(pause))
        // The reads block for up to 200 ms each: on a thread of their own, not the pool's.
        return await onOwnThread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            var total = 0
            let start = Date()
            while Date().timeIntervalSince(start) < wait {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n == 0 { return (true, total) }
                if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return (true, total) }
                if n > 0 { total += n }
                if total >= enough { return (false, total) }
            }
            return (false, total)
        }
    }

    @Test func aClientThatStopsReadingItsAnswerIsCutOff() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        try fed.reconfigure("fr") { $0.web?.requestTimeoutSeconds = 2 }
        // A calendar feed larger than the kernel's largest send buffer (4 MiB here), so the answer
        // backs up in the server rather than in the kernel: 1,000 events with long descriptions.
        try fed.addEventsWithLongDescriptions(on: "fr", count: 1_000, sentences: 150, seed: 11)
        try await fed.start("fr")
        let port = fed.server("fr")!.port("web")!
        let request = Array("GET /events.ics HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        // The answer takes a moment to build on a loaded machine; 10 s without reading is well past
        // that and the 2 s limit.
        let stalled = try await stopsReading(port: port, request: request, pause: 10, wait: 30)
        #expect(stalled.closed, "a reader that stopped for 10 s is cut off (read \(stalled.bytes) bytes)")
        // One that reads gets the whole feed, and the connection stays open for the next request.
        let reader = try await stopsReading(port: port, request: request, pause: 0, wait: 30, enough: 7_000_000)
        #expect(!reader.closed && reader.bytes >= 7_000_000, "\(reader)")
        await fed.stopAll()
    }

    @Test func silentAndStalledConnectionsAreClosed() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        try fed.reconfigure("fr") { $0.web?.idleTimeoutSeconds = 1 }
        try await fed.start("fr")
        let port = fed.server("fr")!.port("web")!
        let silent = await onOwnThread { secondsUntilClosed(port: port, sending: [], wait: 8) }
        #expect(silent != nil && silent! < 6, "a silent connection is closed (after \(String(describing: silent)) s)")
        let stalled = await onOwnThread { secondsUntilClosed(port: port, sending: Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8), wait: 8) }
        #expect(stalled != nil && stalled! < 6, "a request that stops halfway is closed")
        await fed.stopAll()
        try fed.reconfigure("fr") {
            $0.web?.idleTimeoutSeconds = 1
            $0.web?.requestTimeoutSeconds = 2
        }
        try await fed.start("fr")
        // A head trickled a byte at a time never completes a part, so the idle timer is not reset.
        let head = Array("GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nX-Slow: \(String(repeating: "a", count: 100))".utf8)
        let slowHead = await onOwnThread { secondsUntilClosed(port: port, sending: [], wait: 10, thenTrickling: head) }
        #expect(slowHead != nil && slowHead! < 6, "a trickled head is closed (after \(String(describing: slowHead)) s)")
        // A body trickled a byte at a time resets the idle timer with every byte; the request deadline closes it.
        let post = Array("POST /admin/v1/members HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n".utf8)
        let slowBody = await onOwnThread {
            secondsUntilClosed(port: port, sending: post, wait: 12, thenTrickling: [UInt8](repeating: 0x20, count: 500))
        }
        #expect(slowBody != nil && slowBody! < 8, "a trickled body is closed (after \(String(describing: slowBody)) s)")
        let ok = try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http in
            try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(10)).status.code
        }
        #expect(ok == 200)
        await fed.stopAll()
    }
}
