import AcesCore
import AcesStore

/// How an operator chose to settle one conflict, as typed: keep a chapter's side, write a value
/// (as text, read for the field's type), or keep one member of a duplicate identity.
public enum SettlementChoice: Sendable, Equatable {
    case take(ChapterID)
    case value(String)
    case mergeInto(String)
}

/// Why a conflict was not settled. The door (CLI, API) words it.
public enum SettlementError: Error, Equatable {
    /// No open conflict has this id: settled already, or changed by a newer edit.
    case gone(String)
    /// An empty value for a field that is required.
    case requiredValue(field: String)
}

extension Editor {
    /// Settles one open conflict with a signed entry whose base is every current head: it closes
    /// the conflict on every node it reaches. Who may settle what is the store's rule
    /// (`Store.maySettle`).
    public func settle(conflict id: String, _ choice: SettlementChoice) throws {
        try store.author(as: try directory.author()) { draft in
            guard let c = try draft.conflict(id: id) else { throw SettlementError.gone(id) }
            let resolution: Resolution
            switch choice {
            case .take(let origin): resolution = .take(origin)
            case .mergeInto(let survivor): resolution = .mergeInto(survivor.lowercased())
            case .value(let text): resolution = .value(try Editor.settlementValue(text, field: c.field.flatMap { c.recordKind.field($0) }))
            }
            return try draft.mutations(resolving: c, with: resolution)
        }
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
