import AcesCore

/// The OpenAPI 3.1 description of `/api/v1` and `/admin/v1`, served at `/api/v1/openapi.json`.
/// A test calls every operation it lists and checks the answers against these schemas.
enum OpenAPIDocument {
    static func document(serverURL: String) -> JSONValue {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "Aces node API", "version": "1.0.0",
                "description": .string(
                    "The Europe-wide member directory and event calendar as one node holds them. Public reads show what the caller may see: public members to everyone, members-only profiles to signed-in members (session cookie from a sign-in link), chapter-only profiles to members of that chapter. The admin API needs a bearer token from 'aces admin token create'; every write becomes a signed entry of this node's chapter."
                ),
            ],
            "servers": [["url": .string(serverURL)]],
            "paths": paths,
            "components": [
                "securitySchemes": [
                    "adminToken": ["type": "http", "scheme": "bearer"],
                    "session": ["type": "apiKey", "in": "cookie", "name": "aces_session"],
                ],
                "schemas": .object((schemas.objectValue ?? [:]).merging(conflictSchemas) { a, _ in a }),
            ],
        ]
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static func response(_ description: String, _ schema: String? = nil) -> JSONValue {
        guard let schema else { return ["description": .string(description)] }
        return ["description": .string(description), "content": ["application/json": ["schema": ref(schema)]]]
    }

    static func query(_ name: String, _ description: String, _ schema: JSONValue) -> JSONValue {
        ["name": .string(name), "in": "query", "required": false, "description": .string(description), "schema": schema]
    }

    static let idParameter: JSONValue = [
        "name": "id", "in": "path", "required": true, "description": "A record id (lowercase UUID).",
        "schema": ["type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"],
    ]
    static let conflictIDParameter: JSONValue = [
        "name": "id", "in": "path", "required": true, "description": "A conflict id, as GET /admin/v1/conflicts lists it.",
        "schema": ["type": "string", "pattern": "^[0-9a-f]{12}$"],
    ]
    static let limit = query("limit", "Page size, 1 to 100 (default 20).", ["type": "integer", "minimum": 1, "maximum": 100])
    static let cursor = query("cursor", "The next_cursor of the previous page.", ["type": "string"])
    static let chapter = query("chapter", "Only this chapter (an id from /api/v1/chapters).", ["type": "string"])
    static let bad = response("Malformed parameters, with one sentence saying which.", "Error")
    static let missing = response("Unknown id, or not visible to the caller.", "Error")
    static let unauthorized = response("No valid admin token.", "Error")
    static let admin: JSONValue = [["adminToken": []]]

    static func body(_ schema: String) -> JSONValue {
        ["required": true, "content": ["application/json": ["schema": ref(schema)]]]
    }

    static func write(_ summary: String, _ body: String?, _ ok: (String, String?), extra: [String: JSONValue] = [:]) -> JSONValue {
        var responses: [String: JSONValue] = [
            ok.0: response("Done.", ok.1), "400": bad, "401": unauthorized, "404": missing,
            "413": response("The body is larger than 64 KiB.", "Error"),
            "415": response("The body is not application/json.", "Error"),
        ]
        for (k, v) in extra { responses[k] = v }
        var op: [String: JSONValue] = ["summary": .string(summary), "security": admin, "responses": .object(responses)]
        if let body { op["requestBody"] = self.body(body) }
        return .object(op)
    }

    static var paths: JSONValue {
        let conflict = response("Another member has this email.", "Error")
        return [
            "/api/v1/members": [
                "get": [
                    "summary": "Search the directory",
                    "parameters": [
                        query(
                            "q", "Words, matched as prefixes in name, organisation, role, city and bio; accents and case folded.",
                            ["type": "string", "maxLength": 200]),
                        chapter, query("country", "Two-letter country code.", ["type": "string", "pattern": "^[A-Za-z]{2}$"]), limit,
                        cursor,
                    ],
                    "responses": ["200": response("A page of members, sorted by name.", "MemberList"), "400": bad],
                ]
            ],
            "/api/v1/members/{id}": [
                "get": [
                    "summary": "One member", "parameters": [idParameter],
                    "responses": ["200": response("The member.", "Member"), "404": missing],
                ]
            ],
            "/api/v1/events": [
                "get": [
                    "summary": "Upcoming events",
                    "parameters": [
                        chapter,
                        query("from", "Events ending at or after this day or instant (default: now).", ["type": "string"]),
                        query("to", "Events starting before this day or instant.", ["type": "string"]),
                        query(
                            "include_cancelled", "Whether cancelled events are listed (default true).",
                            ["type": "string", "enum": ["true", "false"]]),
                        limit, cursor,
                    ],
                    "responses": ["200": response("A page of events, by start.", "EventList"), "400": bad],
                ]
            ],
            "/api/v1/events/{id}": [
                "get": [
                    "summary": "One event", "parameters": [idParameter],
                    "responses": ["200": response("The event.", "Event"), "404": missing],
                ]
            ],
            "/api/v1/chapters": [
                "get": ["summary": "The chapters of the federation", "responses": ["200": response("Chapters.", "ChapterList")]]
            ],
            "/api/v1/status": [
                "get": ["summary": "Which chapter's node this is, and that it is up", "responses": ["200": response("Up.", "Status")]]
            ],
            "/admin/v1/members": [
                "post": write("Add a member to this node's chapter", "MemberInput", ("201", "AdminRecord"), extra: ["409": conflict])
            ],
            "/admin/v1/members/{id}": [
                "parameters": [idParameter],
                "get": write("One member with every field", nil, ("200", "AdminRecord")),
                "patch": write(
                    "Change fields of a member (null clears one)", "MemberInput", ("200", "AdminRecord"), extra: ["409": conflict]),
                "delete": write("Remove a member (a signed tombstone)", nil, ("204", nil)),
            ],
            "/admin/v1/members/{id}/erase": [
                "parameters": [idParameter],
                "post": write("Erase a member for good (GDPR Art. 17)", "EraseInput", ("200", "Erased")),
            ],
            "/admin/v1/members/{id}/history": [
                "parameters": [idParameter],
                "get": write("Every change to a member: when, which chapter, by the member or an admin", nil, ("200", "MemberHistory")),
            ],
            "/admin/v1/erasure-requests": [
                "get": write(
                    "Erasures members asked for from their profile (pending; ?all=true for every one)", nil, ("200", "ErasureRequests"))
            ],
            "/admin/v1/erasure-requests/{id}/decline": [
                "parameters": [idParameter],
                "post": write("Decline a member's pending erasure request", nil, ("204", nil)),
            ],
            "/admin/v1/events": ["post": write("Add an event of this node's chapter", "EventInput", ("201", "AdminRecord"))],
            "/admin/v1/events/{id}": [
                "parameters": [idParameter],
                "get": write("One event with every field", nil, ("200", "AdminRecord")),
                "patch": write("Change fields of an event (null clears one)", "EventInput", ("200", "AdminRecord")),
                "delete": write("Remove an event", nil, ("204", nil)),
            ],
            "/admin/v1/events/{id}/cancel": [
                "parameters": [idParameter],
                "post": write("Mark an event cancelled", nil, ("200", "AdminRecord")),
            ],
            "/admin/v1/conflicts": [
                "get": conflictRead(
                    "Open conflicts, as 'aces conflicts list --json' lists them, each with may_settle", "ConflictList",
                    parameters: [
                        query("kind", "Only this kind.", ["type": "string", "enum": ["field", "delete", "duplicate"]]),
                        query("chapter", "Only conflicts about records of this chapter.", ["type": "string"]),
                    ])
            ],
            "/admin/v1/conflicts/{id}": [
                "parameters": [conflictIDParameter],
                "get": conflictRead("One open conflict, as 'aces conflicts show --json' shows it, with may_settle", "Conflict"),
            ],
            "/admin/v1/conflicts/{id}/settle": [
                "parameters": [conflictIDParameter],
                "post": write(
                    "Settle an open conflict with a signed entry whose base is every side", "SettleInput", ("200", "Settled"),
                    extra: [
                        "403": response("This chapter may not settle it: the record's owner or a steward does.", "Error"),
                        "404": goneConflict,
                    ]),
            ],
            "/admin/v1/conflicts/settle-automatic": [
                "post": [
                    "summary": "Settle every open field and delete conflict this chapter may settle with its automatic winner",
                    "security": admin,
                    "responses": [
                        "200": response("Done, with each conflict left open and why.", "BulkSettlement"), "401": unauthorized,
                    ],
                ]
            ],
        ]
    }

    static let goneConflict = response("No open conflict has this id: settled already, or changed by a newer edit.", "Error")

    static func conflictRead(_ summary: String, _ schema: String, parameters: [JSONValue] = []) -> JSONValue {
        var responses: [String: JSONValue] = ["200": response("Done.", schema), "401": unauthorized]
        responses[parameters.isEmpty ? "404" : "400"] = parameters.isEmpty ? goneConflict : bad
        var op: [String: JSONValue] = ["summary": .string(summary), "security": admin, "responses": .object(responses)]
        if !parameters.isEmpty { op["parameters"] = .array(parameters) }
        return .object(op)
    }

    static var conflictSchemas: [String: JSONValue] {
        let integer: JSONValue = ["type": "integer"]
        let side = object(
            [
                "version": ["type": "string", "description": "The entry that wrote this side, origin:seq."], "origin": text,
                "time": text, "key": text, "action": ["type": "string", "enum": ["set", "delete", "erase"]], "record": text,
                "value": ["description": "The value written (field conflicts); null for a removal or an erased value."],
                "winner": ["type": "boolean", "description": "Whether this side is the automatic winner."],
                "fields": ["type": ["object", "null"], "description": "Every value of the member (duplicate identities)."],
                "replaced": [
                    "type": "array",
                    "items": object(["version": text, "value": ["description": "The value replaced."]], required: ["version"]),
                ],
            ], required: ["version", "origin", "time", "key", "action", "record", "winner", "replaced"])
        return [
            "ConflictSide": side,
            "Conflict": object(
                [
                    "id": text, "kind": ["type": "string", "enum": ["field", "delete", "duplicate"]],
                    "record_kind": ["type": "string", "enum": ["member", "event"]], "records": ["type": "array", "items": text],
                    "field": optionalText, "chapter": optionalText,
                    "label": ["type": ["string", "null"], "description": "The member's name or the event's title."],
                    "sides": ["type": "array", "items": ref("ConflictSide")], "settled_by": ["type": ["object", "null"]],
                    "may_settle": ["type": "boolean", "description": "Whether this node's chapter may settle it (docs/CONFLICTS.md)."],
                ], required: ["id", "kind", "record_kind", "records", "field", "chapter", "label", "sides", "may_settle"]),
            "ConflictList": object(["items": ["type": "array", "items": ref("Conflict")]], required: ["items"]),
            "SettleInput": [
                "type": "object",
                "description":
                    "Exactly one: take keeps the side written by that chapter (field and delete conflicts); value writes a value of the field's own type, null clearing an optional field (field conflicts); merge_into keeps that member of a duplicate identity and retires the other(s).",
                "properties": ["take": text, "value": ["description": "A value of the field's own type."], "merge_into": text],
                "minProperties": 1, "maxProperties": 1, "additionalProperties": false,
            ],
            "Settled": object(
                [
                    "id": text, "entry": ["type": "string", "description": "The signed entry written, origin:seq."], "origin": text,
                    "seq": integer,
                ], required: ["id", "entry", "origin", "seq"]),
            "BulkSettlement": object(
                [
                    "settled": integer, "entries": integer, "left": integer,
                    "left_conflicts": [
                        "type": "array",
                        "items": object(
                            [
                                "id": text, "kind": ["type": "string", "enum": ["field", "delete", "duplicate"]],
                                "reason": ["type": "string", "enum": ["needs_survivor", "owner_settles", "still_open"]],
                            ], required: ["id", "kind", "reason"]),
                    ],
                ], required: ["settled", "entries", "left", "left_conflicts"]),
        ]
    }

    static func object(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })]
    }

    static let text: JSONValue = ["type": "string"]
    static let optionalText: JSONValue = ["type": ["string", "null"]]
    static let total: JSONValue = ["type": "integer", "description": "How many matched, counted up to 1000.", "maximum": 1000]
    static let exact: JSONValue = ["type": "boolean", "description": "False when more than 1000 matched."]
    static let links: JSONValue = ["type": "array", "items": ["type": "string", "format": "uri"], "maxItems": 10]

    static var schemas: JSONValue {
        [
            "Error": object(["error": text], required: ["error"]),
            "Member": object(
                [
                    "id": text, "chapter": text, "name": text, "organisation": optionalText, "role": optionalText, "city": optionalText,
                    "country": optionalText, "bio": optionalText, "links": links,
                    "email": ["type": ["string", "null"], "description": "Only for signed-in members, unless the member hides it."],
                    "profile_url": text,
                    "vcard_url": text,
                ],
                required: ["id", "chapter", "name", "organisation", "role", "city", "country", "bio", "links", "profile_url", "vcard_url"]),
            "MemberList": object(
                [
                    "items": ["type": "array", "items": ref("Member")], "total": total, "total_is_exact": exact,
                    "next_cursor": optionalText,
                ],
                required: ["items", "total", "total_is_exact", "next_cursor"]),
            "Event": object(
                [
                    "id": text, "chapter": text, "title": text, "description": optionalText,
                    "start": ["type": "string", "description": "UTC instant, 2027-03-14T17:30:00Z"], "end": text, "timezone": text,
                    "local_start": ["type": "string", "description": "Wall time in the event's zone, 2027-03-14T18:30"],
                    "local_end": text, "zone_abbreviation": text, "venue": optionalText, "url": optionalText,
                    "capacity": ["type": ["integer", "null"]], "status": ["type": "string", "enum": ["scheduled", "cancelled"]],
                    "sequence": ["type": "integer"], "page_url": text, "ics_url": text,
                ],
                required: ["id", "chapter", "title", "start", "end", "timezone", "status", "sequence", "page_url", "ics_url"]),
            "EventList": object(
                ["items": ["type": "array", "items": ref("Event")], "total": total, "total_is_exact": exact, "next_cursor": optionalText],
                required: ["items", "total", "total_is_exact", "next_cursor"]),
            "ChapterList": object(
                [
                    "items": [
                        "type": "array",
                        "items": object(
                            ["id": text, "name": text, "country": text, "timezone": text], required: ["id", "name", "country", "timezone"]),
                    ]
                ], required: ["items"]),
            "Status": object(["chapter": text, "status": ["type": "string", "enum": ["up"]]], required: ["chapter", "status"]),
            "MemberInput": [
                "type": "object",
                "description":
                    "Field values by name; null clears an optional field. email and name are required to add. Text limits count bytes of UTF-8 (name 200, bio 4000).",
                "properties": [
                    "email": text, "name": text, "organisation": optionalText, "role": optionalText, "city": optionalText,
                    "country": optionalText, "bio": optionalText, "links": links,
                    "visibility": ["type": "string", "enum": ["public", "members", "chapter"]],
                    "email_visibility": ["type": ["string", "null"], "enum": ["members", "hidden", nil]],
                    "status": ["type": "string", "enum": ["active", "inactive"]],
                ],
                "additionalProperties": false,
            ],
            "EventInput": [
                "type": "object",
                "description": "start and end are UTC instants or local wall times (2027-03-14T18:30) in timezone.",
                "properties": [
                    "title": text, "description": optionalText, "start": text, "end": text, "timezone": text, "venue": optionalText,
                    "url": optionalText, "capacity": ["type": ["integer", "null"]],
                    "status": ["type": "string", "enum": ["scheduled", "cancelled"]],
                ],
                "additionalProperties": false,
            ],
            "EraseInput": object(["reason": text], required: ["reason"]),
            "MemberHistory": object(
                [
                    "id": text,
                    "changes": [
                        "type": "array",
                        "items": object(
                            [
                                "entry": text, "chapter": text, "at": text, "by": ["type": "string", "enum": ["member", "admin"]],
                                "action": ["type": "string", "enum": ["set", "delete", "erase"]],
                                "fields": ["type": "array", "items": text], "values": ["type": ["object", "null"]],
                            ], required: ["entry", "chapter", "at", "by", "action", "fields", "values"]),
                    ],
                ], required: ["id", "changes"]),
            "ErasureRequests": object(
                [
                    "items": [
                        "type": "array",
                        "items": object(
                            [
                                "member": text, "requested": text, "state": ["type": "string", "enum": ["pending", "declined", "erased"]],
                                "declined": optionalText,
                            ], required: ["member", "requested", "state", "declined"]),
                    ]
                ], required: ["items"]),
            "Erased": object(["id": text, "entry": text], required: ["id", "entry"]),
            "AdminRecord": [
                "type": "object", "description": "Every field of the record, its open conflicts and revision.",
                "properties": ["id": text, "conflicts": ["type": "array", "items": text], "revision": ["type": "integer"]],
                "required": ["id", "conflicts", "revision"],
            ],
        ]
    }
}
