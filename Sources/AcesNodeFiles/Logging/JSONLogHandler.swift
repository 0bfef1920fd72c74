import AcesCore
import Foundation
import Logging
import NIOConcurrencyHelpers

/// A swift-log handler writing one JSON object per line to standard error, for log shippers:
/// `{"time":"…","level":"info","label":"aces","message":"sync pass","aces.peer":"uk",…}`.
/// Metadata keys are namespaced (`aces.*`, `hb.*`); values are ids and counts, never personal data.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    private static let lock = NIOLock()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o: [String: JSONValue] = [
            "time": .string(JSONLogHandler.timestamp()), "level": .string(event.level.rawValue), "label": .string(label),
            "message": .string("\(event.message)"),
        ]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { o[k] = .string("\(v)") }
        if o["source"] == nil { o["source"] = .string(event.source) }
        var line = CanonicalJSON.encode(.object(o))
        line.append(10)
        JSONLogHandler.lock.withLock { FileHandle.standardError.write(Data(line)) }
    }

    static func timestamp() -> String {
        let now = Date()
        let ms = Int(now.timeIntervalSince1970 * 1000) % 1000
        let base = Instant.format(now).dropLast()
        return base + "." + String(format: "%03d", ms) + "Z"
    }
}
