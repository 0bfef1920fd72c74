import AcesCore
import AcesStore
import Foundation

extension Conflict {
    /// The conflict as every door shows it to an operator (`aces conflicts show --json`, the
    /// admin API's `GET /admin/v1/conflicts/{id}`): its kind, record(s), chapter, label and each
    /// side with its value, origin, time, key and what it replaced; `settled_by` for a settled one.
    ///
    /// ```swift
    /// let shown = try store.conflict(id: "e167b3b039b3")?.json
    /// ```
    public var json: JSONValue {
        func side(_ s: Candidate) -> JSONValue {
            [
                "version": .string(s.version.description), "origin": .string(s.version.origin.rawValue),
                "time": .string(Conflict.time(s.hlc)),
                "key": .string(s.keyID), "action": .string(s.action.rawValue), "record": .string(s.record),
                "value": s.value ?? .null, "winner": .bool(s.isWinner),
                "fields": kind == .duplicate ? .object(s.fields) : .null,
                "replaced": .array(s.replaced.map { ["version": .string($0.version.description), "value": $0.value ?? .null] }),
            ]
        }
        return [
            "id": .string(id), "kind": .string(kind.rawValue), "record_kind": .string(recordKind.rawValue),
            "records": .array(records.map { .string($0) }), "field": field.map { .string($0) } ?? .null,
            "chapter": chapter.map { .string($0) } ?? .null, "label": label.map { .string($0) } ?? .null,
            "sides": .array(candidates.map(side)), "settled_by": settledBy.map(side) ?? .null,
        ]
    }

    /// An open conflict as `aces conflicts list --json` and `GET /admin/v1/conflicts` list it:
    /// `json` with `may_settle`, whether this node's chapter may settle it (`Store.maySettle`).
    public func json(maySettle: Bool) -> JSONValue {
        guard case .object(var o) = json else { return json }
        o["may_settle"] = .bool(maySettle)
        return .object(o)
    }

    /// A side's time as shown to operators: `2031-03-14T17:30:00.000Z`.
    public static func time(_ h: HLC) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(h.millis) / 1000))
    }
}
