import Foundation
import Testing

/// The sources follow the committed `.swift-format` (STYLE.md: applied before each commit,
/// checked in CI). Fix with `swift-format format -i -r Sources Tests`.
@Suite(.enabled(if: SwiftFormat.tool != nil, "needs swift-format (part of the Swift toolchain)"))
struct FormatTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func sourcesAndTestsAreFormatted() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(SwiftFormat.tool))
        p.arguments = ["lint", "--recursive", "Sources", "Tests"]
        p.currentDirectoryURL = Self.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && text.isEmpty, "swift-format lint:\n\(text.prefix(4000))")
    }
}

enum SwiftFormat {
    /// swift-format beside the running toolchain's swift, or on the PATH.
    static var tool: String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/opt/swift/usr/bin"]
        return path.map { $0 + "/swift-format" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
