import AcesCore
import AcesHTTP
import AcesNodeFiles
import AsyncHTTPClient
import CompressNIO
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to one peer's federation listener over mutual TLS.
public struct PeerClient: Sendable {
    let http: HTTPClient
    let peer: ChapterID
    let baseURL: String
    let timeout: TimeAmount
    /// Says what is wrong with the peer's certificate when a handshake fails on it.
    var diagnosis: PeerDiagnosis? = nil

    /// `GET heads`, answer and all within the timeout.
    func heads() async throws -> FederationAPI.Heads {
        try await complete(within: timeout, "the heads answer") {
            let response = try await send(HTTPClientRequest(url: baseURL + FederationAPI.headsPath), timeout: timeout + Self.slack)
            var body = try await collect(response, limit: 4 << 20)
            guard let bytes = body.readBytes(length: body.readableBytes) else { throw SyncError.garbage("empty heads answer") }
            let heads: FederationAPI.Heads
            do { heads = try FederationAPI.Heads(json: try JSONParser.parse(bytes)) } catch let e as SyncError { throw e } catch {
                throw SyncError.garbage("the heads answer is not JSON")
            }
            guard heads.chapter == peer else { throw SyncError.garbage("the peer says it is '\(heads.chapter)', not '\(peer)'") }
            return heads
        }
    }

    /// `GET status`: the peer's own summary of its health (see `NodeHealth`).
    func status() async throws -> JSONValue {
        // The dashboard waits for no peer longer than this.
        try await complete(within: .seconds(2), "the status answer") {
            let response = try await send(HTTPClientRequest(url: baseURL + FederationAPI.statusPath), timeout: .seconds(2) + Self.slack)
            var body = try await collect(response, limit: 1 << 20)
            guard let bytes = body.readBytes(length: body.readableBytes), let v = try? JSONParser.parse(bytes),
                v["chapter"]?.stringValue == peer.rawValue
            else { throw SyncError.garbage("the status answer is not this peer's status") }
            return v
        }
    }

    /// The least an entries stream must bring, as sent (compressed), in every `timeout` this
    /// node spends waiting for it (time spent applying what arrived does not count).
    static let minimumPace = 64 << 10
    /// Decompressed bytes handled at a time: with the partial line, all the stream ever holds.
    static let inflateWindow = 64 << 10

    /// `GET entries` of `origin` after `seq` (at most `limit` of them): hands each line (without its newline) to `line`,
    /// which returns false to stop early. Memory stays bounded by one decompression window and
    /// one line of at most `FederationAPI.maxLineBytes`, however well the stream compresses; a
    /// peer that sends less than `minimumPace` bytes in a `timeout` is given up on.
    /// Returns the bytes received.
    @discardableResult
    func entries(
        of origin: ChapterID, after seq: Int64, limit: Int64? = nil, line: (ArraySlice<UInt8>) async throws -> Bool
    ) async throws -> Int {
        var request = HTTPClientRequest(
            url: baseURL + FederationAPI.entriesPath + "?origin=\(origin.rawValue)&after=\(seq)" + (limit.map { "&limit=\($0)" } ?? ""))
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        let response = try await send(request)
        let decompressor: NIODecompressor?
        switch response.headers.first(name: "Content-Encoding")?.lowercased() {
        case nil, "identity": decompressor = nil
        case "gzip": decompressor = CompressionAlgorithm.gzip().decompressor
        case let other?: throw SyncError.garbage("unknown content encoding '\(other.prefix(20))'")
        }
        try decompressor?.startStream()
        defer { try? decompressor?.finishStream() }
        var lines = LineBuffer()
        var window = ByteBufferAllocator().buffer(capacity: Self.inflateWindow)
        let body = BodyReader(response.body)
        let allowance = Duration.nanoseconds(timeout.nanoseconds)
        var waited = Duration.zero
        var sinceCheck = 0
        var received = 0
        while true {
            let asked = ContinuousClock.now
            var read = BodyReader.Read.timedOut
            if waited < allowance { read = try await body.next(within: allowance - waited) }
            guard case .chunk(var wire) = read else {
                if case .end = read { break }
                throw SyncError.slow(
                    "sent \(sinceCheck) bytes of entries in \(seconds) s (at least \(Self.minimumPace / 1024) KiB every \(seconds) s is required)"
                )
            }
            waited += asked.duration(to: .now)
            received += wire.readableBytes
            sinceCheck += wire.readableBytes
            if sinceCheck >= Self.minimumPace {
                waited = .zero
                sinceCheck = 0
            }
            guard let decompressor else {
                if try await !lines.feed(wire, line) { return received }
                continue
            }
            var more = true
            while more {
                more = try Self.inflate(&wire, into: &window, decompressor)
                if try await !lines.feed(window, line) { return received }
            }
        }
        if !lines.isEmpty { throw SyncError.garbage("the stream ended in the middle of an entry") }
        return received
    }

    /// Inflates `input` into `window` (emptied first) until the window is full or the input is
    /// used up; true when the window filled, so more may follow even from no further input.
    static func inflate(_ input: inout ByteBuffer, into window: inout ByteBuffer, _ decompressor: NIODecompressor) throws -> Bool {
        window.clear()
        do { try input.decompressStream(to: &window, with: decompressor) } catch let e as CompressNIOError where e == .bufferOverflow {
            return true
        } catch { throw SyncError.garbage("the compressed stream is damaged") }
        return false
    }

    /// A few entries, answer and all within the timeout, each line read as an entry (a line that
    /// is not one is left out: the caller checks what it needs): `origin`'s entry `seq` from
    /// `GET entries`, or with `fork` the two entries of the fork that froze `origin` on the peer.
    func few(of origin: ChapterID, at seq: Int64 = 0, fork: Bool = false) async throws -> [Entry] {
        let query =
            fork
            ? FederationAPI.forksPath + "?origin=\(origin.rawValue)"
            : FederationAPI.entriesPath + "?origin=\(origin.rawValue)&after=\(seq - 1)&limit=1"
        let bytes = try await complete(within: timeout, "the answer with fork evidence") {
            var body = try await collect(
                try await send(HTTPClientRequest(url: baseURL + query), timeout: timeout + Self.slack),
                limit: 2 * (FederationAPI.maxLineBytes + 1))
            return body.readBytes(length: body.readableBytes) ?? []
        }
        return bytes.split(separator: 0x0a).prefix(2).compactMap { try? Entry(wireLine: $0) }
    }

    /// `GET roster`: the signed roster document the peer holds, as bytes (verified by the caller).
    func roster() async throws -> [UInt8] {
        try await complete(within: timeout, "the roster") {
            var body = try await collect(
                try await send(HTTPClientRequest(url: baseURL + FederationAPI.rosterPath), timeout: timeout + Self.slack),
                limit: SignedRoster.maxBytes)
            return body.readBytes(length: body.readableBytes) ?? []
        }
    }

    /// `POST roster`: offers the peer this node's signed roster (it adopts it if it is newer).
    func pushRoster(_ document: [UInt8]) async throws {
        try await complete(within: timeout, "the answer to a roster") {
            var request = HTTPClientRequest(url: baseURL + FederationAPI.rosterPath)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: document))
            _ = try await collect(try await send(request, timeout: timeout + Self.slack), limit: 64 << 10)
        }
    }

    /// `POST notify`: "I have new entries".
    func notify() async throws {
        try await complete(within: timeout, "the answer to a notice") {
            var request = HTTPClientRequest(url: baseURL + FederationAPI.notifyPath)
            request.method = .POST
            _ = try await collect(try await send(request, timeout: timeout + Self.slack), limit: 64 << 10)
        }
    }

    /// The timeout in seconds, for sentences.
    private var seconds: String { Self.seconds(timeout) }
    var timeoutText: String { seconds }

    private static func seconds(_ t: TimeAmount) -> String {
        let s = Double(t.nanoseconds) / 1e9
        return s == s.rounded() ? String(Int(s)) : String(s)
    }

    /// Runs one whole request, its answer's body included, giving up after `limit`.
    /// How much longer than a request's own deadline the HTTP client's timeout runs: the
    /// deadline decides (so a slow peer is named "too slow", not "cut off"), the client's
    /// timeout only backs it up.
    static let slack = TimeAmount.seconds(2)

    private func complete<T: Sendable>(
        within limit: TimeAmount, _ what: String, _ request: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let answer = try await withDeadline(.nanoseconds(limit.nanoseconds), request) else {
            throw SyncError.slow("\(what) did not arrive in full within \(Self.seconds(limit)) s")
        }
        return answer
    }

    private func send(_ request: HTTPClientRequest, timeout: TimeAmount? = nil) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: timeout ?? self.timeout) } catch {
            throw SyncError.failed(await PeerFailure.sentence(error, peer: peer, url: baseURL, timeout: seconds, diagnosis: diagnosis))
        }
        guard (200..<300).contains(Int(response.status.code)) else { throw SyncError.status(Int(response.status.code)) }
        return response
    }

    private func collect(_ response: HTTPClientResponse, limit: Int) async throws -> ByteBuffer {
        do { return try await response.body.collect(upTo: limit) } catch { throw SyncError.garbage("the answer is too large or cut off") }
    }

    /// A short description of a transport error (no internals of the peer).
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

/// An answer's body read one chunk at a time, each wait bounded. Only one task touches the
/// iterator at a time: `next(within:)` returns only once its read has finished or been cancelled.
private final class BodyReader: @unchecked Sendable {
    enum Read: Sendable {
        case chunk(ByteBuffer)
        case end
        case timedOut
    }

    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(_ body: HTTPClientResponse.Body) { iterator = body.makeAsyncIterator() }

    /// The next chunk, `.end` after the last, or `.timedOut` if none came within `limit` (the
    /// read is then cancelled, which closes the connection).
    func next(within limit: Duration) async throws -> Read {
        try await withDeadline(limit) { try await self.read() } ?? .timedOut
    }

    private func read() async throws -> Read {
        guard let chunk = try await iterator.next() else { return .end }
        return .chunk(chunk)
    }
}

/// Splits a stream into lines, holding at most one partial line of `FederationAPI.maxLineBytes`.
private struct LineBuffer {
    private var pending = [UInt8]()

    var isEmpty: Bool { pending.isEmpty }

    /// Adds `chunk` and hands each completed line to `line`; false when `line` asked to stop.
    mutating func feed(_ chunk: ByteBuffer, _ line: (ArraySlice<UInt8>) async throws -> Bool) async throws -> Bool {
        var from = pending.count
        chunk.withUnsafeReadableBytes { pending.append(contentsOf: $0) }
        var start = 0
        while let nl = pending[from...].firstIndex(of: 0x0a) {
            try Self.check(nl - start)
            if try await !line(pending[start..<nl]) { return false }
            start = nl + 1
            from = start
        }
        pending.removeFirst(start)
        try Self.check(pending.count)
        return true
    }

    private static func check(_ length: Int) throws {
        if length > FederationAPI.maxLineBytes { throw SyncError.garbage("a line is longer than \(FederationAPI.maxLineBytes) bytes") }
    }
}
