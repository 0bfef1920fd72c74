import AcesCore
import AcesStore

/// How an operator chose to settle one conflict: keep a chapter's side, write a value (as text,
/// read for the field's type, or as JSON of the field's own type), or keep one member of a
/// duplicate identity.
public enum SettlementChoice: Sendable, Equatable {
    /// Keep the side written by this chapter (field and delete conflicts).
    case take(ChapterID)
    /// Write this value, typed as text (`settlementValue`; field conflicts).
    case value(String)
    /// Write this value, as JSON of the field's own type, as the admin API takes it: `null`
    /// clears an optional field (field conflicts).
    case json(JSONValue)
    /// Keep this member and retire the other duplicate(s) (duplicate identities).
    case mergeInto(String)
}

/// Why a conflict was not settled; nothing was written. The door (CLI, API) words it.
public enum SettlementError: Error, Equatable {
    /// No open conflict has this id: settled already, or changed by a newer edit.
    case gone(String)
    /// An empty value for a field that is required.
    case requiredValue(field: String)
    /// A value the conflict's field refuses.
    case invalidValue(FieldError)
    /// No side of the conflict was written by this chapter; `sides` are the chapters that wrote one.
    case noSide(ChapterID, sides: [String])
    /// The choice does not settle a conflict of this kind (a value for a delete conflict, a
    /// survivor for a field conflict, a side for a duplicate); `records` are the conflict's.
    case doesNotFit(Conflict.Kind, records: [String])
    /// The survivor named is not one of the duplicates (`records`).
    case notADuplicate(String, records: [String])
}

extension Editor {
    /// Settles one open conflict with a signed entry whose base is every current head: it closes
    /// the conflict on every node it reaches. Who may settle what is the store's rule
    /// (`Store.maySettle`).
    /// Returns the signed entry written (nil if the settlement had nothing to write).
    @discardableResult
    public func settle(conflict id: String, _ choice: SettlementChoice) throws -> Entry? {
        try store.author(as: try directory.author()) { draft in
            guard let c = try draft.conflict(id: id) else { throw SettlementError.gone(id) }
            return try draft.mutations(resolving: c, with: try Editor.resolution(choice, for: c))
        }
    }

    /// The resolution `choice` asks for, once it is known to fit the conflict: a side that exists,
    /// a value the field accepts, a survivor among the duplicates.
    static func resolution(_ choice: SettlementChoice, for c: Conflict) throws(SettlementError) -> Resolution {
        let spec = c.field.flatMap { c.recordKind.field($0) }
        switch (c.kind, choice) {
        case (.field, .take(let origin)), (.delete, .take(let origin)):
            guard c.candidates.contains(where: { $0.version.origin == origin }) else {
                throw .noSide(origin, sides: Array(Set(c.candidates.map(\.version.origin.rawValue))).sorted())
            }
            return .take(origin)
        case (.field, .value(let text)):
            return .value(try Editor.fieldValue(try Editor.settlementValue(text, field: spec), spec))
        case (.field, .json(let value)):
            return .value(try Editor.fieldValue(value, spec))
        case (.duplicate, .mergeInto(let survivor)):
            guard c.records.contains(survivor.lowercased()) else { throw .notADuplicate(survivor, records: c.records) }
            return .mergeInto(survivor.lowercased())
        default:
            throw .doesNotFit(c.kind, records: c.records)
        }
    }

    /// `value` checked and normalised for the conflict's field.
    private static func fieldValue(_ value: JSONValue, _ spec: FieldSpec?) throws(SettlementError) -> JSONValue {
        guard let spec else { return value }
        do { return try spec.validate(value) } catch { throw .invalidValue(error) }
    }

    /// Settles every open field and delete conflict with its automatic winner; duplicate
    /// identities need a chosen survivor and are left, counted.
    public func settleAllWithAutomaticWinners() throws -> BulkSettlement {
        try store.settleAllWithAutomaticWinners(as: try directory.author())
    }

    /// A value typed as text, read for its field: a number for a count, a comma-separated list
    /// for links; an empty text clears an optional field and is refused for a required one.
    public static func settlementValue(_ text: String, field: FieldSpec?) throws(SettlementError) -> JSONValue {
        if TextTrim.trimmed(text).isEmpty {
            guard let field, !field.required else { throw .requiredValue(field: field?.name ?? "this field") }
            return .null
        }
        switch field?.type {
        case .count?: return Int(text).map { .number(Double($0)) } ?? .string(text)
        case .urlList?: return .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
        default: return .string(text)
        }
    }
}
