import Foundation
import Testing

/// The layers of `docs/ARCHITECTURE.md`, checked against the sources: each target imports only
/// the targets below it, and no production target imports the development tools.
@Suite struct ArchitectureTests {
    /// Which of the project's targets each target may import (the graph ARCHITECTURE.md draws).
    static let layers: [String: Set<String>] = [
        "AcesCore": [],
        "AcesFormats": [],
        "AcesStore": ["AcesCore"],
        "AcesNodeFiles": ["AcesCore", "AcesStore"],
        "AcesHTTP": ["AcesCore"],
        "AcesFederation": ["AcesCore", "AcesStore", "AcesNodeFiles", "AcesHTTP"],
        "AcesWorkflows": ["AcesCore", "AcesFormats", "AcesStore", "AcesNodeFiles", "AcesFederation"],
        "AcesWeb": ["AcesCore", "AcesFormats", "AcesStore", "AcesNodeFiles", "AcesHTTP", "AcesFederation", "AcesWorkflows"],
        "AcesServer": ["AcesCore", "AcesStore", "AcesNodeFiles", "AcesHTTP", "AcesFederation", "AcesWorkflows", "AcesWeb"],
        "AcesCLI": ["AcesCore", "AcesFormats", "AcesStore", "AcesNodeFiles", "AcesFederation", "AcesWorkflows", "AcesServer"],
        "AcesDevTools": [
            "AcesCore", "AcesFormats", "AcesStore", "AcesNodeFiles", "AcesHTTP", "AcesFederation", "AcesWorkflows", "AcesWeb",
            "AcesServer", "AcesCLI",
        ],
        "aces": ["AcesCLI", "AcesDevTools"],
    ]

    static let sources = FormatTests.root.appendingPathComponent("Sources")

    /// The project's modules each Swift file of `target` imports, by file.
    static func imports(of target: String) throws -> [(file: String, module: String)] {
        let folder = sources.appendingPathComponent(target)
        let files = try #require(FileManager.default.enumerator(atPath: folder.path)).compactMap { $0 as? String }
        var out = [(String, String)]()
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                if words.count == 2, words[0] == "import", words[1].hasPrefix("Aces") || words[1] == "aces" {
                    out.append(("\(target)/\(file)", String(words[1])))
                }
            }
        }
        return out
    }

    @Test func everyTargetFolderIsALayerAndImportsOnlyTheLayersBelowIt() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { !$0.hasPrefix(".") }
        #expect(Set(folders) == Set(Self.layers.keys), "Sources/ holds exactly the targets ARCHITECTURE.md draws")
        for (target, allowed) in Self.layers {
            for (file, module) in try Self.imports(of: target) {
                #expect(allowed.contains(module), "\(file) imports \(module), which \(target) may not import")
            }
        }
    }

    @Test func noProductionTargetImportsTheDevelopmentTools() throws {
        for target in Self.layers.keys where target != "AcesDevTools" && target != "aces" {
            #expect(try Self.imports(of: target).allSatisfy { $0.module != "AcesDevTools" }, "\(target) imports AcesDevTools")
        }
        // Package.swift says the same: only the executable depends on the development tools.
        let manifest = try String(contentsOf: FormatTests.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = manifest.components(separatedBy: ".target(").dropFirst().map { $0.components(separatedBy: ".testTarget(")[0] }
        for declaration in targets {
            let name = declaration.split(separator: "\"").dropFirst().first.map(String.init) ?? ""
            if name == "AcesDevTools" || name == "AcesTestSupport" { continue }
            #expect(!declaration.contains("\"AcesDevTools\""), "the production target \(name) depends on AcesDevTools")
        }
    }
}
