import AcesCore
import AsyncHTTPClient
import CompressNIO
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to one peer's federation listener over mutual TLS.
struct PeerClient: Sendable {
    let http: HTTPClient
    let peer: ChapterID
    let baseURL: String
    let timeout: TimeAmount

    /// `GET heads`.
    func heads() async throws -> FederationAPI.Heads {
        let response = try await send(HTTPClientRequest(url: baseURL + FederationAPI.headsPath))
        var body = try await collect(response, limit: 4 << 20)
        guard let bytes = body.readBytes(length: body.readableBytes) else { throw SyncError.garbage("empty heads answer") }
        let heads: FederationAPI.Heads
        do { heads = try FederationAPI.Heads(json: try JSONParser.parse(bytes)) } catch let e as SyncError { throw e } catch {
            throw SyncError.garbage("the heads answer is not JSON")
        }
        guard heads.chapter == peer else { throw SyncError.garbage("the peer says it is '\(heads.chapter)', not '\(peer)'") }
        return heads
    }

    /// `GET status`: the peer's own summary of its health (see `NodeHealth`).
    func status() async throws -> JSONValue {
        // The dashboard waits for no peer longer than this.
        let response = try await send(HTTPClientRequest(url: baseURL + FederationAPI.statusPath), timeout: .seconds(2))
        var body = try await collect(response, limit: 1 << 20)
        guard let bytes = body.readBytes(length: body.readableBytes), let v = try? JSONParser.parse(bytes),
            v["chapter"]?.stringValue == peer.rawValue
        else { throw SyncError.garbage("the status answer is not this peer's status") }
        return v
    }

    /// `GET entries` of `origin` after `seq`: hands each line (without its newline) to `line`,
    /// which returns false to stop early. Memory stays bounded by one read and one line.
    /// Returns the bytes received.
    @discardableResult
    func entries(of origin: ChapterID, after seq: Int64, line: (ArraySlice<UInt8>) async throws -> Bool) async throws -> Int {
        var request = HTTPClientRequest(url: baseURL + FederationAPI.entriesPath + "?origin=\(origin.rawValue)&after=\(seq)")
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
        var pending = [UInt8]()
        var received = 0
        for try await wire in response.body {
            received += wire.readableBytes
            var buffer = wire
            if let decompressor {
                do { buffer = try buffer.decompressStream(with: decompressor, maxSize: 64 << 20) } catch {
                    throw SyncError.garbage("the compressed stream is damaged")
                }
            }
            buffer.withUnsafeReadableBytes { pending.append(contentsOf: $0) }
            var start = 0
            while let nl = pending[start...].firstIndex(of: 0x0a) {
                if try await !line(pending[start..<nl]) { return received }
                start = nl + 1
            }
            pending.removeFirst(start)
            if pending.count > FederationAPI.maxLineBytes {
                throw SyncError.garbage("a line is longer than \(FederationAPI.maxLineBytes) bytes")
            }
        }
        if !pending.isEmpty { throw SyncError.garbage("the stream ended in the middle of an entry") }
        return received
    }

    /// `POST notify`: "I have new entries".
    func notify() async throws {
        var request = HTTPClientRequest(url: baseURL + FederationAPI.notifyPath)
        request.method = .POST
        _ = try await send(request)
    }

    private func send(_ request: HTTPClientRequest, timeout: TimeAmount? = nil) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: timeout ?? self.timeout) } catch {
            throw SyncError.unreachable(Self.describe(error))
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
