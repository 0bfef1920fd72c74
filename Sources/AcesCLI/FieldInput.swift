import AcesCore
import AcesStore
import AcesWorkflows
import ArgumentParser
import Foundation

/// Turns raw command-line values into validated field values, or one clear sentence.
enum FieldInput {
    /// `Editor.checked`, worded for the command line (options, not fields).
    static func validated(_ kind: RecordKind, _ raw: [String: JSONValue]) throws -> [String: JSONValue] {
        do { return try Editor.checked(kind, raw) } catch {
            switch error {
            case .unknownField(let kind, let name): throw ValidationError("\(kind.rawValue) has no field '\(name)'")
            case .value(let e): throw ValidationError("--\(e.field == "links" ? "link" : e.field) \(e.reason)")
            }
        }
    }

    /// `--clear FIELD` values, checked: known, optional fields only.
    static func cleared(_ kind: RecordKind, _ names: [String]) throws -> [String: JSONValue] {
        var out = [String: JSONValue]()
        for name in names {
            guard let spec = kind.field(name) else {
                throw ValidationError("--clear: \(kind.rawValue) has no field '\(name)'")
            }
            guard !spec.required else { throw ValidationError("--clear: \(name) is required and cannot be cleared") }
            out[name] = .null
        }
        return out
    }

    static func recordID(_ kind: RecordKind, _ id: String) throws -> String {
        let id = id.lowercased()
        guard RecordID.isValid(id) else {
            throw ValidationError("'\(id.prefix(60))' is not a \(kind.rawValue) id (ids look like 0193f0c2-7b1e-7c3a-9d2e-5f6a7b8c9d0e)")
        }
        return id
    }

    /// A fresh UUIDv7 for a new record.
    static func newID(_ author: Author) -> String {
        RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
    }
}

/// Shows one record for a person: its fields, then what is in conflict.
enum RecordText {
    static func show(_ r: Record, extra: [(String, String)] = []) {
        let tag = r.state.erased ? "  [erased]" : r.values["merged_into"] != nil ? "  [merged]" : r.removed ? "  [removed]" : ""
        Out.line("\(r.kind.rawValue) \(r.id)\(tag)")
        let rows = r.kind.fields.compactMap { f in r.values[f.name].map { (f.name, $0.display) } } + extra
        let width = rows.map(\.0.count).max() ?? 0
        for (k, v) in rows {
            let lines = v.split(separator: "\n", omittingEmptySubsequences: false)
            Out.line("  " + k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + (lines.first.map(String.init) ?? ""))
            for l in lines.dropFirst() { Out.line("  " + String(repeating: " ", count: width) + "  " + l) }
        }
        let conflicts = r.conflictedFields
        if !conflicts.isEmpty {
            Out.line("  conflict on: \(conflicts.joined(separator: ", ")) (the automatic winner is shown)")
        }
    }
}
