import AcesCore
import AcesNodeFiles
import AcesStore
import Foundation

/// The chapter admin's write path, shared by the CLI and the admin API: each change is
/// validated, then authored as one signed entry.
///
/// ```swift
/// let editor = try Editor(directory: dir, store: dir.openStore())
/// let zoe = try editor.addMember(["email": "zoe@example.fr", "name": "Zoë Martin"])
/// ```
public struct Editor: Sendable {
    public let directory: NodeDirectory
    public let store: Store

    public init(directory: NodeDirectory, store: Store) {
        self.directory = directory
        self.store = store
    }

    /// Fields set by the node or by conflict resolution, never by an edit.
    static let managed: Set<String> = ["chapter", "merged_into"]

    /// Why a raw field value was refused: the field is not one an edit sets, or its value is wrong.
    /// Each front end words it its own way (the CLI names options, the API fields).
    public enum FieldInputError: Error, Sendable, Equatable, CustomStringConvertible {
        case unknownField(RecordKind, String)
        case value(FieldError)

        public var description: String {
            switch self {
            case .unknownField(let kind, let name): "\(kind.rawValue) has no field '\(name.prefix(40))' that can be set"
            case .value(let e): e.description
            }
        }
    }

    /// The one field check of every edit (CLI, admin API, forms): each name must be a field an
    /// edit may set, each value valid for it; `null` clears an optional field.
    public static func checked(_ kind: RecordKind, _ raw: [String: JSONValue]) throws(FieldInputError) -> [String: JSONValue] {
        var out = [String: JSONValue]()
        for (name, value) in raw {
            guard let spec = kind.field(name), !managed.contains(name) else { throw .unknownField(kind, name) }
            do { out[name] = try spec.validate(value) } catch { throw .value(error) }
        }
        return out
    }

    /// Checks field values by name; `null` clears an optional field (`checked`, as a `StoreError`).
    public static func validated(_ kind: RecordKind, _ raw: [String: JSONValue]) throws -> [String: JSONValue] {
        do { return try checked(kind, raw) } catch { throw StoreError.invalid(error.description) }
    }

    /// Adds a member to this node's chapter; visibility defaults to `members`, status to `active`.
    public func addMember(_ raw: [String: JSONValue]) throws -> Record {
        var values = try Editor.validated(.member, raw)
        for required in ["email", "name"] where (values[required] ?? .null) == .null {
            throw StoreError.invalid("\(required) is required")
        }
        values["chapter"] = .string(directory.chapter.rawValue)
        if values["visibility"] == nil { values["visibility"] = "members" }
        if values["status"] == nil { values["status"] = "active" }
        let author = try directory.author()
        let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
        try store.author(as: author) { draft in
            if let email = values["email"]?.stringValue, let other = try draft.memberIDs(withEmail: email).first {
                throw StoreError.duplicateEmail(existing: other)
            }
            return [.set(.member, id: id, values: values.filter { $0.value != .null })]
        }
        return try fetch(.member, id)
    }

    /// Changes fields of a member; unchanged values write nothing, unless the field is in conflict
    /// (writing the value shown then settles the conflict).
    public func updateMember(_ id: String, _ raw: [String: JSONValue]) throws -> Record {
        let values = try Editor.validated(.member, raw)
        guard !values.isEmpty else { throw StoreError.invalid("name at least one field to change") }
        try store.author(as: try directory.author()) { draft in
            guard let r = try draft.record(.member, id: id), !r.removed else { throw StoreError.notFound(.member, id) }
            if let email = values["email"]?.stringValue, let other = try draft.memberIDs(withEmail: email).first(where: { $0 != id }) {
                throw StoreError.duplicateEmail(existing: other)
            }
            let changed = r.changes(values)
            return changed.isEmpty ? [] : [.set(.member, id: id, values: changed)]
        }
        return try fetch(.member, id)
    }

    /// Removes a record with a signed tombstone.
    public func remove(_ kind: RecordKind, id: String) throws {
        try store.author(as: try directory.author()) { draft in
            guard let r = try draft.record(kind, id: id), !r.removed else { throw StoreError.notFound(kind, id) }
            return [.delete(kind, id: id)]
        }
    }

    /// Erases a member for good (see `Store.erase`); the reason stays on this node.
    @discardableResult
    public func eraseMember(_ id: String, reason: String) throws -> Entry {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= 500 else {
            throw StoreError.invalid("give a reason of 1 to 500 bytes of UTF-8 (no personal data)")
        }
        return try store.erase(.member, id: id, reason: reason, as: try directory.author())
    }

    /// Event values with times read (`eventTimes`) and every field checked, as a `StoreError`.
    public static func eventValues(_ raw: [String: JSONValue], current: Record?) throws -> [String: JSONValue] {
        let timed: [String: JSONValue]
        do { timed = try eventTimes(raw, current: current) } catch { throw StoreError.invalid(error.description) }
        return try validated(.event, timed)
    }

    /// Reads an event's times, for every door (the CLI words the errors for its options): `start`
    /// and `end` are instants (`2027-03-14T17:30:00Z`) or local wall times (`2027-03-14T18:30`) in
    /// the event's `timezone` (the one given, or the event's own), which must be a known IANA
    /// zone; a wall time that does not exist there (a daylight-saving gap) is refused; the event
    /// must end after it starts. Other fields are returned as given.
    public static func eventTimes(_ raw: [String: JSONValue], current: Record?) throws(EventTimeError) -> [String: JSONValue] {
        var raw = raw
        if let tz = raw["timezone"]?.stringValue, !IANATimeZone.isKnown(tz) { throw .unknownZone(tz) }
        let zone = raw["timezone"]?.stringValue ?? current?.values["timezone"]?.stringValue
        for name in ["start", "end"] {
            guard let text = raw[name]?.stringValue, Instant.parse(text) == nil else { continue }
            guard let zone else { throw .zoneRequired(field: name) }
            guard let date = Instant.fromLocal(text, zone: zone) else { throw .notATime(field: name, text: text, zone: zone) }
            raw[name] = .string(Instant.format(date))
        }
        let s = raw["start"]?.stringValue ?? current?.values["start"]?.stringValue
        let e = raw["end"]?.stringValue ?? current?.values["end"]?.stringValue
        if let s, let e, let sd = Instant.parse(s), let ed = Instant.parse(e), ed <= sd { throw .endNotAfterStart }
        return raw
    }

    /// Adds an event organised by this node's chapter.
    public func addEvent(_ raw: [String: JSONValue]) throws -> Record {
        var values = try Editor.eventValues(raw, current: nil)
        for required in ["title", "start", "end", "timezone"] where (values[required] ?? .null) == .null {
            throw StoreError.invalid("\(required) is required")
        }
        values["chapter"] = .string(directory.chapter.rawValue)
        if values["status"] == nil { values["status"] = "scheduled" }
        let author = try directory.author()
        let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
        try store.author(as: author) { _ in [.set(.event, id: id, values: values.filter { $0.value != .null })] }
        return try fetch(.event, id)
    }

    /// Changes fields of an event; times as in `eventValues`.
    public func updateEvent(_ id: String, _ raw: [String: JSONValue]) throws -> Record {
        guard !raw.isEmpty else { throw StoreError.invalid("name at least one field to change") }
        try store.author(as: try directory.author()) { draft in
            guard let r = try draft.record(.event, id: id), !r.removed else { throw StoreError.notFound(.event, id) }
            let changed = r.changes(try Editor.eventValues(raw, current: r))
            return changed.isEmpty ? [] : [.set(.event, id: id, values: changed)]
        }
        return try fetch(.event, id)
    }

    /// Marks an event cancelled; it stays in the calendar, marked.
    public func cancelEvent(_ id: String) throws -> Record {
        try updateEvent(id, ["status": "cancelled"])
    }

    private func fetch(_ kind: RecordKind, _ id: String) throws -> Record {
        guard let r = try store.record(kind, id: id) else { throw StoreError.notFound(kind, id) }
        return r
    }
}

/// Why an event's times cannot be read. `description` words it for the admin API; the CLI words it
/// for its options.
public enum EventTimeError: Error, Equatable, CustomStringConvertible {
    case unknownZone(String)
    case zoneRequired(field: String)
    case notATime(field: String, text: String, zone: String)
    case endNotAfterStart

    public var description: String {
        switch self {
        case .unknownZone(let tz): "timezone '\(tz.prefix(60))' is not a known IANA time zone (for example Europe/Paris)"
        case .zoneRequired(let field): "timezone is required with a local \(field) time"
        case .notATime(let field, let text, let zone):
            "\(field) '\(text.prefix(40))' is neither an instant like 2027-03-14T17:30:00Z nor a local time like 2027-03-14T18:30 that exists in \(zone)"
        case .endNotAfterStart: "the event must end after it starts"
        }
    }
}
