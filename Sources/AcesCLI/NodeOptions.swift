import AcesCore
import AcesNodeFiles
import AcesStore
import ArgumentParser
import Foundation

/// `--data DIR` (or `ACES_DATA`), shared by every command that works on a node.
public struct NodeOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp("The node's data directory (default: $ACES_DATA).", valueName: "dir"))
    var data: String?

    public init() {}

    var path: String {
        get throws {
            if let data { return data }
            if let env = ProcessInfo.processInfo.environment["ACES_DATA"], !env.isEmpty { return env }
            throw ValidationError("name the node's data directory with --data DIR or the ACES_DATA environment variable")
        }
    }

    public func validate() throws { _ = try path }

    /// The node's directory; a clear error when it is not one.
    public func node() throws -> NodeDirectory { try NodeDirectory.open(try path) }
}

/// `--json`, on every listing and `show`.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

/// Writes to standard output.
public enum Out {
    public static func line(_ s: String = "") { print(s) }

    static func json(_ v: JSONValue) {
        print(String(decoding: CanonicalJSON.encode(v), as: UTF8.self))
    }

    /// A plain-text table with a header row, columns padded to their widest cell.
    public static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func fmt(_ r: [String]) -> String {
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(fmt(header))
        for r in rows { print(fmt(r)) }
    }
}

extension JSONValue {
    /// The value as a person reads it in a table or `show`.
    var display: String {
        switch self {
        case .null: ""
        case .string(let s): s
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): b ? "yes" : "no"
        case .array(let a): a.map(\.display).joined(separator: ", ")
        case .object: String(decoding: CanonicalJSON.encode(self), as: UTF8.self)
        }
    }
}
