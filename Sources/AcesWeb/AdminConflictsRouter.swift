import AcesCore
import AcesHTTP
import AcesStore
import AcesWorkflows
import Foundation
import Hummingbird

/// `/admin/v1/conflicts…`: an operator's conflicts over HTTP, as `aces conflicts list|show|resolve`
/// give them: the same JSON, the same settlements through `Editor` on the write thread, so each is
/// a signed entry that closes the conflict on every node it reaches (docs/CONFLICTS.md).
enum AdminConflictsRouter {
    static func add(to router: Router<BasicRequestContext>, site: Site, editor: Editor) {
        router.get("/admin/v1/conflicts") { request, _ -> Response in
            try await AdminRouter.admin(request, site) {
                let p = try Parameters(request.uri.query)
                try p.only(["kind", "chapter"])
                var kind: Conflict.Kind?
                if let k = p["kind"] {
                    guard let known = Conflict.Kind(rawValue: k) else {
                        throw WebError.badRequest("'kind' must be field, delete or duplicate")
                    }
                    kind = known
                }
                var chapter: ChapterID?
                if let c = p["chapter"] {
                    guard let id = ChapterID(c) else { throw WebError.badRequest("'chapter': \(ChapterID.rule)") }
                    chapter = id
                }
                let open = try await site.store.openConflicts(kind: kind, chapter: chapter)
                return HTTPAnswer.json(["items": .array(open.map { $0.conflict.json(maySettle: $0.maySettle) })])
            }
        }
        router.get("/admin/v1/conflicts/:id") { request, context -> Response in
            try await AdminRouter.admin(request, site) {
                let id = try conflictID(context)
                guard let open = try await site.store.openConflict(id: id) else { throw gone(id) }
                return HTTPAnswer.json(open.conflict.json(maySettle: open.maySettle))
            }
        }
        router.post("/admin/v1/conflicts/:id/settle") { request, context -> Response in
            try await AdminRouter.admin(request, site) {
                let id = try conflictID(context)
                let choice = try settlementChoice(try await AdminRouter.object(request))
                do {
                    guard let entry = try await WriteQueue.run({ try editor.settle(conflict: id, choice) }) else { throw gone(id) }
                    let v = entry.envelope.version
                    return HTTPAnswer.json([
                        "id": .string(id), "entry": .string(v.description), "origin": .string(v.origin.rawValue),
                        "seq": .number(Double(v.seq)),
                    ])
                } catch let e as SettlementError {
                    throw webError(e)
                }
            }
        }
        router.post("/admin/v1/conflicts/settle-automatic") { request, _ -> Response in
            try await AdminRouter.admin(request, site) {
                let done = try await WriteQueue.run { try editor.settleAllWithAutomaticWinners() }
                let left: [JSONValue] = done.left.map {
                    ["id": .string($0.id), "kind": .string($0.kind.rawValue), "reason": .string($0.reason.rawValue)]
                }
                return HTTPAnswer.json([
                    "settled": .number(Double(done.settled)), "entries": .number(Double(done.entries)),
                    "left": .number(Double(left.count)), "left_conflicts": .array(left),
                ])
            }
        }
    }

    /// A conflict id from the path: 12 lowercase hex digits, else no such conflict.
    static func conflictID(_ context: BasicRequestContext) throws(WebError) -> String {
        let id = context.parameters.get("id") ?? ""
        guard id.utf8.count == 12, id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { throw gone(id) }
        return id
    }

    static func gone(_ id: String) -> WebError {
        WebError(
            status: .notFound,
            description:
                "no open conflict \(id.prefix(40)): it may have been settled or changed by a newer edit (GET /admin/v1/conflicts lists the open ones)"
        )
    }

    /// The body of a settlement: exactly one of `take` (a chapter id), `value` (JSON of the
    /// field's own type; `null` clears an optional field) or `merge_into` (a member id).
    static func settlementChoice(_ body: [String: JSONValue]) throws(WebError) -> SettlementChoice {
        let usage = "send exactly one of {\"take\": CHAPTER}, {\"value\": VALUE} or {\"merge_into\": MEMBER_ID}"
        if let unknown = body.keys.sorted().first(where: { !["take", "value", "merge_into"].contains($0) }) {
            throw .badRequest("unknown field '\(unknown.prefix(40))': \(usage)")
        }
        guard body.count == 1, let (name, value) = body.first else { throw .badRequest(usage) }
        switch name {
        case "take":
            guard let text = value.stringValue, let chapter = ChapterID(text) else { throw .badRequest("'take': \(ChapterID.rule)") }
            return .take(chapter)
        case "merge_into":
            guard let text = value.stringValue, RecordID.isValid(text.lowercased()) else {
                throw .badRequest("'merge_into' must be the id of one of the duplicate members (a lowercase UUID)")
            }
            return .mergeInto(text)
        default:
            return .json(value)
        }
    }

    /// A settlement refused by `Editor`, worded for the API's fields.
    static func webError(_ e: SettlementError) -> WebError {
        switch e {
        case .gone(let id): return gone(id)
        case .requiredValue(let field): return .badRequest("'value': \(field) is required and cannot be cleared")
        case .invalidValue(let e): return .badRequest("'value': \(e)")
        case .noSide(let origin, let sides):
            return .badRequest("'take': no side of this conflict was written by '\(origin)' (sides: \(sides.joined(separator: ", ")))")
        case .notADuplicate(let survivor, let records):
            return .badRequest(
                "'merge_into': \(survivor.prefix(40)) is not one of the duplicates (\(records.joined(separator: ", ")))")
        case .doesNotFit(.field, _):
            return .badRequest("a field conflict is settled with {\"take\": CHAPTER} or {\"value\": VALUE}")
        case .doesNotFit(.delete, _):
            return .badRequest("a delete conflict is settled with {\"take\": CHAPTER} (the deleting or the editing chapter)")
        case .doesNotFit(.duplicate, let records):
            return .badRequest(
                "a duplicate identity is settled with {\"merge_into\": MEMBER_ID} (one of \(records.joined(separator: ", ")))")
        }
    }
}
