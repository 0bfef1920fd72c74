import AcesCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The plain answers both listeners give: canonical JSON, a JSON problem with one sentence, plain
/// text.
public enum HTTPAnswer {
    public static func json(_ v: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(v)))
        )
    }

    /// An error as `{"error": sentence}`.
    public static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": .string(message)], status: status)
    }

    public static func plain(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension Response {
    /// No scripts at all, styles from this node only, never framed.
    public static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]
}
